"""NoEcho parameters: used in clear to resolve and deploy, kept in clear for later updates and change
sets, masked (``****``) in every description of a stack or change set."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from silo.platform import AccountHandle, Platform
from silo.store.schema import stack_change_sets, stacks
from tests.helpers.stacks import SERVICE

Code = Callable[..., dict[str, bytes]]

SECRET = SERVICE.replace(
    "  Greeting:\n    Type: String\n    Default: hello\n",
    "  Greeting:\n    Type: String\n    NoEcho: true\n",
)
MASKED = {"Memory": "256", "Greeting": "****"}


def _stored(platform: Platform, table: sa.Table, account: str) -> list[dict[str, str]]:
    with platform.store.read() as conn:
        query = sa.select(table.c.parameters).where(table.c.account_id == account)
        return [dict(p) for p in conn.execute(query).scalars()]


def test_descriptions_mask_no_echo_values_the_stack_still_uses(
    platform: Platform, tenant: Callable[[str], AccountHandle], service_code: Code
) -> None:
    acme = tenant("acme")
    deployed = acme.stacks.deploy("shop", SECRET, parameters={"Greeting": "s3cret"}, code=service_code())
    assert deployed.stack is not None and deployed.stack.parameters == MASKED
    assert acme.stacks.get("shop").parameters == MASKED
    assert [s.parameters for s in acme.stacks.list().items] == [MASKED]
    assert acme.functions.get("shop-Echo").config.environment == {"GREETING": "s3cret"}
    assert acme.functions.invoke("shop-Greeter", b'{"name": "ann"}').payload == b'"s3cret ann"'
    assert _stored(platform, stacks, acme.account_id) == [{"Memory": "256", "Greeting": "s3cret"}]


def test_change_sets_show_the_mask_and_execute_with_the_value(
    platform: Platform, tenant: Callable[[str], AccountHandle], service_code: Code
) -> None:
    acme = tenant("acme")
    acme.stacks.deploy("shop", SECRET, parameters={"Greeting": "old"}, code=service_code())
    made = acme.stacks.create_change_set(
        "shop", "rotate", SECRET, parameters={"Greeting": "new"}, code=service_code()
    )
    assert made.parameters == MASKED
    assert [(c.logical_id, c.properties) for c in made.changes] == [
        ("Echo", ("environment",)),
        ("Greeter", ("environment",)),
    ]
    assert acme.stacks.describe_change_set("shop", "rotate").parameters == MASKED
    assert [c.parameters for c in acme.stacks.list_change_sets("shop")] == [MASKED]
    assert _stored(platform, stack_change_sets, acme.account_id) == [{"Memory": "256", "Greeting": "new"}]
    executed = acme.stacks.execute_change_set("shop", "rotate")
    assert executed.stack is not None and executed.stack.parameters == MASKED
    assert acme.functions.get("shop-Echo").config.environment == {"GREETING": "new"}
    assert _stored(platform, stacks, acme.account_id) == [{"Memory": "256", "Greeting": "new"}]


def test_a_parameter_that_is_not_no_echo_is_shown(
    tenant: Callable[[str], AccountHandle], service_code: Code
) -> None:
    acme = tenant("acme")
    acme.stacks.deploy("shop", SERVICE, parameters={"Greeting": "hi"}, code=service_code())
    assert acme.stacks.get("shop").parameters == {"Memory": "256", "Greeting": "hi"}
    # the next version declares it NoEcho: from then on it is masked
    acme.stacks.deploy("shop", SECRET, parameters={"Greeting": "hi"}, code=service_code())
    assert acme.stacks.get("shop").parameters == MASKED
    assert acme.stacks.validate(SECRET, {"Greeting": "x"}).shown_parameters() == MASKED
