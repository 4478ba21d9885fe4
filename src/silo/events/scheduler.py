"""``Schedules``: one account's EventBridge Scheduler schedules (time zones, flexible time windows).

A schedule is a rule under the pseudo-bus ``schedules:<group>`` with one target, so it fires from
the platform's one timer and delivers through the same durable queue, retries and DLQ as rules.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from silo.accounts import AccountContext, AccountGuard
from silo.errors import NotFound, ValidationError
from silo.events.models import (
    SCHEDULE_GROUP_PREFIX,
    Rule,
    RuleState,
    ScheduleSpec,
    Target,
    TargetKind,
    check_rule_name,
    retry_policy_from,
    target_ref,
)
from silo.events.repository import EventsRepository
from silo.events.target_input import compile_target_input
from silo.schedules import FlexibleTimeWindow, parse_schedule
from silo.store.pages import Page

if TYPE_CHECKING:
    from silo.events.engine import EventsEngine

TARGET_ID = "target"
_GROUP = re.compile(r"^[0-9a-zA-Z._-]{1,64}$")
_TARGET_FIELDS = ("Arn", "Input", "RetryPolicy")


@dataclass(frozen=True, slots=True)
class Schedule:
    name: str
    group: str
    arn: str
    expression: str
    timezone: str
    flexible_window: dict[str, Any]
    target: dict[str, Any]
    state: RuleState
    description: str
    created_at: datetime
    updated_at: datetime


class Schedules:
    def __init__(self, guard: AccountGuard, engine: EventsEngine) -> None:
        self._guard = guard
        self._engine = engine
        self._repo = EventsRepository(guard.context)

    @property
    def context(self) -> AccountContext:
        return self._guard.context

    def put(
        self,
        name: str,
        *,
        expression: str,
        target: Mapping[str, Any],
        group: str = "default",
        timezone: str = "UTC",
        flexible_window: Mapping[str, Any] | None = None,
        state: str = "ENABLED",
        description: str = "",
    ) -> Schedule:
        """Create or replace a schedule (``CreateSchedule`` / ``UpdateSchedule``)."""
        name, bus = check_rule_name(name), _bus(group)
        window = FlexibleTimeWindow.from_dict(flexible_window or {"Mode": "OFF"})
        parse_schedule(expression, timezone=timezone, window=window)
        checked = self._target(target)
        if state not in ("ENABLED", "DISABLED"):
            raise ValidationError(f"State: ENABLED or DISABLED; got {state!r}", field="State")
        if not isinstance(description, str) or len(description) > 512:
            raise ValidationError("Description: at most 512 characters", field="Description")
        self._guard.authorize(
            "scheduler:CreateSchedule",
            {"ScheduleName": name, "GroupName": group, "TargetArns": [checked.arn]},
        )
        spec = ScheduleSpec(expression, timezone, window.maximum_window_minutes)
        with self._engine.store.write() as conn:
            rule, _ = self._repo.put_rule(
                conn,
                bus,
                name,
                pattern=None,
                schedule=spec,
                state=RuleState(state),
                description=description,
                managed_by=None,
            )
            self._repo.remove_targets(conn, bus, name, [TARGET_ID])
            self._repo.put_targets(conn, bus, name, [checked])
        self._engine.schedules_changed(self.context.account_id, [rule])
        return _schedule(rule, checked)

    def get(self, name: str, group: str = "default") -> Schedule:
        name, bus = check_rule_name(name), _bus(group)
        self._guard.authorize(
            "scheduler:GetSchedule", {"ScheduleName": name, "GroupName": group}, write=False
        )
        with self._engine.store.read() as conn:
            rule = self._rule(conn, bus, name)
            return _schedule(rule, _first(self._repo.targets(conn, bus, name)))

    def list(
        self,
        group: str = "default",
        *,
        prefix: str | None = None,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> Page[Schedule]:
        bus = _bus(group)
        self._guard.authorize("scheduler:ListSchedules", {"GroupName": group}, write=False)
        with self._engine.store.read() as conn:
            page = self._repo.list_rules(conn, bus, prefix, limit, next_token)
            items = [_schedule(r, _first(self._repo.targets(conn, bus, r.name))) for r in page.items]
            return Page(items, page.next_token)

    def delete(self, name: str, group: str = "default") -> None:
        name, bus = check_rule_name(name), _bus(group)
        self._guard.authorize("scheduler:DeleteSchedule", {"ScheduleName": name, "GroupName": group})
        with self._engine.store.write() as conn:
            self._rule(conn, bus, name)
            rule = self._repo.delete_rule(conn, bus, name, force=True, managed_by=None)
        self._engine.schedules_removed(self.context.account_id, [rule])

    def _rule(self, conn: Any, bus: str, name: str) -> Rule:
        try:
            return self._repo.get_rule(conn, bus, name)
        except NotFound:
            raise NotFound(f"Schedule {name} does not exist.", schedule=name) from None

    def _target(self, target: Mapping[str, Any]) -> Target:
        if not isinstance(target, Mapping):
            raise ValidationError(
                "Target: an object with Arn, and optionally Input and RetryPolicy", field="Target"
            )
        unknown = sorted(str(k) for k in target if k not in _TARGET_FIELDS)
        if unknown:
            raise ValidationError(f"Target.{unknown[0]}: unknown field", field=f"Target.{unknown[0]}")
        ref = target_ref(target.get("Arn"), self.context.account_id, "Target.Arn")
        if ref.kind is TargetKind.BUS:
            raise ValidationError(
                "Target.Arn: a schedule targets a function or a state machine", field="Target.Arn"
            )
        given = {"Input": target["Input"]} if target.get("Input") is not None else {}
        try:
            compile_target_input(given)
        except ValidationError as exc:
            raise ValidationError(f"Target.{exc.message}", field="Target") from None
        policy = retry_policy_from(target.get("RetryPolicy"), "Target.RetryPolicy")
        return Target(TARGET_ID, str(target["Arn"]), ref, given or None, policy)


def _bus(group: object) -> str:
    if not isinstance(group, str) or not _GROUP.match(group):
        raise ValidationError(
            f"GroupName: 1-64 letters, digits, '.', '-' or '_'; got {group!r}", field="GroupName"
        )
    return f"{SCHEDULE_GROUP_PREFIX}{group}"


def _first(targets: builtins.list[Target]) -> Target | None:
    return targets[0] if targets else None


def _schedule(rule: Rule, target: Target | None) -> Schedule:
    assert rule.schedule is not None
    window = rule.schedule.window_minutes
    body: dict[str, Any] = {}
    if target is not None:
        body = {"Arn": target.arn, "RetryPolicy": target.retry_policy.to_json()}
        if target.input and "Input" in target.input:
            body["Input"] = target.input["Input"]
    return Schedule(
        rule.name,
        rule.bus[len(SCHEDULE_GROUP_PREFIX) :],
        rule.arn,
        rule.schedule.expression,
        rule.schedule.timezone,
        {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": window} if window else {"Mode": "OFF"},
        body,
        rule.state,
        rule.description,
        rule.created_at,
        rule.updated_at,
    )
