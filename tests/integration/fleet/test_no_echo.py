"""NoEcho parameters of a stack set: masked in the stack set, its instances' overrides and the stacks
in the accounts; deployed in clear, and kept by updates that do not pass them again."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from silo.fleet import Amount, OperationStatus, Preferences, Targets
from silo.platform import ManagementHandle, Platform
from silo.store.schema import fleet_stack_instances, fleet_stack_sets, functions, stacks
from tests.integration.fleet.conftest import TEMPLATE, finish

Code = Callable[..., dict[str, bytes]]
Accounts = Callable[..., list[str]]
FAST = Preferences(max_concurrent=Amount(100, percent=True), retry_base_seconds=0.01, retry_max_seconds=0.05)

SECRET = TEMPLATE.replace(
    "Parameters:\n", "Parameters:\n  Token:\n    Type: String\n    NoEcho: true\n"
).replace(
    "          VERSION: !Ref Version\n", "          VERSION: !Ref Version\n          TOKEN: !Ref Token\n"
)


def _environment(platform: Platform, account: str) -> dict[str, str]:
    with platform.store.read() as conn:
        found = conn.execute(
            sa.select(functions.c.environment).where(
                functions.c.account_id == account, functions.c.name == "svc-Api"
            )
        ).scalar_one()
    return dict(found)


def _column(platform: Platform, column: sa.Column[object], *where: sa.ColumnElement[bool]) -> list[object]:
    with platform.store.read() as conn:
        return list(conn.execute(sa.select(column).where(*where)).scalars())


def test_stack_sets_and_instances_mask_no_echo_values(
    platform: Platform, mgmt: ManagementHandle, accounts: Accounts, fleet_code: Code
) -> None:
    plain, special = accounts(2)
    made = mgmt.fleet.create_stack_set("svc", SECRET, parameters={"Token": "t1"}, code=fleet_code())
    assert made.parameters == {"Token": "****"}
    assert mgmt.fleet.get_stack_set("svc").parameters == {"Token": "****"}
    assert [s.parameters for s in mgmt.fleet.list_stack_sets()] == [{"Token": "****"}]

    op = mgmt.fleet.create_instances("svc", Targets(accounts=(plain,)), preferences=FAST)
    assert finish(mgmt.fleet, op).status is OperationStatus.SUCCEEDED
    op = mgmt.fleet.create_instances(
        "svc", Targets(accounts=(special,)), overrides={"Token": "t-special"}, preferences=FAST
    )
    assert finish(mgmt.fleet, op).status is OperationStatus.SUCCEEDED
    overrides = {i.account_id: i.overrides for i in mgmt.fleet.list_instances("svc").items}
    assert overrides == {plain: {}, special: {"Token": "****"}}
    assert _column(
        platform, fleet_stack_instances.c.overrides, fleet_stack_instances.c.account_id == special
    ) == [{"Token": "t-special"}]
    assert _environment(platform, plain) == {"VERSION": "v1", "TOKEN": "t1"}
    assert _environment(platform, special) == {"VERSION": "v1", "TOKEN": "t-special"}

    # An update that does not pass the token again keeps it (never the mask).
    op = mgmt.fleet.update_stack_set("svc", parameters={"Version": "v2"}, preferences=FAST)
    assert finish(mgmt.fleet, op).status is OperationStatus.SUCCEEDED
    assert _environment(platform, plain) == {"VERSION": "v2", "TOKEN": "t1"}
    assert _environment(platform, special) == {"VERSION": "v2", "TOKEN": "t-special"}
    assert mgmt.fleet.get_stack_set("svc").parameters == {"Token": "****", "Version": "v2"}
    assert _column(platform, fleet_stack_sets.c.parameters) == [{"Token": "t1", "Version": "v2"}]
    # A new template (the same one, sent again) without parameters keeps the token too.
    op = mgmt.fleet.update_stack_set("svc", body=SECRET + "\n", code=fleet_code(), preferences=FAST)
    assert finish(mgmt.fleet, op).status is OperationStatus.SUCCEEDED
    assert _environment(platform, plain) == {"VERSION": "v2", "TOKEN": "t1"}

    # The stacks in the accounts are described with the mask too (and store the real values).
    stored = _column(platform, stacks.c.parameters, stacks.c.account_id == plain)
    assert stored == [{"Token": "t1", "Version": "v2"}]
    handle = platform.account(platform.authenticate(mgmt.issue_account_key(plain, "ci").token))
    assert handle.stacks.get("svc").parameters == {"Token": "****", "Version": "v2"}
