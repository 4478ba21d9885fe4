"""The central dead-letter queue: the whole fleet for the management plane, one's own for an account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from silo.api.auth import Management, OwnAccount
from silo.api.function_schemas import DeadLetterPage, DeadLetterView
from silo.api.params import PageParams
from silo.api.views import ERROR_RESPONSES
from silo.dlq import DeadLetterFilter

account_router = APIRouter(
    prefix="/v1/account/dead-letters", tags=["dead-letters"], responses=ERROR_RESPONSES
)
management_router = APIRouter(
    prefix="/v1/mgmt/dead-letters", tags=["dead-letters"], responses=ERROR_RESPONSES
)
Source = Annotated[str | None, Query(max_length=64)]
Reason = Annotated[str | None, Query(max_length=64)]


@account_router.get("")
def own_dead_letters(
    account: OwnAccount, page: PageParams, source: Source = None, reason: Reason = None
) -> DeadLetterPage:
    listed = account.dead_letters(
        DeadLetterFilter(source=source, reason=reason), limit=page.limit, next_token=page.next_token
    )
    return DeadLetterPage(items=[DeadLetterView.of(e) for e in listed.items], next_token=listed.next_token)


@account_router.get("/{entry_id}")
def own_dead_letter(entry_id: str, account: OwnAccount) -> DeadLetterView:
    return DeadLetterView.of(account.dead_letter(entry_id))


@management_router.get("")
def fleet_dead_letters(
    mgmt: Management,
    page: PageParams,
    account_id: Annotated[str | None, Query(pattern=r"^[0-9]{12}$")] = None,
    source: Source = None,
    reason: Reason = None,
) -> DeadLetterPage:
    listed = mgmt.dead_letters(
        DeadLetterFilter(account_id=account_id, source=source, reason=reason),
        limit=page.limit,
        next_token=page.next_token,
    )
    return DeadLetterPage(items=[DeadLetterView.of(e) for e in listed.items], next_token=listed.next_token)


@management_router.get("/{account_id}/{entry_id}")
def fleet_dead_letter(account_id: str, entry_id: str, mgmt: Management) -> DeadLetterView:
    return DeadLetterView.of(mgmt.dead_letter(account_id, entry_id))
