"""Request bodies and views of the event and schedule endpoints (``/v1/account/events``,
``/v1/account/schedules``).

Patterns, events, targets and PutEvents entries are taken as JSON (targets and entries with
EventBridge's field names: ``Id``, ``Arn``, ``InputTransformer``, ``DetailType``...) and checked by
``silo.events``, not here, so a bad one gets the same message from the API as from the services
(``Targets[0].Arn: ...``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, JsonValue

from silo.api.function_schemas import MetricView
from silo.api.schemas import RequestBody, Text
from silo.api.views import View
from silo.events.models import Rule, RuleState, Target
from silo.telemetry import Datapoint

Description = Annotated[Text, Field(max_length=512)]
AwsObject = dict[str, JsonValue]
"""An object with EventBridge's field names, passed to the service as it is (which checks it)."""


class EventPatternTest(RequestBody):
    """TestEventPattern: an event pattern and an event to try it on; nothing is stored."""

    pattern: JsonValue = Field(description="The event pattern: JSON text, or the JSON object itself.")
    event: JsonValue = Field(
        description="The event, JSON text or the object, with id, account, source, time, region and "
        "detail-type (as EventBridge's TestEventPattern requires)."
    )


class EventPatternTestResult(BaseModel):
    matches: bool = Field(description="Whether the pattern matches the event.")


class BusCreate(RequestBody):
    name: Text = Field(description="1-256 letters, digits, '/', '.', '-' or '_'.")
    description: Description = ""


class RulePut(RequestBody):
    """PutRule: an event pattern, a schedule (on the default bus only), or both."""

    event_pattern: JsonValue = Field(
        default=None, description="The event pattern: JSON text, or the JSON object itself."
    )
    schedule_expression: Text | None = Field(
        default=None, description="rate(...), cron(...) or at(...), in UTC."
    )
    state: Text = Field(default="ENABLED", description="ENABLED or DISABLED.")
    description: Description = ""

    def pattern(self) -> str | dict[str, Any] | None:
        """The pattern for ``put_rule``: a parsed value that is not an object goes in as its text,
        for the pattern compiler's own words ("Filter is not an object")."""
        value = self.event_pattern
        return value if value is None or isinstance(value, str | dict) else json.dumps(value)


class TargetsPut(RequestBody):
    targets: list[AwsObject] = Field(
        description="1-5 targets: {Id, Arn, Input | InputPath | InputTransformer, RetryPolicy}, added "
        "to the rule's or replacing those with the same Id; functions and buses of this account."
    )


class TargetsRemove(RequestBody):
    ids: list[Text] = Field(min_length=1, max_length=100, description="The Ids of the targets to remove.")


class EventsPut(RequestBody):
    entries: list[AwsObject] = Field(
        description="1-10 entries: {Source, DetailType, Detail (JSON text), Resources?, Time?, "
        "EventBusName?, TraceHeader?}, at most 256 KB each."
    )


class SchedulePut(RequestBody):
    """CreateSchedule / UpdateSchedule: the schedule is created or replaced whole."""

    expression: Text = Field(description="rate(...), cron(...) or at(...).")
    target: AwsObject = Field(description="{Arn (a function of this account), Input?, RetryPolicy?}.")
    timezone: Text = Field(default="UTC", description="The IANA time zone of cron and at expressions.")
    flexible_window: AwsObject | None = Field(
        default=None,
        description='{"Mode": "OFF"} (the default) or {"Mode": "FLEXIBLE", "MaximumWindowInMinutes"}.',
    )
    state: Text = Field(default="ENABLED", description="ENABLED or DISABLED.")
    description: Description = ""
    group: Text = Field(default="default", description="The schedule group.")


# --- views -------------------------------------------------------------------------------------
class EventBusView(View):
    name: str
    arn: str
    description: str
    created_at: datetime | None


class EventBusPage(View):
    items: list[EventBusView]
    next_token: str | None


class RuleView(BaseModel):
    name: str
    bus: str
    arn: str
    event_pattern: JsonValue = Field(description="The pattern as an object, or null.")
    schedule_expression: str | None
    state: RuleState
    description: str
    managed_by: str | None = Field(description="The stack that manages the rule, or null.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, rule: Rule) -> RuleView:
        return cls(
            name=rule.name,
            bus=rule.bus,
            arn=rule.arn,
            event_pattern=json.loads(rule.pattern) if rule.pattern is not None else None,
            schedule_expression=rule.schedule.expression if rule.schedule is not None else None,
            state=rule.state,
            description=rule.description,
            managed_by=rule.managed_by,
            created_at=rule.created_at,
            updated_at=rule.updated_at,
        )


class RulePage(BaseModel):
    items: list[RuleView]
    next_token: str | None


class TargetView(BaseModel):
    """A target as PutTargets takes it (EventBridge's field names): what is listed can be put back."""

    Id: str
    Arn: str
    Input: str | None = None
    InputPath: str | None = None
    InputTransformer: AwsObject | None = None
    RetryPolicy: dict[str, int]

    @classmethod
    def of(cls, target: Target) -> TargetView:
        return cls.model_validate(
            {
                "Id": target.target_id,
                "Arn": target.arn,
                "RetryPolicy": target.retry_policy.to_json(),
                **(target.input or {}),
            }
        )


class TargetList(BaseModel):
    items: list[TargetView]


class TargetsRemoved(BaseModel):
    removed: int = Field(description="How many of the ids were targets of the rule.")


class PutEventsView(BaseModel):
    failed_entry_count: int
    entries: list[dict[str, str]] = Field(
        description='One per entry, in order: {"EventId"}, or {"ErrorCode", "ErrorMessage"}.'
    )


class RuleMetricsView(BaseModel):
    rule: str
    bus: str
    minutes: int
    metrics: dict[str, MetricView]

    @classmethod
    def of(cls, rule: str, bus: str, minutes: int, totals: dict[str, Datapoint]) -> RuleMetricsView:
        return cls(
            rule=rule,
            bus=bus,
            minutes=minutes,
            metrics={
                k: MetricView(sum=v.sum, count=v.count, min=v.min, max=v.max, average=v.average)
                for k, v in totals.items()
            },
        )


class ScheduleView(View):
    name: str
    group: str
    arn: str
    expression: str
    timezone: str
    flexible_window: dict[str, JsonValue]
    target: dict[str, JsonValue]
    state: RuleState
    description: str
    created_at: datetime
    updated_at: datetime


class SchedulePage(View):
    items: list[ScheduleView]
    next_token: str | None
