"""Stack sets rolled out to many accounts: targets, tolerance, waves, updates, retries, events."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from silo.errors import Conflict, NotFound, ValidationError
from silo.fleet import (
    Amount,
    InstanceStatus,
    OperationStatus,
    Preferences,
    Targets,
    Wave,
)
from silo.platform import ManagementHandle, Platform
from silo.store.schema import functions, stack_events, stacks
from tests.integration.fleet.conftest import TEMPLATE, finish

Code = Callable[..., dict[str, bytes]]
Accounts = Callable[..., list[str]]
FAST = Preferences(max_concurrent=Amount(100, percent=True), retry_base_seconds=0.01, retry_max_seconds=0.05)


def _function_names(platform: Platform, account: str) -> set[str]:
    with platform.store.read() as conn:
        return set(
            conn.execute(sa.select(functions.c.name).where(functions.c.account_id == account)).scalars()
        )


def test_create_instances_deploys_to_every_selected_account(
    platform: Platform, mgmt: ManagementHandle, accounts: Accounts, fleet_code: Code
) -> None:
    ids = accounts(5)
    mgmt.fleet.create_stack_set("svc", TEMPLATE, code=fleet_code())
    op = mgmt.fleet.create_instances("svc", Targets(accounts=tuple(ids)), preferences=FAST)
    done = finish(mgmt.fleet, op)
    assert done.status is OperationStatus.SUCCEEDED
    for account in ids:
        assert _function_names(platform, account) == {"svc-Api", "svc-Worker"}
    instances = mgmt.fleet.list_instances("svc").items
    assert [(i.account_id, i.status, i.version) for i in instances] == [
        (a, InstanceStatus.CURRENT, 1) for a in sorted(ids)
    ]
    progress = mgmt.fleet.progress(op.operation_id).to_dict()
    assert (progress["total"], progress["succeeded"], progress["failed"], progress["pending"]) == (5, 5, 0, 0)
    # the management account is never a target through an OU, and its functions stay untouched
    assert _function_names(platform, platform.management_account_id) == set()


def test_ou_targets_are_recursive_and_tags_filter(
    platform: Platform, mgmt: ManagementHandle, accounts: Accounts, fleet_code: Code
) -> None:
    prod = mgmt.create_ou("prod")
    eu = mgmt.create_ou("eu", prod.ou_id)
    direct = accounts(2, ou=prod.ou_id)
    nested = accounts(2, ou=eu.ou_id, tags={"tier": "gold"})
    outside = accounts(2)
    mgmt.fleet.create_stack_set("svc", TEMPLATE, code=fleet_code())
    op = mgmt.fleet.create_instances("svc", Targets(ous=(prod.ou_id,)), preferences=FAST)
    assert finish(mgmt.fleet, op).status is OperationStatus.SUCCEEDED
    deployed = {i.account_id for i in mgmt.fleet.list_instances("svc").items}
    assert deployed == set(direct) | set(nested)
    assert all(_function_names(platform, a) == set() for a in outside)

    mgmt.fleet.create_stack_set("gold", TEMPLATE, code=fleet_code())
    op = mgmt.fleet.create_instances(
        "gold", Targets(ous=(prod.ou_id,), tags={"tier": "gold"}), preferences=FAST
    )
    assert finish(mgmt.fleet, op).status is OperationStatus.SUCCEEDED
    assert {i.account_id for i in mgmt.fleet.list_instances("gold").items} == set(nested)


def test_update_rolls_new_code_and_settings_out_to_all(
    platform: Platform, mgmt: ManagementHandle, accounts: Accounts, fleet_code: Code
) -> None:
    ids = accounts(4)
    mgmt.fleet.create_stack_set("svc", TEMPLATE, code=fleet_code())
    finish(mgmt.fleet, mgmt.fleet.create_instances("svc", Targets(accounts=tuple(ids)), preferences=FAST))
    op = mgmt.fleet.update_stack_set(
        "svc",
        parameters={"Version": "v2"},
        code=fleet_code("def handler(event, context):\n    return 'v2'\n"),
        preferences=FAST,
    )
    assert op.version == 2
    assert finish(mgmt.fleet, op).status is OperationStatus.SUCCEEDED
    for account in ids:
        with platform.store.read() as conn:
            row = conn.execute(
                sa.select(functions.c.environment, functions.c.code_sha256).where(
                    functions.c.account_id == account, functions.c.name == "svc-Api"
                )
            ).one()
        assert row.environment == {"VERSION": "v2"}
    assert {i.version for i in mgmt.fleet.list_instances("svc").items} == {2}
    # an update with no change to a template leaves every stack as it is
    again = finish(mgmt.fleet, mgmt.fleet.update_stack_set("svc", preferences=FAST))
    assert again.status is OperationStatus.SUCCEEDED


def _deny_functions(mgmt: ManagementHandle, ids: list[str]) -> None:
    rail = mgmt.create_guardrail(
        "no-functions", {"Statement": [{"Effect": "Deny", "Action": "functions:Create"}]}
    )
    for account in ids:
        mgmt.attach_guardrail(rail.policy_id, account)


def test_strict_tolerance_stops_at_tolerance_plus_one_failures(
    platform: Platform, mgmt: ManagementHandle, accounts: Accounts, fleet_code: Code
) -> None:
    ids = accounts(10)
    _deny_functions(mgmt, ids[:6])
    mgmt.fleet.create_stack_set("svc", TEMPLATE, code=fleet_code())
    prefs = Preferences(max_concurrent=Amount(10), failure_tolerance=Amount(1), concurrency_mode="strict")
    done = finish(
        mgmt.fleet, mgmt.fleet.create_instances("svc", Targets(accounts=tuple(ids)), preferences=prefs)
    )
    assert done.status is OperationStatus.FAILED
    progress = mgmt.fleet.progress(done.operation_id)
    assert progress.count("failed") == 2
    assert progress.count("succeeded") + progress.count("failed") + progress.count("cancelled") == 10
    assert "over the tolerance of 1" in done.status_reason


def test_soft_tolerance_keeps_full_concurrency(
    platform: Platform, mgmt: ManagementHandle, accounts: Accounts, fleet_code: Code
) -> None:
    ids = accounts(10)
    _deny_functions(mgmt, ids[:6])
    mgmt.fleet.create_stack_set("svc", TEMPLATE, code=fleet_code())
    prefs = Preferences(max_concurrent=Amount(10), failure_tolerance=Amount(1), concurrency_mode="soft")
    done = finish(
        mgmt.fleet, mgmt.fleet.create_instances("svc", Targets(accounts=tuple(ids)), preferences=prefs)
    )
    assert done.status is OperationStatus.FAILED
    progress = mgmt.fleet.progress(done.operation_id)
    assert (progress.count("failed"), progress.count("succeeded")) == (6, 4)
    # a failed account has nothing; the others are complete
    for account in ids[:6]:
        assert _function_names(platform, account) == set()
    for account in ids[6:]:
        assert _function_names(platform, account) == {"svc-Api", "svc-Worker"}
    failed = {
        i.account_id: i for i in mgmt.fleet.list_instances("svc").items if i.status is InstanceStatus.OUTDATED
    }
    assert set(failed) == set(ids[:6])
    assert "Resources.Api" in failed[ids[0]].status_reason


def test_waves_halt_after_a_failing_canary(
    platform: Platform, mgmt: ManagementHandle, accounts: Accounts, fleet_code: Code
) -> None:
    canary_ou = mgmt.create_ou("canary")
    canaries = accounts(2, ou=canary_ou.ou_id)
    rest = accounts(3)
    _deny_functions(mgmt, canaries[:1])
    mgmt.fleet.create_stack_set("svc", TEMPLATE, code=fleet_code())
    prefs = Preferences(max_concurrent=Amount(100, percent=True), failure_tolerance=Amount(5))
    waves = [
        Wave(Targets(ous=(canary_ou.ou_id,)), name="canary", halt_on_failure=True),
        Wave(Targets(accounts=tuple(rest)), name="everyone"),
    ]
    done = finish(mgmt.fleet, mgmt.fleet.create_instances("svc", waves=waves, preferences=prefs))
    assert done.status is OperationStatus.FAILED
    assert "canary had 1 failed accounts: halted" in done.status_reason
    progress = mgmt.fleet.progress(done.operation_id)
    assert [(w.name, w.succeeded, w.failed, w.cancelled) for w in progress.waves] == [
        ("canary", 1, 1, 0),
        ("everyone", 0, 0, 3),
    ]
    assert all(_function_names(platform, a) == set() for a in rest)


def test_waves_soak_then_continue(mgmt: ManagementHandle, accounts: Accounts, fleet_code: Code) -> None:
    first, second = accounts(1), accounts(2)
    mgmt.fleet.create_stack_set("svc", TEMPLATE, code=fleet_code())
    waves = [
        Wave(Targets(accounts=tuple(first)), name="canary", soak_seconds=0.3),
        Wave(Targets(accounts=tuple(second))),
    ]
    op = mgmt.fleet.create_instances("svc", waves=waves, preferences=FAST)
    done = finish(mgmt.fleet, op)
    assert done.status is OperationStatus.SUCCEEDED
    assert done.ended_at is not None and done.started_at is not None
    assert (done.ended_at - done.started_at).total_seconds() >= 0.3


def test_operations_on_one_stack_set_queue(
    mgmt: ManagementHandle, accounts: Accounts, fleet_code: Code
) -> None:
    ids = accounts(3)
    mgmt.fleet.create_stack_set("svc", TEMPLATE, code=fleet_code())
    first = mgmt.fleet.create_instances("svc", Targets(accounts=tuple(ids)), preferences=Preferences())
    second = mgmt.fleet.update_stack_set("svc", parameters={"Version": "v2"}, preferences=FAST)
    one, two = finish(mgmt.fleet, first), finish(mgmt.fleet, second)
    assert one.status is two.status is OperationStatus.SUCCEEDED
    assert one.ended_at is not None and two.started_at is not None and two.started_at >= one.ended_at


def test_stop_cancels_what_has_not_started(
    mgmt: ManagementHandle, accounts: Accounts, fleet_code: Code
) -> None:
    ids = accounts(3)
    mgmt.fleet.create_stack_set("svc", TEMPLATE, code=fleet_code())
    blocker = mgmt.fleet.create_instances("svc", Targets(accounts=tuple(ids[:1])), preferences=FAST)
    queued = mgmt.fleet.update_stack_set("svc", parameters={"Version": "v2"}, preferences=FAST)
    stopped = mgmt.fleet.stop_operation(queued.operation_id)
    assert stopped.status in (OperationStatus.STOPPING, OperationStatus.STOPPED)
    finish(mgmt.fleet, blocker)
    assert finish(mgmt.fleet, queued).status is OperationStatus.STOPPED
    with pytest.raises(Conflict):
        mgmt.fleet.stop_operation(queued.operation_id)


def test_delete_instances_removes_stacks_or_retains_them(
    platform: Platform, mgmt: ManagementHandle, accounts: Accounts, fleet_code: Code
) -> None:
    ids = accounts(2)
    mgmt.fleet.create_stack_set("svc", TEMPLATE, code=fleet_code())
    finish(mgmt.fleet, mgmt.fleet.create_instances("svc", Targets(accounts=tuple(ids)), preferences=FAST))
    gone = mgmt.fleet.delete_instances("svc", Targets(accounts=(ids[0],)), preferences=FAST)
    kept = mgmt.fleet.delete_instances(
        "svc", Targets(accounts=(ids[1],)), retain_stacks=True, preferences=FAST
    )
    assert finish(mgmt.fleet, gone).status is finish(mgmt.fleet, kept).status is OperationStatus.SUCCEEDED
    assert _function_names(platform, ids[0]) == set()
    assert _function_names(platform, ids[1]) == {"svc-Api", "svc-Worker"}
    assert mgmt.fleet.list_instances("svc").items == []
    with platform.store.read() as conn:
        kept_stack = conn.execute(
            sa.select(stacks.c.stack_set).where(stacks.c.account_id == ids[1], stacks.c.name == "svc")
        ).one()
    assert kept_stack.stack_set is None  # still there, no longer managed by the set
    mgmt.fleet.delete_stack_set("svc")
    with pytest.raises(NotFound):
        mgmt.fleet.get_stack_set("svc")


def test_bad_input_is_refused_before_anything_runs(
    mgmt: ManagementHandle, accounts: Accounts, fleet_code: Code
) -> None:
    with pytest.raises(ValidationError, match="CodeUri"):
        mgmt.fleet.create_stack_set("svc", TEMPLATE, code={})
    mgmt.fleet.create_stack_set("svc", TEMPLATE, code=fleet_code())
    with pytest.raises(Conflict):
        mgmt.fleet.create_stack_set("svc", TEMPLATE, code=fleet_code())
    with pytest.raises(ValidationError, match="no such accounts"):
        mgmt.fleet.create_instances("svc", Targets(accounts=("999999999999",)))
    with pytest.raises(ValidationError, match="max_concurrent"):
        Preferences.from_dict({"max_concurrent": "150%"})
    with pytest.raises(ValidationError, match="concurrency_mode"):
        Preferences.from_dict({"concurrency_mode": "fast"})
    assert mgmt.fleet.list_operations("svc").items == []


def test_every_state_change_is_a_management_event(
    platform: Platform, mgmt: ManagementHandle, accounts: Accounts, fleet_code: Code
) -> None:
    ids = accounts(2)
    mgmt.fleet.create_stack_set("svc", TEMPLATE, code=fleet_code())
    op = finish(
        mgmt.fleet, mgmt.fleet.create_instances("svc", Targets(accounts=tuple(ids)), preferences=FAST)
    )
    events = [e for e in mgmt.fleet.management_events() if e["detail"].get("operation_id") == op.operation_id]
    kinds = sorted(e["detail_type"] for e in events)
    assert kinds.count("StackSet Instance Status Change") == 2
    statuses = [
        e["detail"]["status"] for e in events if e["detail_type"] == "StackSet Operation Status Change"
    ]
    assert sorted(statuses) == ["RUNNING", "SUCCEEDED"]
    with platform.store.read() as conn:
        for account in ids:
            created = conn.execute(
                sa.select(sa.func.count()).where(
                    stack_events.c.account_id == account,
                    stack_events.c.status == "CREATE_COMPLETE",
                    stack_events.c.logical_id == "svc",
                )
            ).scalar()
            assert created == 1


def test_fleet_changes_are_audited(mgmt: ManagementHandle, accounts: Accounts, fleet_code: Code) -> None:
    ids = accounts(1)
    mgmt.fleet.create_stack_set("svc", TEMPLATE, code=fleet_code())
    op = mgmt.fleet.create_instances("svc", Targets(accounts=tuple(ids)), preferences=FAST)
    finish(mgmt.fleet, op)
    created = mgmt.audit_log(action="fleet:CreateStackSet").items
    assert [e.details["stack_set"] for e in created] == ["svc"]
    instances = mgmt.audit_log(action="fleet:CreateStackInstances").items
    assert instances[0].details["operation_id"] == op.operation_id
    assert instances[0].principal == mgmt.principal.key_id
