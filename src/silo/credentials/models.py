"""Plain data for access keys."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from silo.accounts.context import KeyKind
from silo.accounts.models import AccountId


class KeyStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    REVOKED = "REVOKED"


@dataclass(frozen=True, slots=True)
class AccessKey:
    """A key as anyone may see it: never the secret, never its hash."""

    key_id: str
    account_id: AccountId
    kind: KeyKind
    name: str
    status: KeyStatus
    created_by: str | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A freshly issued key with its token (``KEYID.SECRET``): shown once, stored only hashed."""

    key: AccessKey
    token: str
