"""``Events``: one account's buses, rules, targets and PutEvents, reached through its handle."""

from __future__ import annotations

import builtins
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from silo.accounts import AccountContext, AccountGuard
from silo.dlq import DeadLetter, Redelivery
from silo.errors import NotFound, SiloError, ValidationError
from silo.events.bus_index import compile_bus
from silo.events.entries import build_event
from silo.events.errors import InvalidEntry, LimitExceeded
from silo.events.models import (
    DEFAULT_BUS,
    MAX_ENTRIES_PER_PUT,
    MAX_TARGETS_PER_RULE,
    METRICS_NAMESPACE,
    REGION,
    SCHEDULE_GROUP_PREFIX,
    EventBus,
    Rule,
    RuleState,
    ScheduleSpec,
    Target,
    TargetKind,
    bus_from,
    check_rule_name,
    check_target_id,
    retry_policy_from,
    rule_dimension,
    target_ref,
)
from silo.events.patterns import compile_pattern
from silo.events.repository import EventsRepository
from silo.events.target_input import compile_target_input
from silo.events.timer import StaleSchedule, fires_at
from silo.schedules import parse_schedule
from silo.store import utcnow
from silo.store.ids import new_id
from silo.store.pages import Page
from silo.telemetry import Datapoint

if TYPE_CHECKING:
    from silo.events.engine import EventsEngine

_INPUT_FIELDS = ("Input", "InputPath", "InputTransformer")
_TARGET_FIELDS = ("Id", "Arn", "RetryPolicy", *_INPUT_FIELDS)


@dataclass(frozen=True, slots=True)
class PutEventsResult:
    """EventBridge's answer: one entry per request entry, in order (``EventId`` or an error)."""

    entries: list[dict[str, str]] = field(default_factory=list)

    @property
    def failed_entry_count(self) -> int:
        return sum(1 for e in self.entries if "ErrorCode" in e)


