"""Redrive in the step machine, task tokens in the context object, and snapshot round trips."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from silo.workflows.definition import parse_definition
from silo.workflows.interpreter import (
    FAILED,
    RUNNING,
    SUCCEEDED,
    ChildFailed,
    ChildSucceeded,
    ExecutionInfo,
    InvokeTask,
    Redrive,
    Start,
    TaskFailed,
    TaskSucceeded,
    TimedOut,
    TimerFired,
    new_execution,
    step,
)
from silo.workflows.snapshots import event_json, event_of, execution_of, snapshot_of

T0 = datetime(2026, 1, 1, tzinfo=UTC)
INFO = ExecutionInfo("arn:silo:states:local:1:execution:m:e1", "e1", "2026-01-01T00:00:00Z")
FLOW = parse_definition(
    {
        "StartAt": "First",
        "States": {
            "First": {"Type": "Pass", "Result": 1, "ResultPath": "$.first", "Next": "Call"},
            "Call": {"Type": "Task", "Resource": "f", "ResultPath": "$.call", "End": True},
        },
    }
)


def _failed() -> Any:
    started = step(FLOW, new_execution(INFO), Start({}, T0))
    return step(FLOW, started.execution, TaskFailed("Boom", "b", T0)).execution


def test_redrive_enters_the_failed_state_again_with_its_input() -> None:
    failed = _failed()
    assert (failed.status, failed.state_name) == (FAILED, "Call")
    redriven = step(FLOW, failed, Redrive(T0 + timedelta(minutes=1)))
    assert redriven.execution.status == RUNNING
    assert redriven.execution.redrive_count == 1
    assert [h.type for h in redriven.history] == ["ExecutionRedriven", "TaskStateEntered", "TaskScheduled"]
    [invoke] = redriven.commands
    assert isinstance(invoke, InvokeTask) and invoke.input == {"first": 1}
    done = step(FLOW, redriven.execution, TaskSucceeded("ok", T0))
    assert (done.execution.status, done.execution.output) == (SUCCEEDED, {"first": 1, "call": "ok"})


def test_redrive_of_a_running_or_succeeded_execution_does_nothing() -> None:
    running = step(FLOW, new_execution(INFO), Start({}, T0)).execution
    assert step(FLOW, running, Redrive(T0)).commands == ()
    succeeded = step(FLOW, running, TaskSucceeded("ok", T0)).execution
    again = step(FLOW, succeeded, Redrive(T0))
    assert again.execution == succeeded and again.commands == ()


def test_the_redrive_count_is_in_the_context_object() -> None:
    machine = parse_definition(
        {
            "StartAt": "Call",
            "States": {
                "Call": {
                    "Type": "Task",
                    "Resource": "f",
                    "Parameters": {"count.$": "$$.Execution.RedriveCount"},
                    "End": True,
                }
            },
        }
    )
    started = step(machine, new_execution(INFO), Start({}, T0))
    failed = step(machine, started.execution, TaskFailed("Boom", "", T0)).execution
    [invoke] = step(machine, failed, Redrive(T0)).commands
    assert isinstance(invoke, InvokeTask) and invoke.input == {"count": 1}


def test_a_callback_task_sees_its_token_and_other_tasks_do_not() -> None:
    machine = parse_definition(
        {
            "StartAt": "Ask",
            "States": {
                "Ask": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                    "Parameters": {"FunctionName": "f", "Payload": {"token.$": "$$.Task.Token"}},
                    "Next": "Plain",
                },
                "Plain": {"Type": "Task", "Resource": "f", "Parameters": {"t.$": "$$.Task"}, "End": True},
            },
        }
    )
    execution = replace(new_execution(INFO), token_key="exec-1.secret")
    started = step(machine, execution, Start({}, T0))
    [ask] = started.commands
    assert isinstance(ask, InvokeTask)
    assert ask.input["Payload"]["token"] == started.execution.task_token == "exec-1.secret.1.0"
    plain = step(machine, started.execution, TaskSucceeded({}, T0))
    assert plain.execution.status == FAILED  # $$.Task does not exist outside callback tasks
    assert plain.execution.error == "States.Runtime"


@pytest.mark.parametrize(
    "event",
    [
        Start({"a": [1, {"b": None}]}, T0),
        TaskSucceeded({"x": 1}, T0),
        TaskFailed("E", "c", T0),
        TimerFired(T0),
        ChildSucceeded(2, [1], T0, "g"),
        ChildFailed(1, "E", "c", T0, "g"),
        TimedOut(T0),
        Redrive(T0),
    ],
)
def test_events_round_trip_through_json(event: Any) -> None:
    assert event_of(json.loads(json.dumps(event_json(event)))) == event


def test_executions_round_trip_through_their_snapshot() -> None:
    machine = parse_definition(
        {
            "StartAt": "Each",
            "States": {
                "Each": {
                    "Type": "Map",
                    "MaxConcurrency": 1,
                    "ItemProcessor": {
                        "StartAt": "T",
                        "States": {"T": {"Type": "Task", "Resource": "f", "End": True}},
                    },
                    "End": True,
                }
            },
        }
    )
    execution = replace(new_execution(INFO, {"v": 1}), token_key="k.s")
    waiting = step(machine, execution, Start([1, 2], T0)).execution
    assert waiting.children is not None
    assert execution_of(json.loads(json.dumps(snapshot_of(waiting)))) == waiting
