"""Run an execution to completion in memory: the engine behind ``silo workflows run-local``.

Tasks are calls of ``task_handler(resource, input)``; a handler fails a task by raising (a
:class:`StatesError` gives the error name and cause, any other exception its class name and text).
Waits and retry delays take no time: a virtual clock jumps to when they end. Map items and Parallel
branches run one after another, each to completion.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from silo.workflows.definition import StateMachine, parse_definition
from silo.workflows.errors import StatesError
from silo.workflows.interpreter import (
    CancelChildren,
    ChildFailed,
    ChildSucceeded,
    Event,
    Execution,
    ExecutionInfo,
    HistoryEvent,
    InvokeTask,
    Start,
    StartChild,
    StartTimer,
    TaskFailed,
    TaskSucceeded,
    TimerFired,
    new_child,
    new_execution,
    step,
)
from silo.workflows.interpreter._machine import stamp

TaskHandler = Callable[[str, Any], Any]
MAX_EVENTS = 1_000_000


def run_local(
    definition: str | Mapping[str, Any] | StateMachine,
    input: Any,
    task_handler: TaskHandler,
    *,
    name: str = "local",
    now: datetime | None = None,
    history: list[HistoryEvent] | None = None,
) -> dict[str, Any]:
    """Run ``definition`` on ``input``; returns ``{"status", "output", "error", "cause"}``.

    Raises:
        InvalidDefinition: the definition does not validate.
    """
    machine = definition if isinstance(definition, StateMachine) else parse_definition(definition)
    start = now or datetime.now(UTC)
    info = ExecutionInfo(
        id=f"arn:silo:states:local:execution:local:{name}",
        name=name,
        start_time=stamp(start),
        state_machine_id="arn:silo:states:local:stateMachine:local",
        state_machine_name="local",
    )
    driver = _Driver(task_handler, start, history)
    execution = driver.drive(machine, new_execution(info), Start(input, start))
    return {
        "status": execution.status,
        "output": execution.output,
        "error": execution.error,
        "cause": execution.cause,
    }


class _Driver:
    def __init__(self, handler: TaskHandler, now: datetime, history: list[HistoryEvent] | None) -> None:
        self.handler = handler
        self.now = now
        self.history = history
        self.events = 0

    def drive(self, machine: StateMachine, execution: Execution, first: Event) -> Execution:
        queue: deque[Event | StartChild] = deque([first])
        while queue:
            item = queue.popleft()
            if isinstance(item, StartChild):
                queue.append(self.child(machine, execution, item))
                continue
            self.events += 1
            if self.events > MAX_EVENTS:
                raise RuntimeError(f"run_local stopped after {MAX_EVENTS} events")
            result = step(machine, execution, item)
            execution = result.execution
            if self.history is not None:
                self.history.extend(result.history)
            for command in result.commands:
                if isinstance(command, InvokeTask):
                    queue.append(self.invoke(command))
                elif isinstance(command, StartTimer):
                    self.now = max(self.now, command.until)
                    queue.append(TimerFired(self.now))
                elif isinstance(command, StartChild):
                    queue.append(command)
                elif isinstance(command, CancelChildren):
                    for pending in [entry for entry in queue if isinstance(entry, StartChild)]:
                        queue.remove(pending)
        return execution

    def invoke(self, command: InvokeTask) -> Event:
        try:
            output = self.handler(command.resource, command.input)
        except StatesError as error:
            return TaskFailed(error.error, error.cause, self.now)
        except Exception as error:  # a task's own failure, named after its class
            return TaskFailed(type(error).__name__, str(error), self.now)
        return TaskSucceeded(output, self.now)

    def child(self, machine: StateMachine, parent: Execution, command: StartChild) -> Event:
        del machine
        child = self.drive(command.machine, new_child(parent, command), Start(command.input, self.now))
        if child.status == "SUCCEEDED":
            return ChildSucceeded(command.index, child.output, self.now, command.generation)
        return ChildFailed(command.index, child.error or "", child.cause or "", self.now, command.generation)
