"""Stacks that deploy state machines: created as the stack's own, run the stack's functions, updated
as new revisions, refused to users, started by the stack's rules, and removed with the template."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from silo.errors import Conflict, GuardrailDenied, NotFound
from silo.functions import zip_directory
from silo.platform import AccountHandle, ManagementHandle, Platform
from silo.store.schema import (
    event_rules,
    event_targets,
    stack_resources,
    state_machine_revisions,
    state_machines,
)
from silo.workflows.models import ExecutionInfo
from tests.helpers.functions import wait_until
from tests.integration.events.test_delivery import entry

Code = Callable[[], dict[str, bytes]]

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Parameters:
  Tag:
    Type: String
    Default: first
Resources:
  Greeter:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.greet
      Runtime: python3.11
      CodeUri: src/
  Flow:
    Type: AWS::Serverless::StateMachine
    Properties:
      Definition:
        StartAt: Greet
        States:
          Greet:
            Type: Task
            Resource: !GetAtt Greeter.Arn
            ResultPath: $.greeting
            Next: Tag
          Tag:
            Type: Pass
            Result: ${Tag}
            ResultPath: $.tag
            End: true
      DefinitionSubstitutions:
        Tag: !Ref Tag
  Outer:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      StateMachineName: !Sub ${AWS::StackName}-outer
      DefinitionString: !Sub >-
        {"StartAt": "Run", "States": {"Run": {"Type": "Task",
        "Resource": "arn:aws:states:::states:startExecution.sync:2",
        "Parameters": {"StateMachineArn": "${Flow}", "Input.$": "$"}, "End": true}}}
  OnOrder:
    Type: AWS::Events::Rule
    Properties:
      EventPattern: {source: [shop]}
      Targets:
        - Id: flow
          Arn: !Ref Flow
          InputPath: $.detail
Outputs:
  FlowArn:
    Value: !Ref Flow
  FlowName:
    Value: !GetAtt Flow.Name
  OuterArn:
    Value: !GetAtt Outer.Arn
"""

WITH_WAITING = TEMPLATE.replace(
    "Outputs:",
    """  Waiting:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      Definition:
        StartAt: Nap
        States:
          Nap: {Type: Wait, Seconds: 3600, End: true}
Outputs:""",
)
WITHOUT_OUTER = (
    TEMPLATE.split("  Outer:", maxsplit=1)[0]
    + "  OnOrder:"
    + TEMPLATE.split("  OnOrder:")[1].replace("  OuterArn:\n    Value: !GetAtt Outer.Arn\n", "")
)


@pytest.fixture
def code(tmp_path_factory: pytest.TempPathFactory) -> Code:
    def make() -> dict[str, bytes]:
        directory = tmp_path_factory.mktemp("src")
        source = "def greet(event, context):\n    return 'hi ' + event.get('name', 'world')\n"
        (directory / "app.py").write_text(textwrap.dedent(source))
        return {"src/": zip_directory(directory)}

    return make


@pytest.fixture
def acme(tenant: Callable[[str], AccountHandle]) -> AccountHandle:
    return tenant("acme")


@pytest.fixture
def shop(acme: AccountHandle, code: Code) -> AccountHandle:
    acme.stacks.deploy("shop", TEMPLATE, code=code())
    return acme


def finished(handle: AccountHandle, arn: str) -> ExecutionInfo:
    wait_until(lambda: handle.workflows.describe_execution(arn).status != "RUNNING", timeout=20)
    return handle.workflows.describe_execution(arn)


def run(handle: AccountHandle, machine: str, input: Any) -> ExecutionInfo:
    return finished(handle, handle.workflows.start_execution(machine, input).arn)


