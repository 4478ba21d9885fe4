"""The step function: (definition, execution, event) -> (execution, commands, history)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from silo.workflows.choice import evaluate_condition, evaluate_rule, parse_timestamp
from silo.workflows.definition import State, StateMachine
from silo.workflows.definition._model import UNSET
from silo.workflows.errors import NO_CHOICE_MATCHED, RUNTIME, StatesError, error_matches
from silo.workflows.interpreter import _fanout
from silo.workflows.interpreter._io import StateData
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
    Finish,
    HistoryEvent,
    InvokeTask,
    Redrive,
    Start,
    StartTimer,
    Step,
    TaskFailed,
    TaskSucceeded,
    TimedOut,
    TimerFired,
)

MAX_TRANSITIONS_PER_STEP = 25_000


def stamp(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


class Run:
    """The accumulator of one step: the current execution, commands and history so far."""

    def __init__(self, machine: StateMachine, execution: Execution, at: datetime) -> None:
        self.machine = machine
        self.execution = execution
        self.at = at
        self.commands: list[Command] = []
        self.history: list[HistoryEvent] = []
        self.pending: tuple[str, Any] | None = None

    @property
    def state(self) -> State:
        assert self.execution.state_name is not None
        return self.machine.state(self.execution.state_name)

    def record(self, kind: str, **details: Any) -> None:
        if self.execution.child and kind.startswith("Execution"):
            return  # a Map item's or branch's outcome is its parent's MapIteration*/Parallel* event
        self.history.append(HistoryEvent(kind, self.at, details))

    def update(self, **changes: Any) -> None:
        self.execution = replace(self.execution, **changes)

    def rng(self, salt: str = "") -> random.Random:
        """Deterministic randomness for this transition (replaying history gives the same values)."""
        execution = self.execution
        return random.Random(f"{execution.info.id}/{execution.transitions}/{execution.retry_count}/{salt}")

    def data(self) -> StateData:
        return StateData(self.state, self.execution, self.rng())


def step(machine: StateMachine, execution: Execution, event: Event) -> Step:
    """Apply ``event`` to ``execution`` of ``machine``: pure, deterministic, no I/O."""
    run = Run(machine, execution, event.at)
    if isinstance(event, Redrive):
        _redrive(run)
    elif execution.done:
        return Step(execution, (), ())
    try:
        _dispatch(run, event)
    except StatesError as error:
        _state_failed(run, error.error, error.cause)
    _follow(run)
    return Step(run.execution, tuple(run.commands), tuple(run.history))


def _redrive(run: Run) -> None:
    """Back to RUNNING, entering the state that failed again with the input it had then."""
    execution = run.execution
    if execution.status not in (FAILED, TIMED_OUT, ABORTED) or execution.state_name is None:
        return
    run.update(
        status=RUNNING,
        output=None,
        error=None,
        cause=None,
        redrive_count=execution.redrive_count + 1,
    )
    run.record("ExecutionRedriven", redriveCount=execution.redrive_count + 1)
    run.pending = (execution.state_name, execution.state_input)


def _dispatch(run: Run, event: Event) -> None:
    waiting = run.execution.waiting
    if isinstance(event, Redrive):
        return
    if isinstance(event, Start):
        if not run.execution.child:
            run.update(input=event.input)
        run.record("ExecutionStarted", input=event.input, roleArn=run.execution.info.role_arn)
        run.pending = (run.machine.start_at, event.input)
    elif isinstance(event, TimedOut):
        _finish(run, TIMED_OUT, error="States.Timeout", cause="The execution timed out")
    elif isinstance(event, TaskSucceeded) and waiting == "task":
        run.record("TaskSucceeded", resource=run.state.get("Resource"), output=event.output)
        _complete(run, event.output)
    elif isinstance(event, TaskFailed) and waiting == "task":
        kind = "TaskTimedOut" if event.error == "States.Timeout" else "TaskFailed"
        run.record(kind, resource=run.state.get("Resource"), error=event.error, cause=event.cause)
        _state_failed(run, event.error, event.cause)
    elif isinstance(event, TimerFired) and waiting == "timer":
        _complete(run, UNSET)
    elif isinstance(event, TimerFired) and waiting == "retry":
        _act(run)
    elif isinstance(event, ChildSucceeded | ChildFailed) and waiting == "children":
        outcome = _fanout.child_done(run, event)
        if isinstance(outcome, StatesError):
            _state_failed(run, outcome.error, outcome.cause)
        elif outcome is not None:
            _complete(run, outcome)
    # any other event is stale (a late answer for an earlier attempt): ignored


def _follow(run: Run) -> None:
    """Enter states one after another until one waits for the outside world or the end."""
    count = 0
    while run.pending is not None:
        name, data = run.pending
        run.pending = None
        count += 1
        if count > MAX_TRANSITIONS_PER_STEP:
            _finish(run, FAILED, error=RUNTIME, cause="Too many transitions without a task or wait")
            return
        try:
            _enter(run, name, data)
        except StatesError as error:
            _state_failed(run, error.error, error.cause)


def _enter(run: Run, name: str, data: Any) -> None:
    run.update(
        state_name=name,
        state_input=data,
        effective_input=None,
        entered_time=stamp(run.at),
        waiting="",
        attempts=tuple(0 for _ in run.machine.state(name).retry),
        retry_count=0,
        children=None,
        transitions=run.execution.transitions + 1,
    )
    run.record(f"{run.state.type}StateEntered", name=name, input=data)
    _act(run)


def _act(run: Run) -> None:
    state = run.state
    kind = state.type
    data = run.data()
    if kind in ("Pass", "Succeed"):
        _complete(run, UNSET)
    elif kind == "Fail":
        error = data.field("Error")
        cause = data.field("Cause")
        run.record("ExecutionFailed", error=error, cause=cause)
        _finish(run, FAILED, error=error, cause=cause, recorded=True)
    elif kind == "Choice":
        _choose(run, data)
    elif kind == "Wait":
        until = _wait_until(run, data)
        run.update(waiting="timer")
        run.commands.append(StartTimer(until))
    elif kind == "Task":
        task_input = data.effective()  # again on a retry: $$.State.RetryCount has changed
        timeout, heartbeat = data.field("TimeoutSeconds"), data.field("HeartbeatSeconds")
        resource = state.get("Resource")
        credentials = state.get("Credentials")
        run.update(effective_input=task_input, waiting="task")
        run.commands.append(InvokeTask(resource, task_input, timeout, heartbeat, credentials))
        run.record(
            "TaskScheduled",
            resource=resource,
            parameters=task_input,
            timeoutInSeconds=timeout,
            heartbeatInSeconds=heartbeat,
        )
    else:
        _fanout.start(run, data, on_done=_complete)


def _wait_until(run: Run, data: StateData) -> datetime:
    seconds = data.field("Seconds")
    if seconds is not None:
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
            raise StatesError(RUNTIME, f"Wait Seconds must be a non-negative integer, got {seconds!r}")
        return run.at + timedelta(seconds=seconds)
    value = data.field("Timestamp")
    until = parse_timestamp(value)
    if until is None:
        raise StatesError(RUNTIME, f"Wait Timestamp {value!r} is not an RFC 3339 timestamp")
    return until


def _choose(run: Run, data: StateData) -> None:
    state = run.state
    rules = state.get("Choices")
    target = state.get("Default")
    matched: dict[str, Any] = {}
    effective = None if state.jsonata else data.effective()
    for rule in rules:
        if state.jsonata:
            hit = evaluate_condition(rule["Condition"], data.states(), data.variables)
        else:
            hit = evaluate_rule(rule, effective, data.context, data.variables)
        if hit:
            target, matched = rule["Next"], rule
            break
    if target is None:
        raise StatesError(
            NO_CHOICE_MATCHED, f"No choice rule matched and there is no Default in {state.name}"
        )
    output, assigned = data.finish()
    if "Output" in matched:
        output = data.jsonata(matched["Output"])
    if "Assign" in matched:
        assigned = {**assigned, **data.assign(matched["Assign"], effective)}
    _leave(run, output, assigned, target)


def _complete(run: Run, result: Any) -> None:
    """The state has its result: compute its output and variables, then leave it."""
    output, assigned = run.data().finish(result)
    _leave(run, output, assigned, run.state.next)


def _leave(run: Run, output: Any, assigned: dict[str, Any], target: str | None) -> None:
    state = run.state
    variables = {**run.execution.variables, **assigned} if assigned else run.execution.variables
    run.update(variables=variables, waiting="", children=None)
    run.record(f"{state.type}StateExited", name=state.name, output=output)
    if target is None:
        run.record("ExecutionSucceeded", output=output)
        _finish(run, SUCCEEDED, output=output, recorded=True)
    else:
        run.pending = (target, output)


def _state_failed(run: Run, error: str, cause: str) -> None:
    """Retry, catch or fail the execution, in that order."""
    execution = run.execution
    if execution.done:
        return
    if execution.state_name is None:
        _finish(run, FAILED, error=error, cause=cause)
        return
    state = run.state
    if execution.children is not None:
        run.commands.append(CancelChildren(execution.children.generation))
    for index, retrier in enumerate(state.retry):
        if not error_matches(retrier.error_equals, error):
            continue
        attempt = execution.attempts[index]
        if attempt >= retrier.max_attempts:
            break
        delay = retrier.delay(attempt)
        if retrier.jitter == "FULL":
            delay = run.rng("jitter").uniform(0, delay)
        attempts = list(execution.attempts)
        attempts[index] += 1
        run.update(attempts=tuple(attempts), retry_count=execution.retry_count + 1, waiting="retry")
        run.commands.append(StartTimer(run.at + timedelta(seconds=delay)))
        return
    for catcher in state.catch:
        if error_matches(catcher.error_equals, error):
            try:
                output, assigned = run.data().caught(catcher, {"Error": error, "Cause": cause})
            except StatesError as failure:  # the catcher's own Output/Assign/ResultPath failed
                _finish(run, FAILED, error=failure.error, cause=failure.cause)
                return
            _leave(run, output, assigned, catcher.next)
            return
    _finish(run, FAILED, error=error, cause=cause)


def _finish(
    run: Run,
    status: str,
    *,
    output: Any = None,
    error: str | None = None,
    cause: str | None = None,
    recorded: bool = False,
) -> None:
    if not recorded:
        kind = {FAILED: "ExecutionFailed", TIMED_OUT: "ExecutionTimedOut"}[status]
        run.record(kind, error=error, cause=cause)
    run.pending = None
    run.update(status=status, output=output, error=error, cause=cause, waiting="")
    run.commands.append(Finish(status, output, error, cause))
