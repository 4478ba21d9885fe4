"""The ASL interpreter: a deterministic step machine with no I/O.

:func:`step` takes a state machine, an :class:`Execution` and one event (``Start``,
``TaskSucceeded``/``TaskFailed``, ``TimerFired``, ``ChildSucceeded``/``ChildFailed``,
``TimedOut``, ``Redrive``) and returns a :class:`Step`: the next execution state, the commands the caller must
carry out (``InvokeTask``, ``StartTimer``, ``StartChild``, ``CancelChildren``, ``Finish``) and the
history events to append (the GetExecutionHistory types: ``ExecutionStarted``,
``TaskStateEntered``, ``TaskScheduled``, ``MapIterationStarted``, ``ExecutionSucceeded``, ...).

The same inputs always give the same outputs (randomness, for jitter and ``States.UUID``, is seeded
from the execution id and its transition count), so a durable layer can rebuild an execution by
replaying the events of its history. Map items and Parallel branches are child executions of
their own machine (:func:`new_child`), run by the caller with the same :func:`step`.
"""

from __future__ import annotations

from typing import Any

from silo.workflows.interpreter._io import WAIT_FOR_TASK_TOKEN
from silo.workflows.interpreter._machine import step
from silo.workflows.interpreter._model import (
    ABORTED,
    FAILED,
    RUNNING,
    SUCCEEDED,
    TIMED_OUT,
    CancelChildren,
    ChildFailed,
    ChildSucceeded,
    Command,
    Event,
    Execution,
    ExecutionInfo,
    Finish,
    HistoryEvent,
    InvokeTask,
    Redrive,
    Start,
    StartChild,
    StartTimer,
    Step,
    TaskFailed,
    TaskSucceeded,
    TimedOut,
    TimerFired,
)


def new_execution(info: ExecutionInfo, variables: dict[str, Any] | None = None) -> Execution:
    """A fresh execution, to be started with a :class:`Start` event."""
    return Execution(info, variables=dict(variables or {}))


def new_child(parent: Execution, command: StartChild) -> Execution:
    """The execution of one Map item or Parallel branch: same identity, the parent's variables."""
    return Execution(parent.info, input=parent.input, variables=dict(command.variables), child=True)


__all__ = [
    "ABORTED",
    "FAILED",
    "RUNNING",
    "SUCCEEDED",
    "TIMED_OUT",
    "WAIT_FOR_TASK_TOKEN",
    "CancelChildren",
    "ChildFailed",
    "ChildSucceeded",
    "Command",
    "Event",
    "Execution",
    "ExecutionInfo",
    "Finish",
    "HistoryEvent",
    "InvokeTask",
    "Redrive",
    "Start",
    "StartChild",
    "StartTimer",
    "Step",
    "TaskFailed",
    "TaskSucceeded",
    "TimedOut",
    "TimerFired",
    "new_child",
    "new_execution",
    "step",
]
