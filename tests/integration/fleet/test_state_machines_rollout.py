"""A stack set with a state machine: every account gets its own, calling its own function; updates and
instance deletes follow (the fleet writes state machines in its batches)."""

from __future__ import annotations

import json
from collections.abc import Callable

from silo.fleet import Amount, OperationStatus, Preferences, Targets
from silo.platform import AccountHandle, ManagementHandle
from tests.helpers.functions import wait_until
from tests.integration.fleet.conftest import TEMPLATE, finish

Code = Callable[..., dict[str, bytes]]
Accounts = Callable[..., list[str]]
FAST = Preferences(max_concurrent=Amount(100, percent=True), retry_base_seconds=0.01, retry_max_seconds=0.05)
WITH_FLOW = (
    TEMPLATE
    + """  Flow:
    Type: AWS::Serverless::StateMachine
    Properties:
      Definition:
        StartAt: Call
        States:
          Call: {Type: Task, Resource: !GetAtt Api.Arn, ResultPath: $.version, Next: Tag}
          Tag: {Type: Pass, Result: !Ref Version, ResultPath: $.tag, End: true}
"""
)


def inside(mgmt: ManagementHandle, account: str) -> AccountHandle:
    return mgmt.assume(account, "check the rollout").handle


def test_a_stack_set_rolls_state_machines_out_to_each_account(
    mgmt: ManagementHandle, accounts: Accounts, fleet_code: Code
) -> None:
    ids = accounts(3)
    mgmt.fleet.create_stack_set("svc", WITH_FLOW, code=fleet_code())
    op = mgmt.fleet.create_instances("svc", Targets(accounts=tuple(ids)), preferences=FAST)
    done = finish(mgmt.fleet, op)
    assert done.status is OperationStatus.SUCCEEDED
    for account in ids:
        flow = inside(mgmt, account).workflows.describe_state_machine("svc-Flow")
        assert flow.managed_by == "svc"
        call = json.loads(flow.definition)["States"]["Call"]
        assert call["Resource"] == f"arn:silo:lambda:local:{account}:function:svc-Api"

    op = mgmt.fleet.update_stack_set("svc", parameters={"Version": "v2"}, preferences=FAST)
    assert finish(mgmt.fleet, op).status is OperationStatus.SUCCEEDED
    handle = inside(mgmt, ids[0])
    started = handle.workflows.start_execution("svc-Flow", {"n": 1})
    wait_until(lambda: handle.workflows.describe_execution(started.arn).status != "RUNNING", timeout=20)
    assert handle.workflows.describe_execution(started.arn).output == {
        "n": 1,
        "version": {"n": 1},
        "tag": "v2",
    }

    gone = mgmt.fleet.delete_instances("svc", Targets(accounts=(ids[1],)), preferences=FAST)
    assert finish(mgmt.fleet, gone).status is OperationStatus.SUCCEEDED
    assert inside(mgmt, ids[1]).workflows.list_state_machines().items == []
    assert [m.name for m in inside(mgmt, ids[2]).workflows.list_state_machines().items] == ["svc-Flow"]
