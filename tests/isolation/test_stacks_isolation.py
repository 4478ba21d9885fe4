"""Stacks of account A are invisible and untouchable from account B; stack sets are management-only."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from silo.errors import NotFound
from silo.platform import AccountHandle
from tests.helpers.stacks import SERVICE
from tests.integration.stacks.test_drift import TEMPLATE as DRIFT_TEMPLATE

Code = Callable[..., dict[str, bytes]]


def test_b_cannot_see_or_touch_a_stacks(tenant: Callable[..., AccountHandle], service_code: Code) -> None:
    a, b = tenant("a"), tenant("b")
    a.stacks.deploy("shop", SERVICE, code=service_code())
    a.stacks.create_change_set(
        "shop", "next", SERVICE.replace("Default: 256", "Default: 512"), code=service_code()
    )
    assert b.stacks.list().items == []
    for attempt in (
        lambda: b.stacks.get("shop"),
        lambda: b.stacks.resources("shop"),
        lambda: b.stacks.events("shop"),
        lambda: b.stacks.template("shop"),
        lambda: b.stacks.detect_drift("shop"),
        lambda: b.stacks.describe_change_set("shop", "next"),
        lambda: b.stacks.execute_change_set("shop", "next"),
        lambda: b.stacks.delete("shop"),
    ):
        with pytest.raises(NotFound):
            attempt()
    assert b.stacks.list_change_sets("shop") == []
    assert a.stacks.get("shop").status.value == "CREATE_COMPLETE"
    assert a.functions.get("shop-Echo").config.memory_size == 256


def test_same_stack_name_in_two_accounts_are_separate(
    tenant: Callable[..., AccountHandle], service_code: Code
) -> None:
    a, b = tenant("a"), tenant("b")
    a.stacks.deploy("shop", SERVICE, code=service_code())
    b.stacks.deploy("shop", SERVICE, parameters={"Memory": "512"}, code=service_code())
    b.stacks.delete("shop")
    assert a.functions.get("shop-Echo").config.memory_size == 256
    assert a.stacks.detect_drift("shop") == []
    outputs = a.stacks.get("shop").outputs
    assert a.account_id in outputs["EchoArn"]["value"]


def test_a_template_cannot_name_another_accounts_code(
    tenant: Callable[..., AccountHandle], service_code: Code
) -> None:
    a, b = tenant("a"), tenant("b")
    a.stacks.deploy("shop", SERVICE, code=service_code())
    sha = a.functions.get("shop-Echo").config.code_sha256
    stolen = SERVICE.replace("CodeUri: src/", f"CodeUri: sha256:{sha}")
    with pytest.raises(Exception, match="naming an artifact by hash is not allowed"):
        b.stacks.deploy("thief", stolen)
    assert b.functions.list().items == []


def test_account_handles_have_no_fleet_surface(tenant: Callable[..., AccountHandle]) -> None:
    a = tenant("a")
    assert not hasattr(a, "fleet")


def test_drift_reads_only_the_stacks_own_account(
    tenant: Callable[..., AccountHandle], service_code: Code
) -> None:
    """Both accounts run the same stack (same physical names); what B changes or deletes is B's
    drift only, whatever the kind."""
    a, b = tenant("a"), tenant("b")
    for handle in (a, b):
        handle.stacks.deploy("shop", DRIFT_TEMPLATE, code=service_code())
    b.events.disable_rule("shop-Big")
    b.events.delete_event_bus("shop-spare")
    b.schedules.delete("shop-WorkerHourly")
    b.workflows.delete_state_machine("shop-Flow", managed_by="shop")
    assert {d.logical_id: d.status for d in b.stacks.detect_drift("shop")} == {
        "Big": "MODIFIED",
        "Spare": "DELETED",
        "WorkerHourly": "DELETED",
        "Flow": "DELETED",
    }
    assert a.stacks.detect_drift("shop") == []
    a.events.delete_rule("shop-Big", force=True)
    assert [(d.logical_id, d.status) for d in a.stacks.detect_drift("shop")] == [("Big", "DELETED")]
    assert {d.logical_id for d in b.stacks.detect_drift("shop")} == {"Big", "Spare", "WorkerHourly", "Flow"}
