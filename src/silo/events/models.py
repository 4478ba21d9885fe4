"""Plain data for buses, rules and targets, and the checks on what users send (as PutRule,
PutTargets and CreateEventBus check them)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from silo.errors import ValidationError

DEFAULT_BUS = "default"
REGION = "local"
METRICS_NAMESPACE = "Events"
SCHEDULE_GROUP_PREFIX = "schedules:"
"""Scheduler schedules are rules kept under ``schedules:<group>``: ':' is never in a bus name."""

MAX_TARGETS_PER_RULE = 5
MAX_ENTRIES_PER_PUT = 10
MAX_HOPS = 5
"""A bus-to-bus chain longer than this is a loop: the delivery goes to the DLQ instead."""

_BUS = re.compile(r"^[/.\-_A-Za-z0-9]{1,256}$")
_RULE = re.compile(r"^[.\-_A-Za-z0-9]{1,64}$")
_TARGET_ID = re.compile(r"^[.\-_A-Za-z0-9]{1,64}$")
_ARN = re.compile(
    r"^arn:(?:silo|aws):(?P<service>lambda|events|states):(?P<region>[a-z0-9-]*):(?P<account>[0-9]{12}):"
    r"(?P<resource>.+)$"
)
_FUNCTION = re.compile(
    r"^function:(?P<name>[A-Za-z0-9_-]{1,64})(?::(?P<qualifier>\$LATEST|[A-Za-z0-9_-]{1,128}))?$"
)
_STATE_MACHINE = re.compile(r"^stateMachine:(?P<name>[A-Za-z0-9_-]{1,80})$")


class RuleState(StrEnum):
    ENABLED = "ENABLED"
    DISABLED = "DISABLED"


class TargetKind(StrEnum):
    FUNCTION = "function"
    BUS = "bus"
    WORKFLOW = "workflow"


@dataclass(frozen=True, slots=True)
class EventBus:
    name: str
    arn: str
    description: str
    created_at: datetime | None


@dataclass(frozen=True, slots=True)
class ScheduleSpec:
    expression: str
    timezone: str = "UTC"
    window_minutes: int | None = None
    """A FLEXIBLE time window of this many minutes; ``None`` is OFF (``rate`` still gets its jitter)."""


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    bus: str
    arn: str
    pattern: str | None
    schedule: ScheduleSpec | None
    state: RuleState
    description: str
    managed_by: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """EventBridge's: up to 185 retries over up to 24 hours by default."""

    maximum_retry_attempts: int = 185
    maximum_event_age_s: int = 86400

    def to_json(self) -> dict[str, int]:
        return {
            "MaximumRetryAttempts": self.maximum_retry_attempts,
            "MaximumEventAgeInSeconds": self.maximum_event_age_s,
        }


@dataclass(frozen=True, slots=True)
class TargetRef:
    """What an ARN points at, inside the rule's own account."""

    kind: TargetKind
    name: str
    qualifier: str | None = None


@dataclass(frozen=True, slots=True)
class Target:
    target_id: str
    arn: str
    ref: TargetRef
    input: dict[str, Any] | None
    """The target's ``Input``, ``InputPath`` or ``InputTransformer`` (one of them), as given."""
    retry_policy: RetryPolicy


def check_bus_name(value: object, where: str = "EventBusName") -> str:
    if not isinstance(value, str) or not _BUS.match(value):
        raise ValidationError(
            f"{where}: 1-256 letters, digits, '/', '.', '-' or '_'; got {value!r}", field=where
        )
    return value


def bus_from(value: object, account: str, where: str = "EventBusName") -> str:
    """A bus given by name or by ARN; an ARN must name a bus of ``account``."""
    if isinstance(value, str) and value.startswith("arn:"):
        found = _ARN.match(value)
        if not found or found["service"] != "events" or not found["resource"].startswith("event-bus/"):
            raise ValidationError(f"{where}: {value!r} is not an event bus ARN", field=where)
        if found["account"] != account:
            raise ValidationError(f"{where}: {value!r} is a bus of another account", field=where)
        value = found["resource"][len("event-bus/") :]
    return check_bus_name(value, where)


