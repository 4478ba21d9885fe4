"""The step machine itself: commands, stale events, determinism, jitter, timeouts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from silo.workflows.definition import StateMachine, parse_definition
from silo.workflows.interpreter import (
    FAILED,
    SUCCEEDED,
    TIMED_OUT,
    CancelChildren,
    ChildFailed,
    ChildSucceeded,
    Execution,
    ExecutionInfo,
    Finish,
    InvokeTask,
    Start,
    StartChild,
    StartTimer,
    Step,
    TaskFailed,
    TaskSucceeded,
    TimedOut,
    TimerFired,
    new_execution,
    step,
)
from silo.workflows.local import run_local

T0 = datetime(2026, 1, 1, tzinfo=UTC)
INFO = ExecutionInfo("arn:silo:states:1:execution:m:e1", "e1", "2026-01-01T00:00:00Z")


def _machine(states: dict[str, Any], start: str | None = None) -> StateMachine:
    return parse_definition({"StartAt": start or next(iter(states)), "States": states})


def _start(machine: StateMachine, data: Any = None, info: ExecutionInfo = INFO) -> Step:
    return step(machine, new_execution(info), Start(data if data is not None else {}, T0))


def test_wait_asks_for_a_timer_and_ignores_other_events() -> None:
    machine = _machine({"W": {"Type": "Wait", "Seconds": 3600, "End": True}})
    started = _start(machine)
    assert started.commands == (StartTimer(T0 + timedelta(hours=1)),)
    assert started.execution.waiting == "timer"
    stale = step(machine, started.execution, TaskSucceeded({}, T0))
    assert stale.commands == () and stale.history == () and stale.execution == started.execution
    done = step(machine, started.execution, TimerFired(T0 + timedelta(hours=1)))
    assert done.commands == (Finish(SUCCEEDED, {}),)
    assert [event.type for event in done.history] == ["WaitStateExited", "ExecutionSucceeded"]


def test_task_command_carries_timeouts_and_timeout_is_recorded() -> None:
    machine = _machine(
        {"T": {"Type": "Task", "Resource": "fn", "TimeoutSeconds": 30, "HeartbeatSeconds": 10, "End": True}}
    )
    started = _start(machine, {"a": 1})
    assert started.commands == (InvokeTask("fn", {"a": 1}, 30, 10),)
    failed = step(machine, started.execution, TaskFailed("States.Timeout", "too slow", T0))
    assert [event.type for event in failed.history] == ["TaskTimedOut", "ExecutionFailed"]
    assert failed.execution.status == FAILED and failed.execution.error == "States.Timeout"


def test_step_does_not_change_the_execution_it_is_given() -> None:
    machine = _machine({"T": {"Type": "Task", "Resource": "fn", "End": True}})
    started = _start(machine, {"a": [1]})
    before = started.execution
    step(machine, before, TaskSucceeded({"b": 2}, T0))
    assert before.status == "RUNNING" and before.state_input == {"a": [1]}


def test_map_respects_max_concurrency_and_ignores_stale_children() -> None:
    machine = _machine(
        {
            "M": {
                "Type": "Map",
                "MaxConcurrency": 2,
                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
                "End": True,
            }
        }
    )
    started = _start(machine, [10, 11, 12])
    children = [command for command in started.commands if isinstance(command, StartChild)]
    assert [(child.index, child.input) for child in children] == [(0, 10), (1, 11)]
    generation = children[0].generation
    stale = step(machine, started.execution, ChildSucceeded(0, "x", T0, generation="old"))
    assert stale.commands == () and stale.execution == started.execution
    after_first = step(machine, started.execution, ChildSucceeded(0, 10, T0, generation))
    assert [(c.index, c.input) for c in after_first.commands if isinstance(c, StartChild)] == [(2, 12)]
    execution = step(machine, after_first.execution, ChildSucceeded(2, 12, T0, generation)).execution
    last = step(machine, execution, ChildSucceeded(1, 11, T0, generation))
    assert last.commands == (Finish(SUCCEEDED, [10, 11, 12]),)


def test_map_failure_cancels_the_other_children() -> None:
    machine = _machine(
        {
            "M": {
                "Type": "Map",
                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
                "End": True,
            }
        }
    )
    started = _start(machine, [1, 2])
    generation = started.execution.children.generation if started.execution.children else ""
    failed = step(machine, started.execution, ChildFailed(1, "E", "c", T0, generation))
    assert failed.commands == (CancelChildren(generation), Finish(FAILED, None, "E", "c"))


def test_same_events_give_the_same_steps() -> None:
    machine = _machine(
        {
            "T": {
                "Type": "Task",
                "Resource": "fn",
                "Parameters": {"id.$": "States.UUID()", "n.$": "States.MathRandom(0, 1000000)"},
                "Retry": [{"ErrorEquals": ["E"], "JitterStrategy": "FULL", "MaxAttempts": 5}],
                "End": True,
            }
        }
    )
    events = [TaskFailed("E", "", T0), TimerFired(T0 + timedelta(seconds=1)), TaskFailed("E", "", T0)]

    def replay() -> list[Step]:
        steps = [_start(machine)]
        for event in events:
            steps.append(step(machine, steps[-1].execution, event))
        return steps

    first, second = replay(), replay()
    assert first == second
    other = _start(machine, info=ExecutionInfo("arn:other", "e2", "2026-01-01T00:00:00Z"))
    assert other.commands != first[0].commands


@pytest.mark.parametrize("attempt_failures", [1, 2, 3, 4])
def test_full_jitter_stays_within_the_backoff(attempt_failures: int) -> None:
    machine = _machine(
        {
            "T": {
                "Type": "Task",
                "Resource": "fn",
                "Retry": [
                    {"ErrorEquals": ["E"], "IntervalSeconds": 10, "JitterStrategy": "FULL", "MaxAttempts": 9}
                ],
                "End": True,
            }
        }
    )
    execution: Execution = _start(machine).execution
    delays = []
    for _ in range(attempt_failures):
        failed = step(machine, execution, TaskFailed("E", "", T0))
        (timer,) = failed.commands
        assert isinstance(timer, StartTimer)
        delays.append((timer.until - T0).total_seconds())
        execution = step(machine, failed.execution, TimerFired(T0)).execution
    for attempt, delay in enumerate(delays):
        assert 0 <= delay <= 10 * 2**attempt
    assert len(set(delays)) == len(delays)


def test_execution_timeout_event() -> None:
    machine = _machine({"W": {"Type": "Wait", "Seconds": 10, "End": True}})
    timed_out = step(machine, _start(machine).execution, TimedOut(T0))
    assert timed_out.execution.status == TIMED_OUT
    assert timed_out.commands == (Finish(TIMED_OUT, None, "States.Timeout", "The execution timed out"),)
    assert [event.type for event in timed_out.history] == ["ExecutionTimedOut"]
    assert step(machine, timed_out.execution, TimerFired(T0)).commands == ()


def test_endless_pass_loop_fails_instead_of_hanging() -> None:
    machine = _machine({"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}})
    started = _start(machine)
    assert started.execution.status == FAILED
    assert started.execution.error == "States.Runtime"


def test_run_local_names_plain_exceptions_after_their_class() -> None:
    def handler(resource: str, task_input: Any) -> Any:
        raise KeyError("missing")

    definition = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "fn", "End": True}}}
    outcome = run_local(definition, {}, handler)
    assert outcome == {"status": "FAILED", "output": None, "error": "KeyError", "cause": "'missing'"}


def test_run_local_rejects_an_invalid_definition() -> None:
    from silo.workflows.errors import InvalidDefinition

    with pytest.raises(InvalidDefinition, match=r"^\$\.StartAt"):
        run_local({"States": {}}, {}, lambda resource, data: data)
