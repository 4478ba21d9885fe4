"""What the interpreter works on: the execution state, the events it is fed, the commands and
history events it answers with. All are immutable values (JSON payloads are never changed in place).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from silo.workflows.definition import StateMachine

RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED = "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"


@dataclass(frozen=True)
class ExecutionInfo:
    """The execution's identity, as the context object ``$$.Execution``/``$$.StateMachine`` shows it."""

    id: str
    name: str
    start_time: str
    state_machine_id: str = ""
    state_machine_name: str = ""
    role_arn: str = ""


@dataclass(frozen=True)
class Children:
    """Bookkeeping of a running Map or Parallel state: child inputs, results, counts."""

    inputs: tuple[Any, ...]
    results: tuple[Any, ...]
    started: int = 0
    finished: int = 0
    failed: int = 0
    max_concurrency: int = 0
    tolerated_count: int | None = None
    tolerated_percentage: float | None = None
    generation: str = ""


@dataclass(frozen=True)
class Execution:
    """The state of one execution (or of one Map/Parallel child) between two events.

    ``waiting`` says what it waits for: ``task`` (a task result), ``timer`` (a Wait state),
    ``retry`` (the delay before a retry), ``children`` (Map/Parallel children), or ``""``.
    """

    info: ExecutionInfo
    input: Any = None
    status: str = RUNNING
    state_name: str | None = None
    state_input: Any = None
    effective_input: Any = None
    entered_time: str = ""
    waiting: str = ""
    attempts: tuple[int, ...] = ()
    retry_count: int = 0
    variables: dict[str, Any] = field(default_factory=dict)
    children: Children | None = None
    transitions: int = 0
    output: Any = None
    error: str | None = None
    cause: str | None = None
    child: bool = False
    token_key: str = ""  # set by a durable driver: task tokens ($$.Task.Token) start with it
    redrive_count: int = 0

    @property
    def task_token(self) -> str:
        """The token of the current task attempt (``.waitForTaskToken``); empty without a key."""
        if not self.token_key:
            return ""
        return f"{self.token_key}.{self.transitions}.{self.retry_count}"

    @property
    def done(self) -> bool:
        return self.status != RUNNING


# events ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Start:
    input: Any
    at: datetime


@dataclass(frozen=True)
class TaskSucceeded:
    output: Any
    at: datetime


@dataclass(frozen=True)
class TaskFailed:
    """A task that failed; a timeout is ``error="States.Timeout"``."""

    error: str
    cause: str
    at: datetime


@dataclass(frozen=True)
class TimerFired:
    at: datetime


@dataclass(frozen=True)
class ChildSucceeded:
    index: int
    output: Any
    at: datetime
    generation: str = ""


@dataclass(frozen=True)
class ChildFailed:
    index: int
    error: str
    cause: str
    at: datetime
    generation: str = ""


@dataclass(frozen=True)
class TimedOut:
    """The execution's own ``TimeoutSeconds`` passed (the caller keeps that timer)."""

    at: datetime


@dataclass(frozen=True)
class Redrive:
    """Run a failed, timed-out or aborted execution again from the state where it stopped."""

    at: datetime


Event = Redrive | Start | TaskSucceeded | TaskFailed | TimerFired | ChildSucceeded | ChildFailed | TimedOut

# commands ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvokeTask:
    """Call ``resource`` with ``input``; answer with TaskSucceeded or TaskFailed."""

    resource: str
    input: Any
    timeout_seconds: int | None = None
    heartbeat_seconds: int | None = None
    credentials: Any = None


@dataclass(frozen=True)
class StartTimer:
    """Answer with TimerFired at ``until``."""

    until: datetime


@dataclass(frozen=True)
class StartChild:
    """Run ``machine`` as a child execution (see ``new_child``); answer with ChildSucceeded/Failed."""

    index: int
    machine: StateMachine
    input: Any
    variables: dict[str, Any]
    generation: str = ""


@dataclass(frozen=True)
class CancelChildren:
    """Stop the children still running for this state (their later answers are ignored)."""

    generation: str


@dataclass(frozen=True)
class Finish:
    status: str
    output: Any = None
    error: str | None = None
    cause: str | None = None


Command = InvokeTask | StartTimer | StartChild | CancelChildren | Finish


@dataclass(frozen=True)
class HistoryEvent:
    """One GetExecutionHistory event: ``type`` (``TaskScheduled``) and its details."""

    type: str
    timestamp: datetime
    details: dict[str, Any]


@dataclass(frozen=True)
class Step:
    """What one event led to: the new state, what to do, what to append to the history."""

    execution: Execution
    commands: tuple[Command, ...]
    history: tuple[HistoryEvent, ...]
