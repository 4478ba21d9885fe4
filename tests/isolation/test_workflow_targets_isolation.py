"""No rule, schedule, template, delivery or redrive of account A ever starts a state machine of account B,
even when both have a state machine of the same name."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from silo.errors import Conflict, NotFound, ValidationError
from silo.events.deliveries import delivery_row
from silo.platform import AccountHandle, ManagementHandle, Platform
from silo.store import utcnow
from tests.helpers.dead_letters import put_dead_letter
from tests.helpers.functions import wait_until
from tests.integration.events.test_workflow_targets import ECHO, machine_arn

STARTS_ANOTHER = """
Resources:
  Thief:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      Definition:
        StartAt: Start
        States:
          Start:
            Type: Task
            Resource: arn:aws:states:::states:startExecution
            Parameters: {{StateMachineArn: "{arn}", Input: {{}}}}
            End: true
"""
RULE_TO_ANOTHER = """
Resources:
  Steal:
    Type: AWS::Events::Rule
    Properties:
      EventPattern: {{source: [shop]}}
      Targets: [{{Id: b, Arn: "{arn}"}}]
"""


@pytest.fixture
def pair(tenant: Callable[..., AccountHandle]) -> tuple[AccountHandle, AccountHandle]:
    a, b = tenant("a"), tenant("b")
    b.workflows.create_state_machine("flow", ECHO)
    return a, b


def no_runs(handle: AccountHandle) -> bool:
    return handle.workflows.list_executions("flow").items == []


def test_rules_schedules_and_templates_cannot_name_another_accounts_state_machine(
    pair: tuple[AccountHandle, AccountHandle],
) -> None:
    a, b = pair
    theirs = machine_arn(b, "flow")
    a.events.put_rule("r", event_pattern={"source": ["shop"]})
    with pytest.raises(ValidationError, match="own account"):
        a.events.put_targets("r", [{"Id": "t", "Arn": theirs}])
    with pytest.raises(ValidationError, match="own account"):
        a.schedules.put("s", expression="rate(1 hour)", target={"Arn": theirs})
    with pytest.raises(
        ValidationError, match=r"Resources\.Steal\.Properties\.Targets\[0\]\.Arn: .*own account"
    ):
        a.stacks.deploy("steal", RULE_TO_ANOTHER.format(arn=theirs))
    with pytest.raises(NotFound):
        a.stacks.get("steal")
    assert a.events.list_targets("r") == []
    assert no_runs(b)


def test_a_template_state_machine_cannot_start_another_accounts(
    pair: tuple[AccountHandle, AccountHandle],
) -> None:
    a, b = pair
    a.stacks.deploy("thief", STARTS_ANOTHER.format(arn=machine_arn(b, "flow")))
    started = a.workflows.start_execution("thief-Thief", {})
    wait_until(lambda: a.workflows.describe_execution(started.arn).status != "RUNNING")
    failed = a.workflows.describe_execution(started.arn)
    assert failed.status == "FAILED" and "not this account" in (failed.cause or "")
    assert no_runs(b)


def test_a_delivery_naming_another_accounts_state_machine_is_dead_lettered_in_its_own(
    platform: Platform, mgmt: ManagementHandle, pair: tuple[AccountHandle, AccountHandle]
) -> None:
    """A delivery row forged past PutTargets (say, by a bug) is refused when it is delivered."""
    a, b = pair
    row = delivery_row(
        a.account_id, "default", "r", "t", machine_arn(b, "flow"), "e1", b"{}",
        hops=0, max_attempts=0, max_age_s=60, now=utcnow(),
    )  # fmt: skip
    with platform.store.write() as conn:
        platform.events.queue.add(conn, [row])
    platform.events.run_deliveries([row])
    wait_until(lambda: bool(a.dead_letters().items))
    [dead] = a.dead_letters().items
    assert dead.error is not None and "own account" in dead.error["message"]
    assert dead.target["type"] == "invalid"
    with pytest.raises(Conflict, match="cannot be redriven"):
        mgmt.redrive_dead_letter(a.account_id, dead.entry_id)
    assert b.dead_letters().items == []
    assert no_runs(b)


def test_a_redrive_starts_only_the_entry_accounts_state_machine(
    platform: Platform, mgmt: ManagementHandle, pair: tuple[AccountHandle, AccountHandle]
) -> None:
    a, b = pair
    entry = put_dead_letter(platform, a.account_id, {"type": "workflow", "state_machine": "flow"})
    with pytest.raises(NotFound):  # A has no "flow"; B's is never considered
        mgmt.redrive_dead_letter(a.account_id, entry)
    assert mgmt.dead_letter(a.account_id, entry).redriven_at is None
    a.workflows.create_state_machine("flow", ECHO)
    redriven = mgmt.redrive_dead_letter(a.account_id, entry)
    assert redriven.detail["execution_arn"].startswith(
        f"arn:silo:states:local:{a.account_id}:execution:flow:"
    )
    assert [e.input for e in a.workflows.list_executions("flow").items] == [{"n": 1}]
    assert no_runs(b)