def test_a_stack_deploys_state_machines_that_run_its_functions(acme: AccountHandle, code: Code) -> None:
    preview = acme.stacks.create_change_set("shop", "first", TEMPLATE, code=code())
    assert preview.not_runnable == ()
    deployed = acme.stacks.deploy("shop", TEMPLATE, code=code())
    assert deployed.stack is not None
    account = acme.account_id
    assert (
        deployed.stack.outputs["FlowArn"]["value"]
        == f"arn:silo:states:local:{account}:stateMachine:shop-Flow"
    )
    assert deployed.stack.outputs["FlowName"]["value"] == "shop-Flow"
    assert (
        deployed.stack.outputs["OuterArn"]["value"]
        == f"arn:silo:states:local:{account}:stateMachine:shop-outer"
    )
    resources = {r.logical_id: r for r in acme.stacks.resources("shop")}
    assert {r.status for r in resources.values()} == {"CREATE_COMPLETE"}
    assert resources["Flow"].arn == deployed.stack.outputs["FlowArn"]["value"]
    flow = acme.workflows.describe_state_machine("shop-Flow")
    assert flow.managed_by == "shop"
    assert [m.name for m in acme.workflows.list_state_machines().items] == ["shop-Flow", "shop-outer"]
    assert sorted(acme.workflows.managed_state_machines("shop")) == ["shop-Flow", "shop-outer"]

    done = run(acme, "shop-Flow", {"name": "ann"})
    assert (done.status, done.output) == ("SUCCEEDED", {"name": "ann", "greeting": "hi ann", "tag": "first"})
    outer = run(acme, deployed.stack.outputs["OuterArn"]["value"], {"name": "bob"})
    assert outer.status == "SUCCEEDED", outer.cause
    assert outer.output["Output"] == {"name": "bob", "greeting": "hi bob", "tag": "first"}


def test_the_stacks_rule_starts_its_state_machine(shop: AccountHandle) -> None:
    shop.events.put_events([entry({"name": "cy"}), entry({"name": "no"}, source="other")])
    wait_until(lambda: len(shop.workflows.list_executions("shop-Flow").items) == 1)
    [started] = shop.workflows.list_executions("shop-Flow").items
    done = finished(shop, started.arn)
    assert (done.input, done.output["greeting"]) == ({"name": "cy"}, "hi cy")


def test_an_update_is_a_new_revision_and_running_executions_keep_theirs(
    shop: AccountHandle, code: Code
) -> None:
    shop.stacks.deploy("shop", WITH_WAITING, code=code())
    before = shop.workflows.describe_state_machine("shop-Flow").revision
    napping = shop.workflows.start_execution("shop-Waiting", {})
    deployed = shop.stacks.deploy("shop", WITH_WAITING, parameters={"Tag": "second"}, code=code())
    changes = [(c.action, c.logical_id, c.properties) for c in deployed.changes]
    assert changes == [("Modify", "Flow", ("definition",))]
    after = shop.workflows.describe_state_machine("shop-Flow")
    assert after.revision != before and '"second"' in after.definition
    assert run(shop, "shop-Flow", {"name": "dee"}).output["tag"] == "second"

    removed = shop.stacks.deploy("shop", TEMPLATE, parameters={"Tag": "second"}, code=code())
    assert [(c.action, c.logical_id) for c in removed.changes] == [("Remove", "Waiting")]
    with pytest.raises(NotFound):
        shop.workflows.describe_state_machine("shop-Waiting")
    # the execution still runs its revision, and stops cleanly
    assert shop.workflows.describe_execution(napping.arn).status == "RUNNING"
    shop.workflows.stop_execution(napping.arn)
    assert shop.workflows.describe_execution(napping.arn).status == "ABORTED"


def test_removing_and_deleting_take_the_state_machines_away(
    platform: Platform, shop: AccountHandle, code: Code
) -> None:
    deployed = shop.stacks.deploy("shop", WITHOUT_OUTER, code=code())
    assert [(c.action, c.logical_id) for c in deployed.changes] == [("Remove", "Outer")]
    assert [m.name for m in shop.workflows.list_state_machines().items] == ["shop-Flow"]
    shop.stacks.delete("shop")
    assert shop.workflows.list_state_machines().items == []
    with platform.store.read() as conn:
        left = conn.execute(
            sa.select(state_machine_revisions.c.state_machine).where(
                state_machine_revisions.c.account_id == shop.account_id
            )
        ).all()
    assert left == []
    shop.workflows.create_state_machine("shop-Flow", {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}})


def test_users_cannot_change_the_stacks_state_machines(shop: AccountHandle) -> None:
    succeed = {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}
    with pytest.raises(Conflict, match="managed by stack shop"):
        shop.workflows.update_state_machine("shop-Flow", succeed)
    with pytest.raises(Conflict, match="managed by stack shop"):
        shop.workflows.delete_state_machine("shop-Flow")
    with pytest.raises(Conflict, match="managed by stack shop"):
        shop.workflows.put_state_machine("shop-Flow", succeed, managed_by="other")
    assert shop.workflows.describe_state_machine("shop-Flow").managed_by == "shop"


