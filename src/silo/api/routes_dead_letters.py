"""The central dead-letter queue: the whole fleet for the management plane, one's own for an account.

Redrive and purge are management-plane only: a redrive sends an entry back to its original target
inside the entry's own account (the account of the stored entry; the path only finds it).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, Field

from silo.api.auth import Management, OwnAccount
from silo.api.function_schemas import DeadLetterPage, DeadLetterView
from silo.api.params import PageParams
from silo.api.schemas import RequestBody
from silo.api.views import ERROR_RESPONSES
from silo.dlq import DeadLetterFilter, Redriven
from silo.errors import ValidationError
from silo.store.pages import MAX_LIMIT

account_router = APIRouter(
    prefix="/v1/account/dead-letters", tags=["dead-letters"], responses=ERROR_RESPONSES
)
management_router = APIRouter(
    prefix="/v1/mgmt/dead-letters", tags=["dead-letters"], responses=ERROR_RESPONSES
)
Source = Annotated[str | None, Query(max_length=64)]
Reason = Annotated[str | None, Query(max_length=64)]
Since = Annotated[
    datetime | None,
    Query(description="Only entries that arrived at or after this ISO 8601 time (UTC if no offset)."),
]
Until = Annotated[
    datetime | None,
    Query(description="Only entries that arrived before this ISO 8601 time (UTC if no offset)."),
]
AccountIdParam = Annotated[str | None, Query(pattern=r"^[0-9]{12}$")]


class RedriveOne(RequestBody):
    force: bool = Field(default=False, description="Send it again even if it was redriven before.")


class RedriveMatching(RequestBody):
    account_id: Annotated[str, Field(pattern=r"^[0-9]{12}$")] | None = None
    source: Annotated[str, Field(max_length=64)] | None = None
    reason: Annotated[str, Field(max_length=64)] | None = None
    since: Annotated[datetime, Field(strict=False)] | None = None
    until: Annotated[datetime, Field(strict=False)] | None = None
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = 100

    def filters(self) -> DeadLetterFilter:
        return DeadLetterFilter(self.account_id, self.source, self.reason, _utc(self.since), _utc(self.until))


class PurgeMatching(RequestBody):
    account_id: Annotated[str, Field(pattern=r"^[0-9]{12}$")] | None = None
    source: Annotated[str, Field(max_length=64)] | None = None
    reason: Annotated[str, Field(max_length=64)] | None = None
    since: Annotated[datetime, Field(strict=False)] | None = None
    until: Annotated[datetime, Field(strict=False)] | None = None
    all: bool = Field(default=False, description="Purge every entry of every account (no filter given).")

    def filters(self) -> DeadLetterFilter:
        since, until = _utc(self.since), _utc(self.until)
        found = DeadLetterFilter(self.account_id, self.source, self.reason, since, until)
        if found == DeadLetterFilter() and not self.all:
            raise ValidationError(
                "all: give a filter (account_id, source, reason, since, until), or all: true to purge "
                "every entry of every account",
                field="all",
            )
        return found


class PurgedView(BaseModel):
    purged: int


class RedrivenView(BaseModel):
    dead_letter: DeadLetterView
    delivery: dict[str, Any]
    forced: bool

    @classmethod
    def of(cls, redriven: Redriven) -> RedrivenView:
        return cls(
            dead_letter=DeadLetterView.of(redriven.entry), delivery=redriven.detail, forced=redriven.forced
        )


class RedriveFailureView(BaseModel):
    account_id: str
    entry_id: str
    code: str
    message: str


class RedriveBatchView(BaseModel):
    redriven: list[RedrivenView]
    failed: list[RedriveFailureView]


@account_router.get("")
def own_dead_letters(
    account: OwnAccount,
    page: PageParams,
    source: Source = None,
    reason: Reason = None,
    since: Since = None,
    until: Until = None,
) -> DeadLetterPage:
    listed = account.dead_letters(
        DeadLetterFilter(source=source, reason=reason, since=_utc(since), until=_utc(until)),
        limit=page.limit,
        next_token=page.next_token,
    )
    return DeadLetterPage(items=[DeadLetterView.of(e) for e in listed.items], next_token=listed.next_token)


@account_router.get("/{entry_id}")
def own_dead_letter(entry_id: str, account: OwnAccount) -> DeadLetterView:
    return DeadLetterView.of(account.dead_letter(entry_id))


@management_router.get("")
def fleet_dead_letters(
    mgmt: Management,
    page: PageParams,
    account_id: AccountIdParam = None,
    source: Source = None,
    reason: Reason = None,
    since: Since = None,
    until: Until = None,
) -> DeadLetterPage:
    listed = mgmt.dead_letters(
        DeadLetterFilter(account_id, source, reason, _utc(since), _utc(until)),
        limit=page.limit,
        next_token=page.next_token,
    )
    return DeadLetterPage(items=[DeadLetterView.of(e) for e in listed.items], next_token=listed.next_token)


@management_router.post("/redrive")
def redrive_dead_letters(body: RedriveMatching, mgmt: Management) -> RedriveBatchView:
    """Redrive up to ``limit`` matching entries not redriven yet, oldest first, each into its own account."""
    batch = mgmt.redrive_dead_letters(body.filters(), limit=body.limit)
    failed = [
        RedriveFailureView(
            account_id=f.account_id, entry_id=f.entry_id, code=f.error.code, message=f.error.message
        )
        for f in batch.failed
    ]
    return RedriveBatchView(redriven=[RedrivenView.of(r) for r in batch.redriven], failed=failed)


@management_router.post("/purge")
def purge_dead_letters(body: PurgeMatching, mgmt: Management) -> PurgedView:
    """Delete every matching entry, redriven or not (audited as ``dlq:Purge`` with the count)."""
    return PurgedView(purged=mgmt.purge_dead_letters(body.filters()))


@management_router.get("/{account_id}/{entry_id}")
def fleet_dead_letter(account_id: str, entry_id: str, mgmt: Management) -> DeadLetterView:
    return DeadLetterView.of(mgmt.dead_letter(account_id, entry_id))


@management_router.post("/{account_id}/{entry_id}/redrive")
def redrive_dead_letter(
    account_id: str, entry_id: str, mgmt: Management, body: Annotated[RedriveOne | None, Body()] = None
) -> RedrivenView:
    """Send the entry's payload back to its original target in its account; 409 if already redriven."""
    force = body.force if body is not None else False
    return RedrivenView.of(mgmt.redrive_dead_letter(account_id, entry_id, force=force))


def _utc(value: datetime | None) -> datetime | None:
    """A time without an offset is taken as UTC (the API's timestamps are UTC)."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value
