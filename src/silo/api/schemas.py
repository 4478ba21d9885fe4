"""Request bodies: strict pydantic models, one per body shape in ``docs/api.md``.

Every body refuses unknown fields (``extra="forbid"``) and does not coerce types (``strict``): a
``"5"`` where a number belongs is a 400 naming the field, not a silent conversion. Values the
services check themselves (names, emails, ids, tag syntax, policy documents) are left to them, so a
rule lives in one place; bounds that protect the API itself (sizes, durations) are checked here.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from silo.accounts import DEFAULT_CONCURRENCY_LIMIT, AccountSpec
from silo.accounts.service import MAX_BATCH


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
"""A string without NUL characters (no store can keep them in a text column)."""

Reason = Annotated[Text, Field(max_length=512)]


class RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Empty(RequestBody):
    """Endpoints that take no input accept no body or ``{}``."""


class AccountCreate(RequestBody):
    name: Text
    owner_email: Text
    ou_id: Text | None = None
    tags: dict[Text, Text] = Field(default_factory=dict)
    concurrency_limit: int = DEFAULT_CONCURRENCY_LIMIT

    def spec(self) -> AccountSpec:
        return AccountSpec(
            name=self.name,
            owner_email=self.owner_email,
            ou_id=self.ou_id,
            tags=dict(self.tags),
            concurrency_limit=self.concurrency_limit,
        )


class AccountRequestBody(AccountCreate):
    """An account for the account factory to make: the account, guardrails to attach to it, and
    how long to wait for it to be ready before answering 202."""

    guardrails: list[Text] = Field(default_factory=list, max_length=20)
    wait_seconds: float = Field(default=60.0, ge=0, le=300)


class AccountBatch(RequestBody):
    accounts: list[AccountCreate] = Field(min_length=1, max_length=MAX_BATCH)


class ReasonBody(RequestBody):
    reason: Reason = ""


class Move(RequestBody):
    ou_id: Text


class Tags(RequestBody):
    tags: dict[Text, Text] = Field(default_factory=dict)
    remove: list[Text] = Field(default_factory=list, max_length=100)


class ConcurrencyLimit(RequestBody):
    limit: int


class Assume(RequestBody):
    reason: Reason
    duration_seconds: int = Field(default=3600, ge=60, le=43200)


class KeyCreate(RequestBody):
    name: Text


class Rotate(RequestBody):
    grace_seconds: int = Field(default=0, ge=0, le=7 * 24 * 3600)


class OuCreate(RequestBody):
    name: Text
    parent_id: Text | None = None


class OuRename(RequestBody):
    name: Text


class GuardrailCreate(RequestBody):
    name: Text
    document: Any = Field(description="A guardrail policy document (see docs/decisions/0004).")
    description: Annotated[Text, Field(max_length=512)] = ""


class GuardrailUpdate(RequestBody):
    document: Any = None
    description: Annotated[Text, Field(max_length=512)] | None = None


class Target(RequestBody):
    target_id: Text
