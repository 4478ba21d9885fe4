"""``/v1/account/events``: the caller's event buses, rules, targets, PutEvents and patterns.

As everywhere under ``/v1/account``, the account comes from the key: a bus or rule name only ever
names one of the caller's. Bus names may contain '/', so the bus is a query parameter (``?bus=``,
default ``default``; a name or an ARN of the caller's account), except under ``/buses/``, where the
rest of the path is the name.

``POST /test-pattern`` is TestEventPattern: it reads and writes no data, and answers for any key
of an active account (the check is the pure one in ``silo.events.sample_events``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Body, Query, Response

from silo.api.auth import OwnAccount
from silo.api.event_schemas import (
    BusCreate,
    EventBusPage,
    EventBusView,
    EventPatternTest,
    EventPatternTestResult,
    EventsPut,
    PutEventsView,
    RuleMetricsView,
    RulePage,
    RulePut,
    RuleView,
    TargetList,
    TargetsPut,
    TargetsRemove,
    TargetsRemoved,
    TargetView,
)
from silo.api.params import PageParams
from silo.api.schemas import Empty
from silo.api.views import ERROR_RESPONSES
from silo.events.models import DEFAULT_BUS
from silo.events.sample_events import pattern_matches

router = APIRouter(prefix="/v1/account/events", tags=["events"], responses=ERROR_RESPONSES)

Bus = Annotated[
    str, Query(max_length=1600, description="The event bus: a name, or an ARN of a bus of this account.")
]
Prefix = Annotated[str | None, Query(max_length=64, description="Only rules whose name starts with this.")]
Force = Annotated[bool, Query(description="Delete it even with targets, or managed by a stack.")]
NoBody = Annotated[Empty | None, Body()]


@router.post("/test-pattern")
def test_event_pattern(body: EventPatternTest, account: OwnAccount) -> EventPatternTestResult:
    """Whether an event pattern matches an event; a bad pattern or event is a 400 saying where."""
    account.authorize("events:TestEventPattern", write=False)
    return EventPatternTestResult(matches=pattern_matches(body.pattern, body.event))


# --- buses --------------------------------------------------------------------------------------
@router.get("/buses")
def list_buses(account: OwnAccount, page: PageParams) -> EventBusPage:
    """The account's event buses (``default`` always among them)."""
    return EventBusPage.model_validate(
        account.events.list_event_buses(limit=page.limit, next_token=page.next_token)
    )


@router.post("/buses", status_code=201)
def create_bus(body: BusCreate, account: OwnAccount) -> EventBusView:
    return EventBusView.model_validate(account.events.create_event_bus(body.name, body.description))


@router.get("/buses/{name:path}")
def describe_bus(name: str, account: OwnAccount) -> EventBusView:
    return EventBusView.model_validate(account.events.describe_event_bus(name))


@router.delete("/buses/{name:path}", status_code=204, response_class=Response)
def delete_bus(name: str, account: OwnAccount) -> Response:
    """Delete an empty bus (409 while it has rules; ``default`` is never deleted)."""
    account.events.delete_event_bus(name)
    return Response(status_code=204)


# --- rules --------------------------------------------------------------------------------------
@router.get("/rules")
def list_rules(
    account: OwnAccount, page: PageParams, bus: Bus = DEFAULT_BUS, prefix: Prefix = None
) -> RulePage:
    listed = account.events.list_rules(bus, prefix=prefix, limit=page.limit, next_token=page.next_token)
    return RulePage(items=[RuleView.of(r) for r in listed.items], next_token=listed.next_token)


@router.put("/rules/{name}")
def put_rule(name: str, body: RulePut, account: OwnAccount, bus: Bus = DEFAULT_BUS) -> RuleView:
    """Create or replace a rule (PutRule); a bad pattern or schedule is a 400 saying where."""
    rule = account.events.put_rule(
        name,
        event_bus=bus,
        event_pattern=body.pattern(),
        schedule_expression=body.schedule_expression,
        state=body.state,
        description=body.description,
    )
    return RuleView.of(rule)


@router.get("/rules/{name}")
def describe_rule(name: str, account: OwnAccount, bus: Bus = DEFAULT_BUS) -> RuleView:
    return RuleView.of(account.events.describe_rule(name, bus))


@router.delete("/rules/{name}", status_code=204, response_class=Response)
def delete_rule(name: str, account: OwnAccount, bus: Bus = DEFAULT_BUS, force: Force = False) -> Response:
    """Delete a rule (409 while it has targets, unless ``force``)."""
    account.events.delete_rule(name, bus, force=force)
    return Response(status_code=204)


@router.post("/rules/{name}/enable")
def enable_rule(name: str, account: OwnAccount, bus: Bus = DEFAULT_BUS, body: NoBody = None) -> RuleView:
    return RuleView.of(account.events.enable_rule(name, bus))


@router.post("/rules/{name}/disable")
def disable_rule(name: str, account: OwnAccount, bus: Bus = DEFAULT_BUS, body: NoBody = None) -> RuleView:
    return RuleView.of(account.events.disable_rule(name, bus))


# --- targets ------------------------------------------------------------------------------------
@router.get("/rules/{name}/targets")
def list_targets(name: str, account: OwnAccount, bus: Bus = DEFAULT_BUS) -> TargetList:
    return TargetList(items=[TargetView.of(t) for t in account.events.list_targets(name, bus)])


@router.put("/rules/{name}/targets", status_code=204, response_class=Response)
def put_targets(name: str, body: TargetsPut, account: OwnAccount, bus: Bus = DEFAULT_BUS) -> Response:
    """Add targets to a rule, replacing those with the same Id (PutTargets); at most five per rule."""
    account.events.put_targets(name, body.targets, bus)
    return Response(status_code=204)


@router.post("/rules/{name}/targets/remove")
def remove_targets(
    name: str, body: TargetsRemove, account: OwnAccount, bus: Bus = DEFAULT_BUS
) -> TargetsRemoved:
    return TargetsRemoved(removed=account.events.remove_targets(name, body.ids, bus))


@router.get("/rules/{name}/metrics")
def rule_metrics(
    name: str,
    account: OwnAccount,
    bus: Bus = DEFAULT_BUS,
    since_minutes: Annotated[int, Query(ge=1, le=1440)] = 60,
) -> RuleMetricsView:
    """MatchedEvents, TriggeredRules, Invocations, FailedInvocations... over the last minutes."""
    totals = account.events.rule_metrics(name, bus, since=timedelta(minutes=since_minutes))
    return RuleMetricsView.of(name, bus, since_minutes, totals)


# --- events -------------------------------------------------------------------------------------
@router.post("/put-events")
def put_events(body: EventsPut, account: OwnAccount) -> PutEventsView:
    """PutEvents: every accepted entry is durable, with its matched deliveries, before the answer;
    an entry that fails does so alone (``ErrorCode``, ``ErrorMessage``)."""
    result = account.events.put_events(body.entries)
    return PutEventsView(failed_entry_count=result.failed_entry_count, entries=result.entries)
