"""Plain data for stack sets, their instances and operations, and the checks on what users send."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from silo.errors import ValidationError


class OperationAction(StrEnum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"


class OperationStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    STOPPING = "STOPPING"
    STOPPED = "STOPPED"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"

    @property
    def finished(self) -> bool:
        return self in (OperationStatus.STOPPED, OperationStatus.SUCCEEDED, OperationStatus.FAILED)


def parse_statuses(
    given: OperationStatus | str | Iterable[OperationStatus | str] | None,
) -> set[OperationStatus]:
    """The statuses a listing filters by: one, several, or none (``None``: no filter)."""
    values = [] if given is None else [given] if isinstance(given, str) else list(given)
    try:
        return {OperationStatus(v) for v in values}
    except ValueError:
        allowed = ", ".join(s.value for s in OperationStatus)
        raise ValidationError(f"status: one of {allowed}; got {values!r}", field="status") from None


class TargetStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class InstanceStatus(StrEnum):
    PENDING = "PENDING"  # never deployed yet
    CURRENT = "CURRENT"  # runs the stack set's current version
    OUTDATED = "OUTDATED"  # the last operation on it failed or has not reached it yet
    INOPERABLE = "INOPERABLE"  # a delete failed


@dataclass(frozen=True, slots=True)
class Targets:
    """Which accounts: explicit ids, everything under OUs (recursively), and/or a tag selector.

    Accounts and OUs add up; ``tags`` alone selects every account carrying all of them, and with
    accounts or OUs it filters them.
    """

    accounts: tuple[str, ...] = ()
    ous: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return not (self.accounts or self.ous or self.tags)

    def to_dict(self) -> dict[str, Any]:
        return {"accounts": list(self.accounts), "ous": list(self.ous), "tags": dict(self.tags)}


@dataclass(frozen=True, slots=True)
class Wave:
    """A step of a rollout: its targets, how long to watch it after it finishes, and whether a
    failure in it stops the rollout (a canary)."""

    targets: Targets
    name: str = ""
    soak_seconds: float = 0.0
    halt_on_failure: bool = True


@dataclass(frozen=True, slots=True)
class Amount:
    """A count or a percentage (of the targets of the operation)."""

    value: int
    percent: bool = False

    def of(self, total: int, *, at_least: int) -> int:
        if not self.percent:
            return max(at_least, self.value)
        return max(at_least, total * self.value // 100)

    def __str__(self) -> str:
        return f"{self.value}%" if self.percent else str(self.value)


_AMOUNT = re.compile(r"^(\d{1,9})(%?)$")


def parse_amount(value: object, where: str, *, low: int) -> Amount:
    text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else None
    match = _AMOUNT.match(text or "")
    if match is None:
        raise ValidationError(
            f"{where}: a count (e.g. 10) or a percentage (e.g. 25%), got {value!r}", field=where
        )
    amount = Amount(int(match.group(1)), bool(match.group(2)))
    if amount.percent and not low <= amount.value <= 100:
        raise ValidationError(f"{where}: a percentage from {low}% to 100%, got {value!r}", field=where)
    if not amount.percent and amount.value < low:
        raise ValidationError(f"{where}: at least {low}, got {value!r}", field=where)
    return amount


@dataclass(frozen=True, slots=True)
class Preferences:
    """How an operation proceeds (StackSets' operation preferences, plus retries)."""

    max_concurrent: Amount = Amount(1)
    failure_tolerance: Amount = Amount(0)
    concurrency_mode: Literal["strict", "soft"] = "strict"
    max_attempts: int = 5
    retry_base_seconds: float = 1.0
    retry_max_seconds: float = 60.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "max_concurrent": str(self.max_concurrent),
            "failure_tolerance": str(self.failure_tolerance),
            "concurrency_mode": self.concurrency_mode,
            "max_attempts": self.max_attempts,
            "retry_base_seconds": self.retry_base_seconds,
            "retry_max_seconds": self.retry_max_seconds,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Preferences:
        """Check what a caller sent (names as in ``to_dict``); missing keys keep their defaults."""
        unknown = set(raw) - set(cls().to_dict())
        if unknown:
            raise ValidationError(f"preferences: unknown {sorted(unknown)}", field="preferences")
        mode = raw.get("concurrency_mode", "strict")
        if mode not in ("strict", "soft"):
            raise ValidationError(f"concurrency_mode: strict or soft, got {mode!r}", field="concurrency_mode")
        attempts = raw.get("max_attempts", 5)
        if not isinstance(attempts, int) or isinstance(attempts, bool) or not 1 <= attempts <= 20:
            raise ValidationError(
                f"max_attempts: an integer from 1 to 20, got {attempts!r}", field="max_attempts"
            )
        base = _seconds(raw.get("retry_base_seconds", 1.0), "retry_base_seconds")
        cap = _seconds(raw.get("retry_max_seconds", 60.0), "retry_max_seconds")
        return cls(
            max_concurrent=parse_amount(raw.get("max_concurrent", 1), "max_concurrent", low=1),
            failure_tolerance=parse_amount(raw.get("failure_tolerance", 0), "failure_tolerance", low=0),
            concurrency_mode=mode,
            max_attempts=attempts,
            retry_base_seconds=base,
            retry_max_seconds=max(base, cap),
        )


def _seconds(value: object, where: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 3600:
        raise ValidationError(f"{where}: seconds from 0 to 3600, got {value!r}", field=where)
    return float(value)


@dataclass(frozen=True, slots=True)
class AutoDeployment:
    enabled: bool = False
    retain_stacks_on_removal: bool = False
    ous: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "retain_stacks_on_removal": self.retain_stacks_on_removal,
            "ous": list(self.ous),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> AutoDeployment:
        return cls(
            bool(raw.get("enabled")), bool(raw.get("retain_stacks_on_removal")), tuple(raw.get("ous", ()))
        )


@dataclass(frozen=True, slots=True)
class StackSet:
    name: str
    description: str
    version: int
    template_sha256: str
    parameters: dict[str, Any]
    auto_deployment: AutoDeployment
    status: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class StackInstance:
    stack_set: str
    account_id: str
    status: InstanceStatus
    status_reason: str
    version: int
    overrides: dict[str, Any]
    operation_id: str | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Operation:
    operation_id: str
    stack_set: str
    action: OperationAction
    status: OperationStatus
    status_reason: str
    version: int
    preferences: Preferences
    waves: int
    current_wave: int
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
