"""Auto-deployment: accounts joining a targeted OU get the stack; leaving removes it (or keeps it)."""

from __future__ import annotations

import time
from collections.abc import Callable

import sqlalchemy as sa

from silo.accounts import AccountSpec
from silo.fleet import Amount, OperationAction, Preferences, Targets
from silo.platform import ManagementHandle, Platform
from silo.store.schema import functions
from tests.integration.fleet.conftest import TEMPLATE, finish

Code = Callable[..., dict[str, bytes]]
Accounts = Callable[..., list[str]]
FAST = Preferences(max_concurrent=Amount(100, percent=True))


def _names(platform: Platform, account: str) -> set[str]:
    with platform.store.read() as conn:
        query = sa.select(functions.c.name).where(functions.c.account_id == account)
        return set(conn.execute(query).scalars())


def _settle(mgmt: ManagementHandle) -> None:
    end = time.monotonic() + 30
    while time.monotonic() < end:
        if all(op.status.finished for op in mgmt.fleet.list_operations("svc").items):
            return
        time.sleep(0.02)
    raise AssertionError("operations did not finish")


def test_an_account_joining_a_targeted_ou_gets_the_stack(
    platform: Platform, mgmt: ManagementHandle, accounts: Accounts, fleet_code: Code
) -> None:
    tenants = mgmt.create_ou("tenants")
    first = accounts(1, ou=tenants.ou_id)
    mgmt.fleet.create_stack_set("svc", TEMPLATE, code=fleet_code(), auto_deployment=True)
    finish(mgmt.fleet, mgmt.fleet.create_instances("svc", Targets(ous=(tenants.ou_id,)), preferences=FAST))
    assert mgmt.fleet.get_stack_set("svc").auto_deployment.ous == (tenants.ou_id,)

    joined = mgmt.create_account(AccountSpec("newcomer", "ops@new.example", ou_id=tenants.ou_id))
    _settle(mgmt)
    assert _names(platform, joined.account_id) == {"svc-Api", "svc-Worker"}
    auto = mgmt.fleet.list_operations("svc").items[0]
    assert auto.action is OperationAction.CREATE

    elsewhere = accounts(1)
    mgmt.move_account(elsewhere[0], tenants.ou_id)
    _settle(mgmt)
    assert _names(platform, elsewhere[0]) == {"svc-Api", "svc-Worker"}

    mgmt.move_account(first[0], mgmt.root_ou().ou_id)
    _settle(mgmt)
    assert _names(platform, first[0]) == set()
    members = {i.account_id for i in mgmt.fleet.list_instances("svc").items}
    assert members == {joined.account_id, elsewhere[0]}


def test_without_auto_deployment_new_accounts_are_left_alone(
    platform: Platform, mgmt: ManagementHandle, accounts: Accounts, fleet_code: Code
) -> None:
    tenants = mgmt.create_ou("tenants")
    accounts(1, ou=tenants.ou_id)
    mgmt.fleet.create_stack_set("svc", TEMPLATE, code=fleet_code())
    finish(mgmt.fleet, mgmt.fleet.create_instances("svc", Targets(ous=(tenants.ou_id,)), preferences=FAST))
    late = accounts(1, ou=tenants.ou_id)
    _settle(mgmt)
    assert _names(platform, late[0]) == set()
    assert len(mgmt.fleet.list_operations("svc").items) == 1


def test_leaving_with_retained_stacks_keeps_the_functions(
    platform: Platform, mgmt: ManagementHandle, accounts: Accounts, fleet_code: Code
) -> None:
    tenants = mgmt.create_ou("tenants")
    member = accounts(1, ou=tenants.ou_id)
    mgmt.fleet.create_stack_set(
        "svc", TEMPLATE, code=fleet_code(), auto_deployment=True, retain_stacks_on_removal=True
    )
    finish(mgmt.fleet, mgmt.fleet.create_instances("svc", Targets(ous=(tenants.ou_id,)), preferences=FAST))
    mgmt.move_account(member[0], mgmt.root_ou().ou_id)
    _settle(mgmt)
    assert _names(platform, member[0]) == {"svc-Api", "svc-Worker"}
    assert mgmt.fleet.list_instances("svc").items == []