def check_rule_name(value: object, where: str = "Name") -> str:
    if not isinstance(value, str) or not _RULE.match(value):
        raise ValidationError(f"{where}: 1-64 letters, digits, '.', '-' or '_'; got {value!r}", field=where)
    return value


def check_target_id(value: object, where: str = "Id") -> str:
    if not isinstance(value, str) or not _TARGET_ID.match(value):
        raise ValidationError(f"{where}: 1-64 letters, digits, '.', '-' or '_'; got {value!r}", field=where)
    return value


def target_ref(arn: object, account: str, where: str = "Arn") -> TargetRef:
    """The target an ARN names. Targets live in the rule's own account: another account's ARN,
    or a kind Silo cannot deliver to, is refused here (at PutTargets), not at delivery."""
    if not isinstance(arn, str) or len(arn) > 1600:
        raise ValidationError(f"{where}: an ARN of at most 1600 characters; got {arn!r}", field=where)
    found = _ARN.match(arn)
    if found is None:
        raise ValidationError(
            f"{where}: {arn!r} is not a function, event bus or state machine ARN "
            "(arn:silo:lambda|events|states:REGION:ACCOUNT:...)",
            field=where,
        )
    if found["account"] != account:
        raise ValidationError(
            f"{where}: {arn!r} is in account {found['account']}; targets must be in the rule's own "
            f"account ({account})",
            field=where,
        )
    service, resource = found["service"], found["resource"]
    if service == "lambda":
        function = _FUNCTION.match(resource)
        if function is None:
            raise ValidationError(f"{where}: {arn!r} is not a function ARN", field=where)
        return TargetRef(TargetKind.FUNCTION, function["name"], function["qualifier"])
    if service == "events":
        if not resource.startswith("event-bus/"):
            raise ValidationError(f"{where}: {arn!r} is not an event bus ARN", field=where)
        return TargetRef(TargetKind.BUS, check_bus_name(resource[len("event-bus/") :], where))
    machine = _STATE_MACHINE.match(resource)
    if machine is None:
        raise ValidationError(f"{where}: {arn!r} is not a state machine ARN", field=where)
    return TargetRef(TargetKind.WORKFLOW, machine["name"])


def retry_policy_from(value: object, where: str = "RetryPolicy") -> RetryPolicy:
    if value is None:
        return RetryPolicy()
    if not isinstance(value, Mapping):
        raise ValidationError(f"{where}: an object", field=where)
    unknown = sorted(set(value) - {"MaximumRetryAttempts", "MaximumEventAgeInSeconds"})
    if unknown:
        raise ValidationError(f"{where}.{unknown[0]}: unknown field", field=f"{where}.{unknown[0]}")
    attempts = value.get("MaximumRetryAttempts", 185)
    age = value.get("MaximumEventAgeInSeconds", 86400)
    if not _int_between(attempts, 0, 185):
        raise ValidationError(
            f"{where}.MaximumRetryAttempts: between 0 and 185; got {attempts!r}",
            field=f"{where}.MaximumRetryAttempts",
        )
    if not _int_between(age, 60, 86400):
        raise ValidationError(
            f"{where}.MaximumEventAgeInSeconds: between 60 and 86400; got {age!r}",
            field=f"{where}.MaximumEventAgeInSeconds",
        )
    return RetryPolicy(attempts, age)


def _int_between(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def bus_arn(account: str, bus: str) -> str:
    return f"arn:silo:events:{REGION}:{account}:event-bus/{bus}"


def rule_arn(account: str, bus: str, rule: str) -> str:
    if bus.startswith(SCHEDULE_GROUP_PREFIX):
        group = bus[len(SCHEDULE_GROUP_PREFIX) :]
        return f"arn:silo:scheduler:{REGION}:{account}:schedule/{group}/{rule}"
    resource = f"rule/{rule}" if bus == DEFAULT_BUS else f"rule/{bus}/{rule}"
    return f"arn:silo:events:{REGION}:{account}:{resource}"


def rule_dimension(bus: str, rule: str) -> str:
    """The metrics dimension of a rule (the bus alone is the dimension of bus-wide counts)."""
    return f"{bus}/{rule}"


def first_rules_version() -> int:
    """A new bus row's ``rules_version``: random, so a bus deleted and made again under the same
    name never meets a node's cached index of the old one at an equal version."""
    return secrets.randbelow(2**30) + 1
