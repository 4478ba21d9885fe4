"""What the workflows service hands out: state machines, executions, history events; ARNs; names."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from silo.errors import Conflict, NotFound, ValidationError

REGION = "local"
MAX_EXECUTION_INPUT_BYTES = 256 * 1024
STANDARD = "STANDARD"
EXECUTION_STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_STATE_MACHINE_ARN = re.compile(
    r"^arn:(?:silo|aws):states:[a-z0-9-]+:(?P<account>\d{12}):stateMachine:(?P<name>[A-Za-z0-9_-]{1,80})$"
)
_EXECUTION_ARN = re.compile(
    r"^arn:(?:silo|aws):states:[a-z0-9-]+:(?P<account>\d{12}):execution:"
    r"(?P<machine>[A-Za-z0-9_-]{1,80}):(?P<name>[A-Za-z0-9_-]{1,80})$"
)


class ExecutionAlreadyExists(Conflict):
    code = "ExecutionAlreadyExists"


class ExecutionNotRedrivable(Conflict):
    code = "ExecutionNotRedrivable"


class StateMachineDoesNotExist(NotFound):
    code = "StateMachineDoesNotExist"


class ExecutionDoesNotExist(NotFound):
    code = "ExecutionDoesNotExist"


class InvalidToken(ValidationError):
    code = "InvalidToken"


class TaskTimedOut(NotFound):
    """A callback for a task that is no longer waiting (answered, timed out, or its execution ended)."""

    code = "TaskTimedOut"


def check_name(value: object, where: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValidationError(f"{where}: 1-80 letters, digits, '-' or '_'; got {value!r}", field=where)
    return value


def state_machine_arn(account: str, name: str) -> str:
    return f"arn:silo:states:{REGION}:{account}:stateMachine:{name}"


def execution_arn(account: str, machine: str, name: str) -> str:
    return f"arn:silo:states:{REGION}:{account}:execution:{machine}:{name}"


def state_machine_name(value: object, account: str, where: str = "stateMachineArn") -> str:
    """A state machine of ``account`` by name or ARN; another account's ARN is refused."""
    if isinstance(value, str):
        found = _STATE_MACHINE_ARN.match(value)
        if found is not None:
            if found["account"] != account:
                raise ValidationError(
                    f"{where}: {value!r} is in account {found['account']}, not this account ({account})",
                    field=where,
                )
            return found["name"]
    return check_name(value, where)


def execution_ref(value: object, account: str, where: str = "executionArn") -> tuple[str, str]:
    """(state machine, execution name) of an execution ARN of ``account``."""
    found = _EXECUTION_ARN.match(value) if isinstance(value, str) else None
    if found is None:
        raise ValidationError(
            f"{where}: expected arn:silo:states:REGION:ACCOUNT:execution:MACHINE:NAME; got {value!r}",
            field=where,
        )
    if found["account"] != account:
        raise ValidationError(
            f"{where}: {value!r} is in account {found['account']}, not this account ({account})",
            field=where,
        )
    return found["machine"], found["name"]


@dataclass(frozen=True, slots=True)
class StateMachineInfo:
    name: str
    arn: str
    definition: str
    revision: str
    description: str
    managed_by: str | None
    created_at: datetime
    updated_at: datetime
    type: str = STANDARD


@dataclass(frozen=True, slots=True)
class ExecutionInfo:
    """``DescribeExecution``'s view of one execution."""

    arn: str
    name: str
    state_machine: str
    state_machine_arn: str
    status: str
    input: Any
    output: Any
    error: str | None
    cause: str | None
    started_at: datetime
    stopped_at: datetime | None
    redrive_count: int

    def as_json(self) -> dict[str, Any]:
        """The ``DescribeExecution`` shape (JSON payloads as text, as Step Functions returns them)."""
        body: dict[str, Any] = {
            "executionArn": self.arn,
            "name": self.name,
            "stateMachineArn": self.state_machine_arn,
            "status": self.status,
            "startDate": self.started_at.isoformat(),
            "input": json.dumps(self.input),
            "redriveCount": self.redrive_count,
        }
        if self.stopped_at is not None:
            body["stopDate"] = self.stopped_at.isoformat()
        if self.status == "SUCCEEDED":
            body["output"] = json.dumps(self.output)
        if self.error is not None:
            body["error"] = self.error
        if self.cause is not None:
            body["cause"] = self.cause
        return body


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One ``GetExecutionHistory`` event: ``id`` counts from 1, ``previous_id`` links them."""

    id: int
    previous_id: int
    type: str
    timestamp: datetime
    details: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "previousEventId": self.previous_id,
            "type": self.type,
            "timestamp": self.timestamp.isoformat(),
            "details": self.details,
        }
