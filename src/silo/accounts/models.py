"""Plain data for accounts and organizational units."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import NewType

from silo.errors import ValidationError

AccountId = NewType("AccountId", str)
"""A 12-digit account id. Make one with ``account_id()`` so it is always checked."""

_ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$")
_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$")
_TAG_KEY = re.compile(r"^[\w.:/=+@-][\w .:/=+@-]{0,127}$")
_TAG_VALUE = re.compile(r"^[\w .:/=+@-]{0,256}$")
MAX_TAGS = 50


class AccountStatus(enum.StrEnum):
    PROVISIONING = "PROVISIONING"  # the account factory is still making it: no key works yet
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    CLOSED = "CLOSED"


@dataclass(frozen=True, slots=True)
class Account:
    account_id: AccountId
    name: str
    owner_email: str
    status: AccountStatus
    ou_id: str
    concurrency_limit: int
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    purge_after: datetime | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OrganizationalUnit:
    ou_id: str
    name: str
    parent_id: str | None
    path: str
    created_at: datetime

    @property
    def is_root(self) -> bool:
        return self.parent_id is None

    @property
    def ancestry(self) -> list[str]:
        """Ids from the root down to and including this OU."""
        return [p for p in self.path.split("/") if p]


def account_id(value: object, *, where: str = "account_id") -> AccountId:
    """Check and brand an account id: exactly 12 digits."""
    if not isinstance(value, str) or not _ACCOUNT_ID.match(value):
        raise ValidationError(f"{where}: an account id is exactly 12 digits, got {value!r}", field=where)
    return AccountId(value)


def check_account_name(name: object, *, where: str = "name") -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValidationError(
            f"{where}: 1-64 characters of letters, digits, space, '.', '_' or '-', starting with a letter "
            f"or digit; got {name!r}",
            field=where,
        )
    return name


def check_email(email: object, *, where: str = "owner_email") -> str:
    if not isinstance(email, str) or len(email) > 254 or not _EMAIL.match(email):
        raise ValidationError(f"{where}: not an email address: {email!r}", field=where)
    return email


def check_tags(tags: object, *, where: str = "tags", platform: bool = False) -> dict[str, str]:
    """Tag rules; ``platform`` lets the platform itself set its reserved ``silo:`` keys."""
    if not isinstance(tags, dict):
        raise ValidationError(f"{where}: expected an object of key -> value", field=where)
    if len(tags) > MAX_TAGS:
        raise ValidationError(f"{where}: at most {MAX_TAGS} tags, got {len(tags)}", field=where)
    for key, value in tags.items():
        reserved = isinstance(key, str) and key.lower().startswith("silo:") and not platform
        if not isinstance(key, str) or not _TAG_KEY.match(key) or reserved:
            raise ValidationError(
                f"{where}: bad tag key {key!r} (1-128 of letters, digits, space and _.:/=+-@; "
                "the prefix 'silo:' is reserved)",
                field=where,
            )
        if not isinstance(value, str) or not _TAG_VALUE.match(value):
            raise ValidationError(f"{where}.{key}: bad tag value {value!r} (0-256 characters)", field=where)
    return dict(tags)
