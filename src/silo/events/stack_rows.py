"""The rows a stack writes for its ``rule``, ``schedule`` and ``event_bus`` resources. Pure.

The stacks deployer hands over resolved resources (kind, CloudFormation type and properties, as
:class:`silo.templates.Resource` documents them); here they are checked as PutRule and PutTargets
check what users send, and turned into ``event_buses``, ``event_rules`` and ``event_targets`` rows.
A stack's rules carry ``managed_by`` = the stack's name, so PutRule and DeleteRule refuse them.

Where a rule lives: an ``AWS::Events::Rule`` (SAM ``EventBridgeRule``, ``CloudWatchEvent`` and
``Schedule`` events generate one) on its bus, ``default`` unless named; an
``AWS::Scheduler::Schedule`` (SAM ``ScheduleV2``) in the ``schedules:default`` group. A schedule has
one target, its function.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from silo.errors import SiloError, ValidationError
from silo.events.models import (
    DEFAULT_BUS,
    MAX_TARGETS_PER_RULE,
    REGION,
    SCHEDULE_GROUP_PREFIX,
    Rule,
    RuleState,
    ScheduleSpec,
    Target,
    TargetKind,
    check_target_id,
    first_rules_version,
    retry_policy_from,
    rule_arn,
    target_ref,
)
from silo.events.patterns import compile_pattern
from silo.events.target_input import compile_target_input
from silo.schedules import parse_schedule

RULE_KINDS = frozenset({"rule", "schedule"})
EVENT_KINDS = frozenset({*RULE_KINDS, "event_bus"})
SCHEDULER_TYPE = "AWS::Scheduler::Schedule"
SCHEDULE_GROUP = f"{SCHEDULE_GROUP_PREFIX}default"
BUILT_IN_BUSES = frozenset({DEFAULT_BUS, SCHEDULE_GROUP})
"""Buses that exist in every account without a row (they get one when their rules first change)."""

RuleKey = tuple[str, str]
"""(bus, rule name)"""


@dataclass(frozen=True, slots=True)
class StackRule:
    """A stack's rule or schedule, checked."""

    bus: str
    name: str
    pattern: str | None
    schedule: ScheduleSpec | None
    state: RuleState
    targets: tuple[Target, ...] = ()

    @property
    def key(self) -> RuleKey:
        return (self.bus, self.name)


def rule_location(type_: str, kind: str, properties: Mapping[str, Any]) -> RuleKey:
    """Where a rule or schedule resource lives; no checks (recorded resources use it too)."""
    if kind == "schedule":
        return (SCHEDULE_GROUP if type_ == SCHEDULER_TYPE else DEFAULT_BUS, properties["name"])
    return (properties["event_bus"], properties["name"])


def stack_rule(
    account: str, logical_id: str, type_: str, kind: str, properties: Mapping[str, Any]
) -> StackRule:
    """Check a rule or schedule resource of ``account``: pattern, schedule, targets (at most five,
    all in this account). Errors name the resource (``Resources.<LogicalId>.Properties...``)."""
    where = f"Resources.{logical_id}.Properties"
    bus, name = rule_location(type_, kind, properties)
    targets = given_targets(account, logical_id, kind, properties)
    if kind == "schedule":
        expression, pattern = properties["expression"], None
    else:
        expression, pattern = properties["schedule"], properties["pattern"]
    if len(targets) > MAX_TARGETS_PER_RULE:
        raise ValidationError(
            f"{where}.Targets: at most {MAX_TARGETS_PER_RULE} targets, got {len(targets)}",
            path=f"{where}.Targets",
        )
    schedule = None
    if expression is not None:
        _at(f"{where}.ScheduleExpression", _checked_schedule, expression)
        schedule = ScheduleSpec(expression)
    text = None
    if pattern is not None:
        text = _at(f"{where}.EventPattern", _pattern_text, json.dumps(pattern, separators=(",", ":")))
    checked = tuple(_target(account, bus, t, f"{where}.Targets[{i}]") for i, t in enumerate(targets))
    state = RuleState.ENABLED if properties["enabled"] else RuleState.DISABLED
    return StackRule(bus, name, text, schedule, state, checked)


def given_targets(
    account: str, logical_id: str, kind: str, properties: Mapping[str, Any]
) -> list[Mapping[str, Any]]:
    """A rule's targets as resolved (``id``, ``arn``, ``input``?); a schedule's is its function."""
    if kind != "schedule":
        return list(properties["targets"])
    target = {"id": schedule_target_id(logical_id), "arn": function_arn(account, properties["target"])}
    if properties.get("input") is not None:
        target["input"] = properties["input"]
    return [target]