class Events:
    def __init__(self, guard: AccountGuard, engine: EventsEngine) -> None:
        self._guard = guard
        self._engine = engine
        self._repo = EventsRepository(guard.context)

    @property
    def context(self) -> AccountContext:
        return self._guard.context

    # --- buses ----------------------------------------------------------------------------------
    def create_event_bus(self, name: str, description: str = "") -> EventBus:
        name = bus_from(name, self.context.account_id, "Name")
        _check_description(description)
        self._guard.authorize("events:CreateEventBus", {"EventBusName": name})
        with self._engine.store.write() as conn:
            return self._repo.create_bus(conn, name, description)

    def delete_event_bus(self, name: str) -> None:
        name = bus_from(name, self.context.account_id, "Name")
        self._guard.authorize("events:DeleteEventBus", {"EventBusName": name})
        with self._engine.store.write() as conn:
            self._repo.delete_bus(conn, name)

    def describe_event_bus(self, name: str = DEFAULT_BUS) -> EventBus:
        name = bus_from(name, self.context.account_id, "Name")
        self._guard.authorize("events:DescribeEventBus", {"EventBusName": name}, write=False)
        with self._engine.store.read() as conn:
            return self._repo.get_bus(conn, name)

    def list_event_buses(self, *, limit: int | None = None, next_token: str | None = None) -> Page[EventBus]:
        self._guard.authorize("events:ListEventBuses", write=False)
        with self._engine.store.read() as conn:
            return self._repo.list_buses(conn, limit, next_token)

    # --- rules ----------------------------------------------------------------------------------
    def put_rule(
        self,
        name: str,
        *,
        event_bus: str = DEFAULT_BUS,
        event_pattern: str | Mapping[str, Any] | None = None,
        schedule_expression: str | None = None,
        state: str = "ENABLED",
        description: str = "",
        managed_by: str | None = None,
    ) -> Rule:
        """Create or update a rule (``PutRule``): an event pattern, a schedule, or both."""
        name = check_rule_name(name)
        bus = bus_from(event_bus, self.context.account_id)
        _check_description(description)
        if event_pattern is None and schedule_expression is None:
            raise ValidationError(
                "a rule needs an EventPattern, a ScheduleExpression, or both", field="EventPattern"
            )
        pattern_text = None
        if event_pattern is not None:
            pattern_text = compile_pattern(event_pattern).text
        schedule = None
        if schedule_expression is not None:
            if bus != DEFAULT_BUS:
                raise ValidationError(
                    "ScheduleExpression is supported only on the default event bus",
                    field="ScheduleExpression",
                )
            parse_schedule(schedule_expression)
            schedule = ScheduleSpec(schedule_expression)
        rule_state = _state(state)
        self._guard.authorize("events:PutRule", {"EventBusName": bus, "RuleName": name})
        with self._engine.store.write() as conn:
            self._require_bus(conn, bus)
            rule, _ = self._repo.put_rule(
                conn,
                bus,
                name,
                pattern=pattern_text,
                schedule=schedule,
                state=rule_state,
                description=description,
                managed_by=managed_by,
            )
        self._engine.schedules_changed(self.context.account_id, [rule])
        return rule

    def describe_rule(self, name: str, event_bus: str = DEFAULT_BUS) -> Rule:
        name, bus = check_rule_name(name), bus_from(event_bus, self.context.account_id)
        self._guard.authorize("events:DescribeRule", {"EventBusName": bus, "RuleName": name}, write=False)
        with self._engine.store.read() as conn:
            return self._repo.get_rule(conn, bus, name)

    def list_rules(
        self,
        event_bus: str = DEFAULT_BUS,
        *,
        prefix: str | None = None,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> Page[Rule]:
        bus = bus_from(event_bus, self.context.account_id)
        self._guard.authorize("events:ListRules", {"EventBusName": bus}, write=False)
        with self._engine.store.read() as conn:
            self._require_bus(conn, bus)
            return self._repo.list_rules(conn, bus, prefix, limit, next_token)

    def delete_rule(self, name: str, event_bus: str = DEFAULT_BUS, *, force: bool = False) -> None:
        name, bus = check_rule_name(name), bus_from(event_bus, self.context.account_id)
        self._guard.authorize("events:DeleteRule", {"EventBusName": bus, "RuleName": name})
        with self._engine.store.write() as conn:
            rule = self._repo.delete_rule(conn, bus, name, force=force, managed_by=None)
        self._engine.schedules_removed(self.context.account_id, [rule])

    def enable_rule(self, name: str, event_bus: str = DEFAULT_BUS) -> Rule:
        return self._set_state(name, event_bus, RuleState.ENABLED, "events:EnableRule")

    def disable_rule(self, name: str, event_bus: str = DEFAULT_BUS) -> Rule:
        return self._set_state(name, event_bus, RuleState.DISABLED, "events:DisableRule")

    def _set_state(self, name: str, event_bus: str, state: RuleState, action: str) -> Rule:
        name, bus = check_rule_name(name), bus_from(event_bus, self.context.account_id)
        self._guard.authorize(action, {"EventBusName": bus, "RuleName": name})
        with self._engine.store.write() as conn:
            rule = self._repo.set_state(conn, bus, name, state)
        self._engine.schedules_changed(self.context.account_id, [rule])
        return rule

    # --- targets --------------------------------------------------------------------------------
    def put_targets(
        self, rule: str, targets: Sequence[Mapping[str, Any]], event_bus: str = DEFAULT_BUS
    ) -> None:
        """Add or replace targets of a rule (by ``Id``); at most five per rule, in this account."""
        name, bus = check_rule_name(rule, "Rule"), bus_from(event_bus, self.context.account_id)
        checked = self._check_targets(targets, bus, name)
        self._guard.authorize(
            "events:PutTargets",
            {"EventBusName": bus, "RuleName": name, "TargetArns": [t.arn for t in checked]},
        )
        with self._engine.store.write() as conn:
            self._repo.get_rule(conn, bus, name)
            existing = {t.target_id for t in self._repo.targets(conn, bus, name)}
            total = len(existing | {t.target_id for t in checked})
            if total > MAX_TARGETS_PER_RULE:
                raise LimitExceeded(
                    f"Rule {name} would have {total} targets; the limit is {MAX_TARGETS_PER_RULE}.",
                    rule=name,
                )
            self._repo.put_targets(conn, bus, name, checked)

    def remove_targets(self, rule: str, ids: Sequence[str], event_bus: str = DEFAULT_BUS) -> int:
        name, bus = check_rule_name(rule, "Rule"), bus_from(event_bus, self.context.account_id)
        for index, target_id in enumerate(ids):
            check_target_id(target_id, f"Ids[{index}]")
        self._guard.authorize("events:RemoveTargets", {"EventBusName": bus, "RuleName": name})
        with self._engine.store.write() as conn:
            self._repo.get_rule(conn, bus, name)
            return self._repo.remove_targets(conn, bus, name, ids)

    def list_targets(self, rule: str, event_bus: str = DEFAULT_BUS) -> builtins.list[Target]:
        name, bus = check_rule_name(rule, "Rule"), bus_from(event_bus, self.context.account_id)
        self._guard.authorize(
            "events:ListTargetsByRule", {"EventBusName": bus, "RuleName": name}, write=False
        )
        with self._engine.store.read() as conn:
            self._repo.get_rule(conn, bus, name)
            return self._repo.targets(conn, bus, name)

    def _check_targets(
        self, targets: Sequence[Mapping[str, Any]], bus: str, rule: str
    ) -> builtins.list[Target]:
        if not isinstance(targets, Sequence) or not 1 <= len(targets) <= MAX_TARGETS_PER_RULE:
            raise ValidationError(f"Targets: a list of 1 to {MAX_TARGETS_PER_RULE} targets", field="Targets")
        checked: list[Target] = []
        seen: set[str] = set()
        for index, target in enumerate(targets):
            where = f"Targets[{index}]"
            if not isinstance(target, Mapping):
                raise ValidationError(f"{where}: an object with Id and Arn", field=where)
            unknown = sorted(str(k) for k in target if k not in _TARGET_FIELDS)
            if unknown:
                raise ValidationError(f"{where}.{unknown[0]}: unknown field", field=f"{where}.{unknown[0]}")
            target_id = check_target_id(target.get("Id"), f"{where}.Id")
            if target_id in seen:
                raise ValidationError(f"{where}.Id: duplicate target Id {target_id!r}", field=f"{where}.Id")
            seen.add(target_id)
            ref = target_ref(target.get("Arn"), self.context.account_id, f"{where}.Arn")
            given = {k: target[k] for k in _INPUT_FIELDS if target.get(k) is not None}
            try:
                compile_target_input(given, rule_name=rule)
            except ValidationError as exc:
                raise ValidationError(f"{where}.{exc.message}", field=where) from None
            if ref.kind is TargetKind.BUS:
                if given:
                    raise ValidationError(
                        f"{where}: an event bus target receives the event as it is; "
                        "Input, InputPath and InputTransformer are not allowed",
                        field=where,
                    )
                if ref.name == bus:
                    raise ValidationError(
                        f"{where}.Arn: a rule cannot target its own bus", field=f"{where}.Arn"
                    )
            policy = retry_policy_from(target.get("RetryPolicy"), f"{where}.RetryPolicy")
            checked.append(Target(target_id, str(target["Arn"]), ref, given or None, policy))
        return checked

    # --- events ---------------------------------------------------------------------------------
    def put_events(self, entries: Sequence[Mapping[str, Any]]) -> PutEventsResult:
        """``PutEvents``: each valid entry is durable (with its matched deliveries) before this returns."""
        if not isinstance(entries, Sequence) or not 1 <= len(entries) <= MAX_ENTRIES_PER_PUT:
            raise ValidationError(f"Entries: a list of 1 to {MAX_ENTRIES_PER_PUT} entries", field="Entries")
        self._guard.authorize("events:PutEvents")
        account = self.context.account_id
        now = utcnow()
        results: list[dict[str, str]] = [{} for _ in entries]
        by_bus: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for index, entry in enumerate(entries):
            try:
                if not isinstance(entry, Mapping):
                    raise InvalidEntry("Entry", "an entry must be an object")
                bus = bus_from(entry.get("EventBusName") or DEFAULT_BUS, account)
                event = build_event(
                    {k: v for k, v in entry.items() if k != "EventBusName"},
                    account=account,
                    region=REGION,
                    event_bus=bus,
                    now=now,
                    event_id=new_id(),
                )
            except ValidationError as exc:
                code = str(exc.details.get("error_code", "InvalidArgument"))
                results[index] = {"ErrorCode": code, "ErrorMessage": exc.message}
                continue
            by_bus.setdefault(bus, []).append((index, event))
        rows: list[dict[str, Any]] = []
        samples: list[tuple[str, str, float]] = []
        with self._engine.store.write() as conn:
            for bus, accepted in by_bus.items():
                compiled = self._engine.cache.get(conn, self._repo, account, bus)
                if compiled is None:
                    for index, _ in accepted:
                        results[index] = {
                            "ErrorCode": "ResourceNotFoundException",
                            "ErrorMessage": f"Event bus {bus} does not exist.",
                        }
                    continue
                more, counted = self._engine.route(
                    account, bus, compiled, [e for _, e in accepted], hops=0, now=now
                )
                rows += more
                samples += counted
                for index, event in accepted:
                    results[index] = {"EventId": event["id"]}
            self._engine.queue.add(conn, rows)
        self._engine.accepted(account, rows, samples)
        return PutEventsResult(results)

    def forward(self, conn: sa.Connection, bus: str, event: dict[str, Any], *, hops: int) -> None:
        """(Delivery.) A rule's bus target: the event arrives on ``bus`` of this same account, in the
        delivering transaction. A bus that no longer exists fails the delivery (to be retried)."""
        compiled = self._engine.cache.get(conn, self._repo, self.context.account_id, bus)
        if compiled is None:
            raise NotFound(f"Event bus {bus} does not exist.", event_bus=bus)
        rows, samples = self._engine.route(
            self.context.account_id, bus, compiled, [event], hops=hops, now=utcnow()
        )
        self._engine.queue.add(conn, rows)
        account = self.context.account_id
        self._engine.store.after_commit(conn, lambda: self._engine.accepted(account, rows, samples))

    def fire_schedule(
        self, conn: sa.Connection, bus: str, name: str, at: datetime
    ) -> tuple[builtins.list[dict[str, Any]], builtins.list[tuple[str, str, float]]] | None:
        """(The timer.) ``name`` fires for ``at``: its deliveries, or ``None`` when it does not fire
        this time (the account is not active, or another node fired it already).

        Raises:
            NotFound: the rule is gone, or no longer scheduled and enabled: the timer drops it.
            StaleSchedule: ``at`` is not a fire time of the rule's schedule as stored (it was changed
                on another node): the timer arms it again.
        """
        try:
            self._guard.authorize("events:ScheduledInvoke", {"EventBusName": bus, "RuleName": name})
        except SiloError:
            return None
        rule = self._repo.get_rule(conn, bus, name)
        if rule.schedule is None or rule.state is not RuleState.ENABLED:
            raise NotFound(f"Rule {name} is not an enabled schedule any more.", rule=name)
        if not fires_at(self.context.account_id, rule, at):
            raise StaleSchedule(self.context.account_id, rule)
        if not self._repo.claim_fire(conn, bus, name, at):
            return None
        targets = self._repo.targets(conn, bus, name)
        compiled = compile_bus(0, [(rule, targets)])
        event = {
            "version": "0",
            "id": new_id(),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": self.context.account_id,
            "time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": REGION,
            "resources": [rule.arn],
            "detail": {},
        }
        return self._engine.route_scheduled(self.context.account_id, compiled.rules[name], event)

    def publish(self, conn: sa.Connection, entries: Sequence[Mapping[str, Any]]) -> None:
        """(The platform.) Its own events (``source``, ``detail_type``, ``detail``, ``at``), e.g. the
        fleet's, on this account's default bus, accepted in the caller's transaction."""
        account = self.context.account_id
        events = [
            {
                "version": "0",
                "id": new_id(),
                "detail-type": e["detail_type"],
                "source": e["source"],
                "account": account,
                "time": e["at"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": REGION,
                "resources": [],
                "detail": e["detail"],
            }
            for e in entries
        ]
        compiled = self._engine.cache.get(conn, self._repo, account, DEFAULT_BUS)
        assert compiled is not None  # the default bus always exists
        rows, samples = self._engine.route(account, DEFAULT_BUS, compiled, events, hops=0, now=utcnow())
        self._engine.queue.add(conn, rows)
        if rows or samples:
            self._engine.store.after_commit(conn, lambda: self._engine.accepted(account, rows, samples))

    def redrive(self, conn: sa.Connection, entry: DeadLetter) -> Redelivery:
        """(The DLQ.) Put a dead-lettered bus delivery of this account back on its target bus, in the
        redrive's transaction; the platform picks this scope from the stored entry's account."""
        bus = entry.target.get("bus")
        if entry.target.get("type") != TargetKind.BUS.value or not isinstance(bus, str):
            raise ValidationError(f"dead-letter entry {entry.entry_id}: its target is not an event bus")
        self._guard.authorize("events:PutEvents", {"EventBusName": bus})
        try:
            event = json.loads(entry.payload)
        except ValueError:
            raise ValidationError(
                f"dead-letter entry {entry.entry_id}: its payload is not an event"
            ) from None
        account = self.context.account_id
        compiled = self._engine.cache.get(conn, self._repo, account, bus_from(bus, account))
        if compiled is None:
            raise NotFound(f"Event bus {bus} does not exist.", event_bus=bus)
        rows, samples = self._engine.route(account, bus, compiled, [event], hops=0, now=utcnow())
        self._engine.queue.add(conn, rows)
        return Redelivery(
            {"event_bus": bus, "event_id": event.get("id"), "deliveries": len(rows)},
            after_commit=lambda: self._engine.accepted(account, rows, samples),
        )

    # --- observability --------------------------------------------------------------------------
    def rule_metrics(
        self, name: str, event_bus: str = DEFAULT_BUS, *, since: timedelta | None = None
    ) -> dict[str, Datapoint]:
        name, bus = check_rule_name(name), bus_from(event_bus, self.context.account_id)
        self._guard.authorize("metrics:Get", {"EventBusName": bus, "RuleName": name}, write=False)
        dimension = rule_dimension(bus, name)
        if since is None:
            return self._engine.metrics.totals(self.context, METRICS_NAMESPACE, dimension)
        return self._engine.metrics.totals(self.context, METRICS_NAMESPACE, dimension, since=since)

    def _require_bus(self, conn: sa.Connection, bus: str) -> None:
        if not bus.startswith(SCHEDULE_GROUP_PREFIX) and self._repo.rules_version(conn, bus) is None:
            raise NotFound(f"Event bus {bus} does not exist.", event_bus=bus)


def _state(value: str) -> RuleState:
    if value == "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS":
        return RuleState.ENABLED
    try:
        return RuleState(value)
    except ValueError:
        raise ValidationError(f"State: ENABLED or DISABLED; got {value!r}", field="State") from None


def _check_description(value: object) -> None:
    if not isinstance(value, str) or len(value) > 512:
        raise ValidationError("Description: at most 512 characters", field="Description")
