"""Durable executions: start, tasks through the account's functions, waits as rows, Map/Parallel
children, stop, redrive, idempotent start, history."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from silo.errors import ValidationError
from silo.functions import FunctionSettings
from silo.platform import AccountHandle
from silo.workflows import InvalidDefinition
from silo.workflows.models import ExecutionAlreadyExists, ExecutionNotRedrivable
from tests.helpers.functions import deploy, wait_until

PASS_CHAIN = {
    "StartAt": "A",
    "States": {
        "A": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.a", "Next": "B"},
        "B": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.a.x", "NumericEquals": 1, "Next": "Done"}],
            "Default": "Nope",
        },
        "Done": {"Type": "Succeed"},
        "Nope": {"Type": "Fail", "Error": "Wrong"},
    },
}


def task_flow(function: str, **task: Any) -> dict[str, Any]:
    return {
        "StartAt": "Call",
        "States": {"Call": {"Type": "Task", "Resource": function, "End": True, **task}},
    }


def finished(handle: AccountHandle, arn: str) -> Any:
    wait_until(lambda: handle.workflows.describe_execution(arn).status != "RUNNING", timeout=20)
    return handle.workflows.describe_execution(arn)


@pytest.fixture
def shop(tenant: Callable[[str], AccountHandle]) -> AccountHandle:
    return tenant("shop")


def test_a_pass_and_choice_workflow_finishes_inside_start(shop: AccountHandle) -> None:
    shop.workflows.create_state_machine("flow", PASS_CHAIN)
    started = shop.workflows.start_execution("flow", {"in": True}, name="one")
    assert started.status == "SUCCEEDED"
    assert started.output == {"in": True, "a": {"x": 1}}
    history = shop.workflows.history(started.arn).items
    assert [h.type for h in history] == [
        "ExecutionStarted",
        "PassStateEntered",
        "PassStateExited",
        "ChoiceStateEntered",
        "ChoiceStateExited",
        "SucceedStateEntered",
        "SucceedStateExited",
        "ExecutionSucceeded",
    ]
    assert [h.id for h in history] == list(range(1, len(history) + 1))


def test_a_task_calls_a_function_of_the_account(shop: AccountHandle, code: Callable[[str], bytes]) -> None:
    deploy(shop, "echo", code("echo"))
    shop.workflows.create_state_machine("flow", task_flow("echo", ResultPath="$.echoed"))
    started = shop.workflows.start_execution("flow", {"n": 3})
    assert started.status == "RUNNING"
    done = finished(shop, started.arn)
    assert done.status == "SUCCEEDED"
    assert done.output == {"n": 3, "echoed": {"n": 3}}


def test_function_errors_drive_retry_then_catch(shop: AccountHandle, code: Callable[[str], bytes]) -> None:
    deploy(shop, "boom", code("boom"))
    definition = task_flow(
        "boom",
        Retry=[{"ErrorEquals": ["ValueError"], "IntervalSeconds": 1, "BackoffRate": 1, "MaxAttempts": 2}],
        Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
    )
    definition["States"]["Call"].pop("End")
    definition["States"]["Call"]["Next"] = "Done"
    definition["States"]["Done"] = {"Type": "Succeed"}
    definition["States"]["Caught"] = {"Type": "Pass", "End": True}
    shop.workflows.create_state_machine("flow", definition)
    done = finished(shop, shop.workflows.start_execution("flow", {"n": 1}).arn)
    assert done.status == "SUCCEEDED"
    assert done.output["Error"] == "ValueError"
    types = [h.type for h in shop.workflows.history(done.arn, limit=1000).items]
    assert types.count("TaskFailed") == 3  # the first attempt and two retries


def test_a_map_of_tasks_runs_each_item_durably(shop: AccountHandle, code: Callable[[str], bytes]) -> None:
    deploy(shop, "echo", code("echo"))
    definition = {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "MaxConcurrency": 2,
                "ItemProcessor": {
                    "StartAt": "Call",
                    "States": {"Call": {"Type": "Task", "Resource": "echo", "End": True}},
                },
                "End": True,
            }
        },
    }
    shop.workflows.create_state_machine("fan", definition)
    done = finished(shop, shop.workflows.start_execution("fan", [1, 2, 3, 4, 5]).arn)
    assert done.status == "SUCCEEDED"
    assert done.output == [1, 2, 3, 4, 5]


def test_a_long_wait_is_a_row_and_stop_aborts_it(shop: AccountHandle) -> None:
    shop.workflows.create_state_machine(
        "slow", {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}
    )
    started = shop.workflows.start_execution("slow", {})
    assert started.status == "RUNNING"
    shop.workflows.stop_execution(started.arn, error="Ops", cause="no longer needed")
    stopped = shop.workflows.describe_execution(started.arn)
    assert (stopped.status, stopped.error, stopped.cause) == ("ABORTED", "Ops", "no longer needed")
    assert shop.workflows.history(started.arn, reverse=True, limit=1).items[0].type == "ExecutionAborted"


def test_start_with_the_same_name_is_idempotent_only_for_the_same_input(shop: AccountHandle) -> None:
    shop.workflows.create_state_machine(
        "slow", {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}
    )
    first = shop.workflows.start_execution("slow", {"a": 1}, name="once")
    again = shop.workflows.start_execution("slow", {"a": 1}, name="once")
    assert again.arn == first.arn and again.started_at == first.started_at
    with pytest.raises(ExecutionAlreadyExists):
        shop.workflows.start_execution("slow", {"a": 2}, name="once")


def test_redrive_runs_a_failed_execution_again_from_the_failed_state(
    shop: AccountHandle, code: Callable[[str], bytes]
) -> None:
    deploy(shop, "flaky", code("def handler(event, context):\n    raise RuntimeError('not yet')\n"))
    definition = {
        "StartAt": "First",
        "States": {
            "First": {"Type": "Pass", "Result": 1, "ResultPath": "$.first", "Next": "Call"},
            "Call": {"Type": "Task", "Resource": "flaky", "ResultPath": "$.call", "End": True},
        },
    }
    shop.workflows.create_state_machine("flow", definition)
    arn = shop.workflows.start_execution("flow", {}).arn
    assert finished(shop, arn).status == "FAILED"
    fixed = code("def handler(event, context):\n    return 'fixed'\n")
    shop.functions.update("flaky", FunctionSettings(), code=fixed)
    shop.workflows.redrive_execution(arn)
    done = finished(shop, arn)
    assert done.status == "SUCCEEDED", (done.error, done.cause)
    assert done.output == {"first": 1, "call": "fixed"}
    assert done.redrive_count == 1
    types = [h.type for h in shop.workflows.history(arn, limit=1000).items]
    assert types.count("PassStateEntered") == 1  # not run again
    assert "ExecutionRedriven" in types


def test_only_stopped_or_failed_executions_can_be_redriven(shop: AccountHandle) -> None:
    shop.workflows.create_state_machine("flow", PASS_CHAIN)
    done = shop.workflows.start_execution("flow", {})
    with pytest.raises(ExecutionNotRedrivable):
        shop.workflows.redrive_execution(done.arn)


def test_bad_definitions_and_inputs_are_refused_with_their_path(shop: AccountHandle) -> None:
    with pytest.raises(InvalidDefinition) as bad:
        shop.workflows.create_state_machine(
            "bad", {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Missing"}}}
        )
    assert bad.value.path == "$.States.A.Next"
    shop.workflows.create_state_machine("flow", PASS_CHAIN)
    with pytest.raises(ValidationError, match="name"):
        shop.workflows.start_execution("flow", {}, name="has space")