def recorded_rule(type_: str, kind: str, properties: Mapping[str, Any]) -> StackRule:
    """A rule as a stack recorded it, unchecked and without targets (to say what was removed)."""
    bus, name = rule_location(type_, kind, properties)
    expression = properties.get("expression" if kind == "schedule" else "schedule")
    schedule = None if expression is None else ScheduleSpec(expression)
    state = RuleState.ENABLED if properties.get("enabled", True) else RuleState.DISABLED
    return StackRule(bus, name, None, schedule, state)


def rule_row(account: str, stack: str, rule: StackRule, now: datetime) -> dict[str, Any]:
    """The ``event_rules`` row; an update keeps ``created_at`` and ``last_fired_at``."""
    return {
        "account_id": account,
        "bus_name": rule.bus,
        "name": rule.name,
        "pattern": rule.pattern,
        "schedule_expression": rule.schedule.expression if rule.schedule else None,
        "schedule_timezone": rule.schedule.timezone if rule.schedule else None,
        "schedule_window_minutes": rule.schedule.window_minutes if rule.schedule else None,
        "state": rule.state.value,
        "description": "",
        "managed_by": stack,
        "created_at": now,
        "updated_at": now,
        "last_fired_at": None,
    }


def target_rows(account: str, rule: StackRule, now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "account_id": account,
            "bus_name": rule.bus,
            "rule_name": rule.name,
            "target_id": t.target_id,
            "arn": t.arn,
            "input": t.input,
            "retry_policy": t.retry_policy.to_json(),
            "created_at": now,
        }
        for t in rule.targets
    ]


def bus_row(account: str, name: str, now: datetime) -> dict[str, Any]:
    return {
        "account_id": account,
        "name": name,
        "description": "",
        "rules_version": first_rules_version(),
        "created_at": now,
    }


def as_rule(account: str, stack: str, rule: StackRule, now: datetime) -> Rule:
    """The rule as the events service sees it (for the schedule timer, after the deploy commits)."""
    return Rule(
        rule.name,
        rule.bus,
        rule_arn(account, rule.bus, rule.name),
        rule.pattern,
        rule.schedule,
        rule.state,
        "",
        stack,
        now,
        now,
    )


def function_arn(account: str, name: str) -> str:
    return f"arn:silo:lambda:{REGION}:{account}:function:{name}"


def schedule_target_id(logical_id: str) -> str:
    """SAM's ``{LogicalId}LambdaTarget``, shortened (with a hash) past the 64-character limit."""
    wanted = f"{logical_id}LambdaTarget"
    if len(wanted) <= 64:
        return wanted
    return f"{logical_id[:55]}-{hashlib.sha256(logical_id.encode()).hexdigest()[:8]}"


def _target(account: str, bus: str, given: Mapping[str, Any], where: str) -> Target:
    target_id = check_target_id(given["id"], f"{where}.Id")
    ref = target_ref(given["arn"], account, f"{where}.Arn")
    spec = {key: given[field] for key, field in _INPUT_FIELDS if given.get(field) is not None}
    if ref.kind is TargetKind.BUS:
        if spec:
            raise ValidationError(
                f"{where}: an event bus target receives the event as it is; "
                "Input, InputPath and InputTransformer are not allowed",
                path=where,
            )
        if ref.name == bus:
            raise ValidationError(f"{where}.Arn: a rule cannot target its own bus", path=f"{where}.Arn")
    try:
        compile_target_input(spec)
    except ValidationError as exc:
        raise ValidationError(f"{where}.{exc.message}", path=where) from None
    policy = retry_policy_from(given.get("retry_policy"), f"{where}.RetryPolicy")
    return Target(target_id, str(given["arn"]), ref, spec or None, policy)


_INPUT_FIELDS = (("Input", "input"), ("InputPath", "input_path"), ("InputTransformer", "input_transformer"))


# A fleet deploys the same rule to every account: each pattern and expression is checked once.
@functools.lru_cache(maxsize=1024)
def _pattern_text(pattern: str) -> str:
    return compile_pattern(pattern).text


@functools.lru_cache(maxsize=1024)
def _checked_schedule(expression: str) -> str:
    parse_schedule(expression)
    return expression


def _at(where: str, check: Callable[[str], str], value: str) -> str:
    try:
        return check(value)
    except SiloError as exc:
        raise ValidationError(f"{where}: {exc.message}", **{**exc.details, "path": where}) from None
