"""State machines, executions, histories and task tokens of account A are invisible and untouchable
from account B, whether named by name, by ARN, by token, or from inside B's own workflows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from silo.errors import NotFound, ValidationError
from silo.platform import AccountHandle
from silo.workflows.models import InvalidToken
from tests.helpers.functions import deploy, wait_until

CALLBACK = {
    "StartAt": "T",
    "States": {
        "T": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "echo", "Payload": {"token.$": "$$.Task.Token"}},
            "End": True,
        }
    },
}


def _token(handle: AccountHandle, arn: str) -> str:
    def found() -> str | None:
        for event in handle.workflows.history(arn, limit=1000).items:
            if event.type == "TaskScheduled":
                return str(event.details["parameters"]["Payload"]["token"])
        return None

    wait_until(lambda: found() is not None)
    return str(found())


def test_b_cannot_see_or_touch_a_state_machines_and_executions(
    tenant: Callable[..., AccountHandle], code: Callable[[str], bytes]
) -> None:
    a, b = tenant("a"), tenant("b")
    deploy(a, "echo", code("echo"))
    machine = a.workflows.create_state_machine("approve", CALLBACK)
    execution = a.workflows.start_execution("approve", {"secret": 1}, name="run1")
    token = _token(a, execution.arn)
    assert b.workflows.list_state_machines().items == []
    for attempt in (
        lambda: b.workflows.describe_state_machine("approve"),
        lambda: b.workflows.update_state_machine("approve", CALLBACK),
        lambda: b.workflows.delete_state_machine("approve"),
        lambda: b.workflows.list_executions("approve"),
        lambda: b.workflows.start_execution("approve", {}),
    ):
        with pytest.raises(NotFound):
            attempt()
    # A's ARNs name A's account: refused before anything is looked up
    for by_arn in (
        lambda: b.workflows.describe_state_machine(machine.arn),
        lambda: b.workflows.start_execution(machine.arn, {}),
        lambda: b.workflows.describe_execution(execution.arn),
        lambda: b.workflows.history(execution.arn),
        lambda: b.workflows.stop_execution(execution.arn),
        lambda: b.workflows.redrive_execution(execution.arn),
    ):
        with pytest.raises(ValidationError, match="not this account"):
            by_arn()
    # the same execution name in B's own machine is B's, not A's
    b.workflows.create_state_machine(
        "approve", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    )
    mine = b.workflows.start_execution("approve", {}, name="run1")
    assert mine.status == "SUCCEEDED" and mine.arn != execution.arn
    # A's task token means nothing in B
    for call in (
        lambda: b.workflows.send_task_success(token, {}),
        lambda: b.workflows.send_task_failure(token, "X", "y"),
        lambda: b.workflows.send_task_heartbeat(token),
    ):
        with pytest.raises(InvalidToken):
            call()
    assert a.workflows.describe_execution(execution.arn).status == "RUNNING"
    a.workflows.send_task_success(token, {"ok": True})
    wait_until(lambda: a.workflows.describe_execution(execution.arn).status == "SUCCEEDED")


def test_b_s_workflows_cannot_reach_a_s_functions_or_state_machines(
    tenant: Callable[..., AccountHandle], code: Callable[[str], bytes]
) -> None:
    a, b = tenant("a"), tenant("b")
    deploy(a, "private", code("echo"))
    a_machine = a.workflows.create_state_machine(
        "inner", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    )
    tasks: list[dict[str, Any]] = [
        {"Type": "Task", "Resource": "private", "End": True},
        {"Type": "Task", "Resource": f"arn:silo:lambda:local:{a.account_id}:function:private", "End": True},
        {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": f"arn:silo:lambda:local:{a.account_id}:function:private"},
            "End": True,
        },
        {
            "Type": "Task",
            "Resource": "arn:aws:states:::states:startExecution.sync",
            "Parameters": {"StateMachineArn": a_machine.arn},
            "End": True,
        },
    ]
    for i, task in enumerate(tasks):
        b.workflows.create_state_machine(f"probe{i}", {"StartAt": "T", "States": {"T": task}})
        arn = b.workflows.start_execution(f"probe{i}", {}).arn
        wait_until(lambda arn=arn: b.workflows.describe_execution(arn).status != "RUNNING")
        done = b.workflows.describe_execution(arn)
        assert (done.status, done.error) == ("FAILED", "States.TaskFailed"), (i, done.cause)
    assert a.workflows.list_executions("inner").items == []
    assert (
        a.functions.metrics("private").get("Invocations") is None
        or a.functions.metrics("private")["Invocations"].sum == 0
    )
