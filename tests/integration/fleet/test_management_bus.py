"""A stack set rollout's events reach rules on the management account's default bus."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from silo.fleet import OperationStatus, Targets
from silo.platform import ManagementHandle, Platform
from tests.helpers.functions import deploy, wait_until
from tests.integration.events.test_delivery import RECORDER, function_arn, received
from tests.integration.fleet.conftest import TEMPLATE, finish


def test_the_deployment_tracker_sees_operation_and_instance_events(
    platform: Platform,
    mgmt: ManagementHandle,
    accounts: Callable[..., list[str]],
    fleet_code: Callable[..., dict[str, bytes]],
    code: Callable[[str], bytes],
    outbox: Path,
) -> None:
    own = platform.account(mgmt.principal)
    deploy(own, "tracker", code(RECORDER), environment={"OUT": str(outbox)})
    own.events.put_rule(
        "track",
        event_pattern={"source": ["silo.fleet"], "detail-type": ["StackSet Operation Status Change"]},
    )
    own.events.put_targets("track", [{"Id": "t", "Arn": function_arn(own, "tracker")}])
    ids = accounts(3)
    mgmt.fleet.create_stack_set("svc", TEMPLATE, code=fleet_code())
    done = finish(mgmt.fleet, mgmt.fleet.create_instances("svc", Targets(accounts=tuple(ids))))
    assert done.status is OperationStatus.SUCCEEDED

    def final_seen() -> bool:
        return any(r["event"]["detail"].get("status") == "SUCCEEDED" for r in received(outbox))  # type: ignore[index,union-attr]

    wait_until(final_seen)
    events = [r["event"] for r in received(outbox)]
    assert all(e["source"] == "silo.fleet" and e["account"] == own.account_id for e in events)  # type: ignore[index]
    assert {e["detail"]["operation_id"] for e in events} == {done.operation_id}  # type: ignore[index]
