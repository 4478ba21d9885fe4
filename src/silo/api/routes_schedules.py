"""``/v1/account/schedules``: the caller's EventBridge Scheduler schedules (time zones, flexible
time windows), each with one function target of the same account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from silo.api.auth import OwnAccount
from silo.api.event_schemas import SchedulePage, SchedulePut, ScheduleView
from silo.api.params import PageParams
from silo.api.views import ERROR_RESPONSES

router = APIRouter(prefix="/v1/account/schedules", tags=["schedules"], responses=ERROR_RESPONSES)

Group = Annotated[str, Query(max_length=64, description="The schedule group.")]


@router.get("")
def list_schedules(account: OwnAccount, page: PageParams, group: Group = "default") -> SchedulePage:
    listed = account.schedules.list(group, limit=page.limit, next_token=page.next_token)
    return SchedulePage.model_validate(listed)


@router.put("/{name}")
def put_schedule(name: str, body: SchedulePut, account: OwnAccount) -> ScheduleView:
    """Create or replace a schedule; a bad expression, time zone or window is a 400 saying which."""
    made = account.schedules.put(
        name,
        expression=body.expression,
        target=body.target,
        group=body.group,
        timezone=body.timezone,
        flexible_window=body.flexible_window,
        state=body.state,
        description=body.description,
    )
    return ScheduleView.model_validate(made)


@router.get("/{name}")
def get_schedule(name: str, account: OwnAccount, group: Group = "default") -> ScheduleView:
    return ScheduleView.model_validate(account.schedules.get(name, group))


@router.delete("/{name}", status_code=204, response_class=Response)
def delete_schedule(name: str, account: OwnAccount, group: Group = "default") -> Response:
    account.schedules.delete(name, group)
    return Response(status_code=204)
