"""Rules, scheduled rules and Scheduler schedules that start executions of the account's state machines:
input after Input/InputPath/InputTransformer, retried, dead-lettered with the account, redriven."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from silo.dlq import DeadLetterFilter
from silo.errors import ValidationError
from silo.platform import AccountHandle, ManagementHandle, Platform
from silo.workflows.models import ExecutionInfo
from tests.helpers.functions import wait_until
from tests.integration.events.test_delivery import entry

ECHO = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}


def machine_arn(handle: AccountHandle, name: str) -> str:
    return f"arn:silo:states:local:{handle.account_id}:stateMachine:{name}"


def executions(handle: AccountHandle, machine: str = "flow", count: int = 1) -> list[ExecutionInfo]:
    """The machine's executions, once there are ``count`` of them and none runs (oldest first)."""

    def done() -> bool:
        found = handle.workflows.list_executions(machine).items
        return len(found) == count and all(e.status != "RUNNING" for e in found)

    wait_until(done)
    return list(reversed(handle.workflows.list_executions(machine).items))


def events_dead_letters(mgmt: ManagementHandle) -> Callable[[], list[Any]]:
    return lambda: mgmt.dead_letters(DeadLetterFilter(source="events")).items


@pytest.fixture
def shop(tenant: Callable[[str], AccountHandle]) -> AccountHandle:
    handle = tenant("shop")
    handle.workflows.create_state_machine("flow", ECHO)
    handle.events.put_rule("orders", event_pattern={"source": ["shop"]})
    return handle


def test_a_matching_event_starts_an_execution_with_the_event(shop: AccountHandle) -> None:
    shop.events.put_targets("orders", [{"Id": "flow", "Arn": machine_arn(shop, "flow")}])
    result = shop.events.put_events([entry({"total": 150}), entry({}, source="other")])
    [run] = executions(shop)
    assert run.status == "SUCCEEDED"
    assert run.input["id"] == result.entries[0]["EventId"]
    assert (run.input["account"], run.input["detail"]) == (shop.account_id, {"total": 150})
    assert run.output == run.input
    metrics = shop.events.rule_metrics("orders")
    assert metrics["Invocations"].sum == 1 and "FailedInvocations" not in metrics


def test_input_path_and_transformer_shape_the_execution_input(shop: AccountHandle) -> None:
    shop.events.put_targets(
        "orders",
        [
            {"Id": "path", "Arn": machine_arn(shop, "flow"), "InputPath": "$.detail"},
            {
                "Id": "shaped",
                "Arn": machine_arn(shop, "flow"),
                "InputTransformer": {
                    "InputPathsMap": {"total": "$.detail.total"},
                    "InputTemplate": '{"amount": <total>, "rule": "<aws.events.rule-name>"}',
                },
            },
            {"Id": "fixed", "Arn": machine_arn(shop, "flow"), "Input": '{"fixed": true}'},
        ],
    )
    shop.events.put_events([entry({"total": 7})])
    inputs = [run.input for run in executions(shop, count=3)]
    assert sorted(inputs, key=json.dumps) == sorted(
        [{"total": 7}, {"amount": 7, "rule": "orders"}, {"fixed": True}], key=json.dumps
    )


def test_a_missing_state_machine_is_retried_then_dead_lettered_and_redriven(
    mgmt: ManagementHandle, shop: AccountHandle
) -> None:
    target = {"Id": "ghost", "Arn": machine_arn(shop, "ghost"), "RetryPolicy": {"MaximumRetryAttempts": 1}}
    shop.events.put_targets("orders", [target])
    shop.events.put_events([entry({"n": 1})])
    wait_until(lambda: bool(events_dead_letters(mgmt)()))
    [dead] = events_dead_letters(mgmt)()
    assert dead.account_id == shop.account_id
    assert (dead.reason, dead.attempts) == ("RetriesExhausted", 2)
    assert dead.target == {
        "type": "workflow",
        "arn": machine_arn(shop, "ghost"),
        "state_machine": "ghost",
        "event_bus": "default",
        "rule": "orders",
        "target_id": "ghost",
    }
    assert dead.error is not None and dead.error["code"] == "StateMachineDoesNotExist"
    assert [d.entry_id for d in shop.dead_letters().items] == [dead.entry_id]
    shop.workflows.create_state_machine("ghost", ECHO)
    redriven = mgmt.redrive_dead_letter(shop.account_id, dead.entry_id)
    [run] = executions(shop, "ghost")
    assert redriven.detail == {"execution_arn": run.arn}
    assert run.input["detail"] == {"n": 1}


def test_a_guardrail_on_start_execution_fails_the_delivery_alone(
    mgmt: ManagementHandle, shop: AccountHandle
) -> None:
    rail = mgmt.create_guardrail(
        "no-flow",
        {
            "Statement": [
                {
                    "Sid": "NoFlow",
                    "Effect": "Deny",
                    "Action": "states:StartExecution",
                    "Condition": {"StringEquals": {"StateMachineName": "flow"}},
                }
            ]
        },
    )
    mgmt.attach_guardrail(rail.policy_id, shop.account_id)
    shop.workflows.create_state_machine("other", ECHO)
    no_retries = {"MaximumRetryAttempts": 0}
    shop.events.put_targets(
        "orders",
        [
            {"Id": "flow", "Arn": machine_arn(shop, "flow"), "RetryPolicy": no_retries},
            {"Id": "other", "Arn": machine_arn(shop, "other"), "RetryPolicy": no_retries},
        ],
    )
    shop.events.put_events([entry({})])
    wait_until(lambda: bool(events_dead_letters(mgmt)()))
    [dead] = events_dead_letters(mgmt)()
    assert dead.target["state_machine"] == "flow"
    assert dead.error is not None and dead.error["code"] == "GuardrailDenied"
    assert [run.status for run in executions(shop, "other")] == ["SUCCEEDED"]
    assert shop.workflows.list_executions("flow").items == []


def test_scheduled_rules_and_schedules_start_executions(platform: Platform, shop: AccountHandle) -> None:
    shop.events.put_rule("nightly", schedule_expression="rate(1 day)")
    shop.events.put_targets("nightly", [{"Id": "flow", "Arn": machine_arn(shop, "flow")}])
    made = shop.schedules.put(
        "tick", expression="rate(1 hour)", target={"Arn": machine_arn(shop, "flow"), "Input": '{"tick": 1}'}
    )
    assert made.target["Arn"] == machine_arn(shop, "flow")
    nightly = platform.events.timer.due(shop.account_id, "default", "nightly")
    tick = platform.events.timer.due(shop.account_id, "schedules:default", "tick")
    assert nightly is not None and tick is not None
    platform.events.fire(
        [
            (shop.account_id, "default", "nightly", nightly),
            (shop.account_id, "schedules:default", "tick", tick),
        ]
    )
    inputs = [run.input for run in executions(shop, count=2)]
    assert {"tick": 1} in inputs
    [scheduled] = [i for i in inputs if i != {"tick": 1}]
    assert scheduled["detail-type"] == "Scheduled Event"
    assert scheduled["resources"] == [f"arn:silo:events:local:{shop.account_id}:rule/nightly"]


def test_a_schedule_may_not_target_a_bus(shop: AccountHandle) -> None:
    bus = f"arn:silo:events:local:{shop.account_id}:event-bus/default"
    with pytest.raises(ValidationError, match="a function or a state machine"):
        shop.schedules.put("tick", expression="rate(1 hour)", target={"Arn": bus})