def test_a_state_machine_made_by_a_user_is_not_taken_over(acme: AccountHandle, code: Code) -> None:
    acme.workflows.create_state_machine("shop-Flow", {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}})
    with pytest.raises(Conflict, match=r"Resources\.Flow: .*not managed by this stack"):
        acme.stacks.deploy("shop", TEMPLATE, code=code())
    with pytest.raises(NotFound):
        acme.stacks.get("shop")
    assert acme.workflows.describe_state_machine("shop-Flow").managed_by is None
    with pytest.raises(NotFound):
        acme.workflows.describe_state_machine("shop-outer")
    with pytest.raises(NotFound):
        acme.functions.get("shop-Greeter")


def test_a_state_machine_recorded_before_it_ran_is_created(
    platform: Platform, shop: AccountHandle, code: Code
) -> None:
    """A stack deployed when state machines (and rules that start them) were recorded only: its next
    deploy creates them."""
    account = shop.account_id
    with platform.store.write() as conn:
        conn.execute(
            sa.delete(state_machines).where(
                state_machines.c.account_id == account, state_machines.c.name == "shop-Flow"
            )
        )
        for table, key in ((event_targets, event_targets.c.rule_name), (event_rules, event_rules.c.name)):
            conn.execute(sa.delete(table).where(table.c.account_id == account, key == "shop-OnOrder"))
        conn.execute(
            sa.update(stack_resources)
            .where(
                stack_resources.c.account_id == account,
                stack_resources.c.logical_id.in_(["Flow", "OnOrder"]),
            )
            .values(status="NOT_RUNNABLE", revision=None)
        )
    deployed = shop.stacks.deploy("shop", TEMPLATE, code=code())
    assert [(c.logical_id, c.properties) for c in deployed.changes] == [
        ("Flow", ("(missing from the account)",)),
        ("OnOrder", ("(missing from the account)",)),
    ]
    resources = {r.logical_id: r for r in shop.stacks.resources("shop")}
    assert {resources[r].status for r in ("Flow", "OnOrder")} == {"UPDATE_COMPLETE"}
    assert shop.workflows.describe_state_machine("shop-Flow").managed_by == "shop"
    [target] = shop.events.list_targets("shop-OnOrder")
    assert target.arn == resources["Flow"].arn


def test_guardrails_see_the_state_machine_name(
    mgmt: ManagementHandle, acme: AccountHandle, code: Code
) -> None:
    rail = mgmt.create_guardrail(
        "no-outer",
        {
            "Statement": [
                {
                    "Sid": "NoOuter",
                    "Effect": "Deny",
                    "Action": "states:CreateStateMachine",
                    "Condition": {"StringLike": {"StateMachineName": "*-outer"}},
                }
            ]
        },
    )
    mgmt.attach_guardrail(rail.policy_id, acme.account_id)
    with pytest.raises(GuardrailDenied) as denied:
        acme.stacks.deploy("shop", TEMPLATE, code=code())
    assert denied.value.message.startswith("Resources.Outer: ")
    assert acme.workflows.list_state_machines().items == []


def test_a_name_a_user_took_meanwhile_is_left_to_the_user(
    platform: Platform, shop: AccountHandle, code: Code
) -> None:
    """A stack recorded a state machine before they ran and a user made one of that name since: when
    the resource leaves the template, the user's state machine (and its revisions) stay."""
    account = shop.account_id
    with platform.store.write() as conn:
        mine = (state_machines.c.account_id == account, state_machines.c.name == "shop-outer")
        conn.execute(sa.delete(state_machines).where(*mine))
    succeed = {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}
    shop.workflows.create_state_machine("shop-outer", succeed)
    removed = shop.stacks.deploy("shop", WITHOUT_OUTER, code=code())
    assert [(c.action, c.logical_id) for c in removed.changes] == [("Remove", "Outer")]
    assert run(shop, "shop-outer", {}).status == "SUCCEEDED"  # its revision is still there
    assert shop.workflows.describe_state_machine("shop-outer").managed_by is None
