"""Plain data for stacks, their resources, events and change sets."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from silo.errors import ValidationError

_STACK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")
_CHANGE_SET_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")


class StackStatus(StrEnum):
    CREATE_COMPLETE = "CREATE_COMPLETE"
    UPDATE_COMPLETE = "UPDATE_COMPLETE"
    # A failed create leaves an empty stack that records why (as CloudFormation's ROLLBACK_COMPLETE).
    ROLLBACK_COMPLETE = "ROLLBACK_COMPLETE"
    UPDATE_ROLLBACK_COMPLETE = "UPDATE_ROLLBACK_COMPLETE"


class ChangeSetStatus(StrEnum):
    CREATE_COMPLETE = "CREATE_COMPLETE"
    EXECUTE_COMPLETE = "EXECUTE_COMPLETE"
    EXECUTE_FAILED = "EXECUTE_FAILED"
    # The stack changed after the change set was made: executing it would apply a stale diff.
    OBSOLETE = "OBSOLETE"


ResourceStatus = Literal["CREATE_COMPLETE", "UPDATE_COMPLETE", "NOT_RUNNABLE"]
ChangeAction = Literal["Add", "Modify", "Remove"]


@dataclass(frozen=True, slots=True)
class Stack:
    name: str
    stack_id: str
    status: StackStatus
    status_reason: str
    template_sha256: str
    parameters: dict[str, Any]
    outputs: dict[str, Any]
    description: str
    stack_set: str | None
    operation_id: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class StackResource:
    logical_id: str
    type: str
    kind: str
    physical_name: str
    arn: str
    status: str
    updated_at: datetime

    @property
    def runnable(self) -> bool:
        return self.status != "NOT_RUNNABLE"


@dataclass(frozen=True, slots=True)
class StackEvent:
    event_id: str
    at: datetime
    logical_id: str
    resource_type: str
    status: str
    reason: str


@dataclass(frozen=True, slots=True)
class Change:
    """One resource change a deploy would make (and, once executed, made)."""

    action: ChangeAction
    logical_id: str
    type: str
    kind: str
    physical_name: str
    replacement: bool = False
    properties: tuple[str, ...] = ()
    """Top-level properties that differ (Modify only)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "logical_id": self.logical_id,
            "type": self.type,
            "kind": self.kind,
            "physical_name": self.physical_name,
            "replacement": self.replacement,
            "properties": list(self.properties),
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Change:
        return cls(
            action=raw["action"],
            logical_id=raw["logical_id"],
            type=raw["type"],
            kind=raw["kind"],
            physical_name=raw["physical_name"],
            replacement=bool(raw.get("replacement")),
            properties=tuple(raw.get("properties", ())),
        )


@dataclass(frozen=True, slots=True)
class ChangeSet:
    name: str
    stack_name: str
    status: ChangeSetStatus
    changes: tuple[Change, ...]
    parameters: dict[str, Any]
    template_sha256: str
    created_at: datetime
    executed_at: datetime | None = None
    not_runnable: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Drift:
    """A resource whose live state differs from what its stack last wrote."""

    logical_id: str
    physical_name: str
    status: Literal["MODIFIED", "DELETED"]
    properties: tuple[str, ...] = ()


def check_stack_name(value: object, where: str = "stack_name") -> str:
    if not isinstance(value, str) or not _STACK_NAME.match(value):
        raise ValidationError(
            f"{where}: 1-128 letters, digits or '-', starting with a letter; got {value!r}", field=where
        )
    return value


def check_change_set_name(value: object, where: str = "change_set") -> str:
    if not isinstance(value, str) or not _CHANGE_SET_NAME.match(value):
        raise ValidationError(
            f"{where}: 1-128 letters, digits or '-', starting with a letter; got {value!r}", field=where
        )
    return value
