"""Response models: the objects of ``docs/api.md``, built from the services' plain data.

Each view validates from the service dataclass by attribute (``from_attributes``), so a field
renamed in a service shows up here as an error instead of silently vanishing from the API.
Datetimes render as ISO 8601 UTC strings.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from silo.accounts import AccountStatus, KeyKind, Principal
from silo.credentials import IssuedKey, KeyStatus
from silo.guardrails import AttachedPolicy


class View(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ErrorView(BaseModel):
    """Every error answer: a stable ``code`` to match on and a ``message`` for people."""

    code: str
    message: str
    details: dict[str, Any] | None = None


class Health(BaseModel):
    status: str
    version: str


class WhoAmI(View):
    key_id: str
    account_id: str
    kind: KeyKind
    assumed_by: str | None

    @classmethod
    def of(cls, principal: Principal) -> WhoAmI:
        return cls.model_validate(principal)


class AccountView(View):
    account_id: str
    name: str
    owner_email: str
    status: AccountStatus
    ou_id: str
    concurrency_limit: int
    tags: dict[str, str]
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    purge_after: datetime | None


class FactoryCredentials(BaseModel):
    """The new account's first key: the only answer that ever carries its secret (``token``)."""

    key_id: str
    token: str


class AccountCreatedView(AccountView):
    """A ready account, made by the account factory execution ``factory_execution_arn``."""

    factory_execution_arn: str
    credentials: FactoryCredentials


class AccountProvisioningView(BaseModel):
    """Still being made (HTTP 202): follow ``factory_execution_arn``; the key works once ready."""

    name: str
    status: str
    factory_execution_arn: str
    credentials: FactoryCredentials


class AccountPage(View):
    items: list[AccountView]
    next_token: str | None


class AccountBatchView(BaseModel):
    items: list[AccountView]
    count: int


class Purged(BaseModel):
    purged: list[str]


class OuView(View):
    ou_id: str
    name: str
    parent_id: str | None
    path: str
    created_at: datetime


class OuList(BaseModel):
    items: list[OuView]


class KeyView(View):
    key_id: str
    account_id: str
    kind: KeyKind
    name: str
    status: KeyStatus
    created_by: str | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class KeyPage(View):
    items: list[KeyView]
    next_token: str | None


class IssuedKeyView(View):
    """A key just issued: the only answer that ever carries its secret (in ``token``)."""

    key: KeyView
    token: str

    @classmethod
    def of(cls, issued: IssuedKey) -> IssuedKeyView:
        return cls.model_validate(issued)


class GuardrailView(View):
    policy_id: str
    name: str
    description: str
    document: dict[str, Any]
    targets: list[str]
    created_at: datetime
    updated_at: datetime


class GuardrailList(BaseModel):
    items: list[GuardrailView]


class EffectiveGuardrail(BaseModel):
    """A guardrail as it applies to one account: where it is attached on the account's path."""

    policy_id: str
    name: str
    target: str
    document: dict[str, Any]


class EffectiveGuardrails(BaseModel):
    items: list[EffectiveGuardrail]

    @classmethod
    def of(cls, attached: Iterable[AttachedPolicy]) -> EffectiveGuardrails:
        return cls(
            items=[
                EffectiveGuardrail(
                    policy_id=a.policy_id, name=a.name, target=a.target, document=a.policy.document
                )
                for a in attached
            ]
        )


class AuditEntryView(View):
    seq: int
    at: datetime
    principal: str
    action: str
    account_id: str | None
    reason: str
    details: dict[str, Any]


class AuditPage(View):
    items: list[AuditEntryView]
    next_token: str | None


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {
        "model": ErrorView,
        "description": "ValidationError (400), Unauthenticated (401), AccessDenied, GuardrailDenied or "
        "AccountNotActive (403), NotFound (404), Conflict (409), PayloadTooLarge (413), "
        "TooManyRequestsException (429).",
    },
    "5XX": {"model": ErrorView, "description": "InternalError: never for bad input."},
}
