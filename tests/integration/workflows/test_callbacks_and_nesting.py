"""Task tokens, heartbeats, timeouts, nested executions and PutEvents from Task states."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from silo.platform import AccountHandle
from silo.workflows.models import InvalidToken, TaskTimedOut
from tests.helpers.functions import deploy, wait_until

WAIT_FOREVER = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}


def one_task(resource: str, **task: Any) -> dict[str, Any]:
    return {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": resource, "End": True, **task}}}


def finished(handle: AccountHandle, arn: str, timeout: float = 20) -> Any:
    wait_until(lambda: handle.workflows.describe_execution(arn).status != "RUNNING", timeout=timeout)
    return handle.workflows.describe_execution(arn)


def scheduled_token(handle: AccountHandle, arn: str) -> str:
    """The task token the execution handed to its task (from the TaskScheduled event)."""

    def found() -> str | None:
        for event in handle.workflows.history(arn, limit=1000).items:
            if event.type == "TaskScheduled":
                return str(event.details["parameters"]["Payload"]["token"])
        return None

    wait_until(lambda: found() is not None)
    token = found()
    assert token is not None
    return token


@pytest.fixture
def shop(tenant: Callable[[str], AccountHandle], code: Callable[[str], bytes]) -> AccountHandle:
    handle = tenant("shop")
    deploy(handle, "echo", code("echo"))
    deploy(handle, "sleepy", code("sleepy"), timeout=10)
    return handle


CALLBACK = one_task(
    "arn:aws:states:::lambda:invoke.waitForTaskToken",
    Parameters={"FunctionName": "echo", "Payload": {"token.$": "$$.Task.Token"}},
)


def test_wait_for_task_token_waits_for_send_task_success(shop: AccountHandle) -> None:
    shop.workflows.create_state_machine("approve", CALLBACK)
    arn = shop.workflows.start_execution("approve", {}).arn
    token = scheduled_token(shop, arn)
    assert shop.workflows.describe_execution(arn).status == "RUNNING"
    shop.workflows.send_task_success(token, {"approved": True})
    assert finished(shop, arn).output == {"approved": True}
    with pytest.raises(TaskTimedOut):  # answered already
        shop.workflows.send_task_success(token, {"approved": False})


def test_send_task_failure_fails_the_state_with_its_error(shop: AccountHandle) -> None:
    shop.workflows.create_state_machine("approve", CALLBACK)
    arn = shop.workflows.start_execution("approve", {}).arn
    shop.workflows.send_task_failure(scheduled_token(shop, arn), "Rejected", "too expensive")
    done = finished(shop, arn)
    assert (done.status, done.error, done.cause) == ("FAILED", "Rejected", "too expensive")


def test_a_task_without_heartbeats_times_out(shop: AccountHandle) -> None:
    definition = json.loads(json.dumps(CALLBACK))
    definition["States"]["T"]["HeartbeatSeconds"] = 1
    shop.workflows.create_state_machine("approve", definition)
    arn = shop.workflows.start_execution("approve", {}).arn
    token = scheduled_token(shop, arn)
    shop.workflows.send_task_heartbeat(token)  # moves the deadline; it still passes without more
    done = finished(shop, arn)
    assert (done.status, done.error) == ("FAILED", "States.HeartbeatTimeout")


def test_forged_tokens_are_refused(shop: AccountHandle) -> None:
    shop.workflows.create_state_machine("approve", CALLBACK)
    arn = shop.workflows.start_execution("approve", {}).arn
    token = scheduled_token(shop, arn)
    execution, secret, transitions, retries = token.split(".")
    for forged in (f"{execution}.{'x' * len(secret)}.{transitions}.{retries}", "nonsense", "a.b.c.d"):
        with pytest.raises(InvalidToken):
            shop.workflows.send_task_success(forged, {})
    with pytest.raises(TaskTimedOut):  # the right execution, but not the waiting attempt
        shop.workflows.send_task_success(f"{execution}.{secret}.{int(transitions) + 1}.{retries}", {})


def test_task_timeout_seconds_fails_a_slow_task(shop: AccountHandle) -> None:
    shop.workflows.create_state_machine("slow", one_task("sleepy", TimeoutSeconds=1, Parameters={"s": 4}))
    done = finished(shop, shop.workflows.start_execution("slow", {}).arn)
    assert (done.status, done.error) == ("FAILED", "States.Timeout")
    types = [e.type for e in shop.workflows.history(done.arn, limit=1000).items]
    assert "TaskTimedOut" in types


def test_execution_timeout_seconds_times_the_execution_out(shop: AccountHandle) -> None:
    definition = {**WAIT_FOREVER, "TimeoutSeconds": 1}
    shop.workflows.create_state_machine("slow", definition)
    done = finished(shop, shop.workflows.start_execution("slow", {}).arn)
    assert (done.status, done.error) == ("TIMED_OUT", "States.Timeout")


def test_a_failed_parallel_branch_fails_the_state_and_cancels_the_other(shop: AccountHandle) -> None:
    definition = {
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "Slow", "States": {"Slow": {**WAIT_FOREVER["States"]["W"]}}},
                    {"StartAt": "Bad", "States": {"Bad": {"Type": "Fail", "Error": "Broken", "Cause": "b"}}},
                ],
                "End": True,
            }
        },
    }
    shop.workflows.create_state_machine("par", definition)
    started = shop.workflows.start_execution("par", {})
    done = shop.workflows.describe_execution(started.arn)
    assert (done.status, done.error) == ("FAILED", "Broken")


def test_nested_sync_executions_answer_their_parent_task(shop: AccountHandle) -> None:
    shop.workflows.create_state_machine("child", one_task("echo"))
    child_arn = shop.workflows.describe_state_machine("child").arn
    parent = one_task(
        "arn:aws:states:::states:startExecution.sync:2",
        Parameters={"StateMachineArn": child_arn, "Input": {"from": "parent"}},
        ResultSelector={"out.$": "$.Output", "status.$": "$.Status"},
    )
    shop.workflows.create_state_machine("parent", parent)
    done = finished(shop, shop.workflows.start_execution("parent", {}).arn)
    assert done.status == "SUCCEEDED", (done.error, done.cause)
    assert done.output == {"out": {"from": "parent"}, "status": "SUCCEEDED"}
    children = shop.workflows.list_executions("child").items
    assert [c.status for c in children] == ["SUCCEEDED"]


def test_a_failed_nested_sync_execution_fails_the_parent_task(shop: AccountHandle) -> None:
    shop.workflows.create_state_machine(
        "child", {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "ChildBroke"}}}
    )
    parent = one_task(
        "arn:aws:states:::states:startExecution.sync",
        Parameters={"StateMachineArn": shop.workflows.describe_state_machine("child").arn},
    )
    shop.workflows.create_state_machine("parent", parent)
    done = finished(shop, shop.workflows.start_execution("parent", {}).arn)
    assert (done.status, done.error) == ("FAILED", "States.TaskFailed")
    assert json.loads(done.cause)["Error"] == "ChildBroke"


def test_put_events_from_a_task_reaches_the_account_bus(shop: AccountHandle) -> None:
    shop.events.put_rule("orders", event_pattern={"source": ["flow"]})
    arn = f"arn:silo:lambda:local:{shop.account_id}:function:echo"
    shop.events.put_targets("orders", [{"Id": "echo", "Arn": arn}])
    flow = one_task(
        "arn:aws:states:::events:putEvents",
        Parameters={"Entries": [{"Source": "flow", "DetailType": "Done", "Detail": {"n": 1}}]},
    )
    shop.workflows.create_state_machine("emit", flow)
    done = finished(shop, shop.workflows.start_execution("emit", {}).arn)
    assert done.status == "SUCCEEDED", (done.error, done.cause)
    assert done.output["FailedEntryCount"] == 0
    wait_until(lambda: shop.events.rule_metrics("orders")["MatchedEvents"].sum >= 1)
