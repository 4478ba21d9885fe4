"""Stacks in one account: deploy, change sets, update, delete, failures, drift."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from silo.errors import Conflict, GuardrailDenied, NotFound, ValidationError
from silo.functions import FunctionSettings
from silo.platform import AccountHandle, ManagementHandle, Platform
from silo.stacks import ChangeSetStatus, StackStatus
from silo.store.schema import functions
from silo.templates import TemplateError
from tests.helpers.stacks import SERVICE

Code = Callable[..., dict[str, bytes]]


def test_deploy_creates_functions_and_records_the_stack(
    tenant: Callable[[str], AccountHandle], service_code: Code
) -> None:
    acme = tenant("acme")
    deployed = acme.stacks.deploy("shop", SERVICE, code=service_code())
    assert deployed.stack is not None
    assert deployed.stack.status is StackStatus.CREATE_COMPLETE
    assert [(c.action, c.logical_id) for c in deployed.changes] == [
        ("Add", "Echo"),
        ("Add", "Greeter"),
        ("Add", "Nightly"),
    ]
    echo = acme.functions.get("shop-Echo")
    assert echo.config.memory_size == 256
    assert echo.config.environment == {"GREETING": "hello"}
    greeter = acme.functions.get("shop-Greeter")
    assert greeter.async_config.max_retry_attempts == 1
    assert greeter.async_config.on_failure == {"function": "shop-Echo"}
    assert acme.functions.invoke("shop-Greeter", b'{"name": "ann"}').payload == b'"hello ann"'
    outputs = deployed.stack.outputs
    assert outputs["EchoName"]["value"] == "shop-Echo"
    assert outputs["EchoArn"]["value"] == f"arn:silo:lambda:local:{acme.account_id}:function:shop-Echo"
    resources = {r.logical_id: r for r in acme.stacks.resources("shop")}
    assert resources["Nightly"].status == "CREATE_COMPLETE"
    assert resources["Echo"].status == "CREATE_COMPLETE"
    events = acme.stacks.events("shop").items
    assert events[0].status == "CREATE_COMPLETE" and events[0].logical_id == "shop"


def test_change_set_preview_matches_what_execute_does(
    tenant: Callable[[str], AccountHandle], service_code: Code
) -> None:
    acme = tenant("acme")
    acme.stacks.deploy("shop", SERVICE, code=service_code())
    changed = SERVICE.replace("Default: 256", "Default: 512").replace(
        "  Nightly:\n    Type: AWS::Events::Rule", "  Nightly2:\n    Type: AWS::Events::Rule"
    )
    preview = acme.stacks.create_change_set("shop", "bigger", changed, code=service_code())
    assert preview.status is ChangeSetStatus.CREATE_COMPLETE
    summary = [(c.action, c.logical_id, c.properties) for c in preview.changes]
    assert summary == [
        ("Modify", "Echo", ("memory_size",)),
        ("Add", "Nightly2", ()),
        ("Remove", "Nightly", ()),
    ]
    assert preview.not_runnable == ()
    assert acme.functions.get("shop-Echo").config.memory_size == 256  # nothing applied yet
    executed = acme.stacks.execute_change_set("shop", "bigger")
    assert [(c.action, c.logical_id, c.properties) for c in executed.changes] == summary
    assert acme.functions.get("shop-Echo").config.memory_size == 512
    assert acme.stacks.describe_change_set("shop", "bigger").status is ChangeSetStatus.EXECUTE_COMPLETE
    with pytest.raises(Conflict):
        acme.stacks.execute_change_set("shop", "bigger")


def test_a_stale_change_set_is_refused(tenant: Callable[[str], AccountHandle], service_code: Code) -> None:
    acme = tenant("acme")
    acme.stacks.deploy("shop", SERVICE, code=service_code())
    acme.stacks.create_change_set(
        "shop", "one", SERVICE.replace("Default: 256", "Default: 512"), code=service_code()
    )
    acme.stacks.deploy("shop", SERVICE.replace("Default: 256", "Default: 1024"), code=service_code())
    with pytest.raises(Conflict, match="changed after the change set"):
        acme.stacks.execute_change_set("shop", "one")
    assert acme.functions.get("shop-Echo").config.memory_size == 1024


def test_update_changes_code_and_settings_and_keeps_unchanged_resources(
    tenant: Callable[[str], AccountHandle], service_code: Code
) -> None:
    acme = tenant("acme")
    acme.stacks.deploy("shop", SERVICE, code=service_code())
    before = acme.functions.get("shop-Greeter").config.revision
    new_code = service_code(
        "def handler(event, context):\n    return event\n\ndef greet(event, context):\n    return 'v2'\n"
    )
    deployed = acme.stacks.deploy("shop", SERVICE, parameters={"Greeting": "hi"}, code=new_code)
    assert deployed.stack is not None and deployed.stack.status is StackStatus.UPDATE_COMPLETE
    assert {c.logical_id for c in deployed.changes} == {"Echo", "Greeter"}
    assert acme.functions.get("shop-Greeter").config.revision != before
    assert acme.functions.invoke("shop-Greeter", b"{}").payload == b'"v2"'
    again = acme.stacks.deploy("shop", SERVICE, parameters={"Greeting": "hi"}, code=new_code)
    assert again.changes == ()


def test_a_failed_update_leaves_the_account_exactly_as_before(
    platform: Platform, mgmt: ManagementHandle, tenant: Callable[[str], AccountHandle], service_code: Code
) -> None:
    acme = tenant("acme")
    acme.stacks.deploy("shop", SERVICE, code=service_code())
    snapshot = _function_rows(platform, acme.account_id)
    # The new version adds a function whose name is already taken outside the stack.
    acme.functions.create("shop-Extra", service_code()["src/"], FunctionSettings(handler="app.handler"))
    taken = _function_rows(platform, acme.account_id)
    broken = SERVICE.replace(
        "Outputs:",
        "  Extra:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: app.handler\n"
        "      CodeUri: src/\nOutputs:",
    ).replace("Default: 256", "Default: 512")
    with pytest.raises(Conflict, match=r"Resources\.Extra: function 'shop-Extra' already exists"):
        acme.stacks.deploy("shop", broken, code=service_code())
    assert _function_rows(platform, acme.account_id) == taken
    assert {k: v for k, v in taken.items() if k != "shop-Extra"} == snapshot
    stack = acme.stacks.get("shop")
    assert stack.status is StackStatus.UPDATE_ROLLBACK_COMPLETE
    assert "shop-Extra" in stack.status_reason
    assert acme.stacks.events("shop").items[0].status == "UPDATE_FAILED"


def test_delete_removes_every_resource(tenant: Callable[[str], AccountHandle], service_code: Code) -> None:
    acme = tenant("acme")
    acme.stacks.deploy("shop", SERVICE, code=service_code())
    acme.stacks.delete("shop")
    with pytest.raises(NotFound):
        acme.stacks.get("shop")
    with pytest.raises(NotFound):
        acme.functions.get("shop-Echo")
    assert acme.stacks.list().items == []


def test_drift_names_changed_and_deleted_functions(
    tenant: Callable[[str], AccountHandle], service_code: Code
) -> None:
    acme = tenant("acme")
    acme.stacks.deploy("shop", SERVICE, code=service_code())
    assert acme.stacks.detect_drift("shop") == []
    acme.functions.update("shop-Echo", FunctionSettings(memory_size=1024, timeout=9))
    acme.functions.delete("shop-Greeter")
    drift = {d.logical_id: d for d in acme.stacks.detect_drift("shop")}
    assert drift["Echo"].status == "MODIFIED" and drift["Echo"].properties == ("memory_size", "timeout")
    assert drift["Greeter"].status == "DELETED"
    acme.stacks.deploy("shop", SERVICE, parameters={"Memory": "128"}, code=service_code())
    assert acme.stacks.detect_drift("shop") == []


def test_bad_templates_name_the_path(tenant: Callable[[str], AccountHandle], service_code: Code) -> None:
    acme = tenant("acme")
    with pytest.raises(TemplateError) as bad_timeout:
        acme.stacks.deploy("shop", SERVICE.replace("Timeout: 5", "Timeout: 5000"), code=service_code())
    assert "Timeout" in bad_timeout.value.path
    with pytest.raises(TemplateError, match=r"Resources\.Echo\.Properties\.CodeUri"):
        acme.stacks.deploy("shop", SERVICE, code={})
    with pytest.raises(ValidationError, match="no function uses"):
        acme.stacks.deploy("shop", SERVICE, code={**service_code(), "other/": service_code()["src/"]})
    with pytest.raises(ValidationError, match="stack_name"):
        acme.stacks.deploy("bad name!", SERVICE, code=service_code())
    assert acme.stacks.list().items == []


def test_guardrails_deny_a_template_resource_with_a_clear_message(
    mgmt: ManagementHandle, tenant: Callable[[str], AccountHandle], service_code: Code
) -> None:
    acme = tenant("acme")
    rail = mgmt.create_guardrail(
        "small-functions",
        {
            "Statement": [
                {
                    "Sid": "NoBigFunctions",
                    "Effect": "Deny",
                    "Action": "functions:Create",
                    "Condition": {"NumericGreaterThan": {"MemorySize": 512}},
                }
            ]
        },
    )
    mgmt.attach_guardrail(rail.policy_id, acme.account_id)
    with pytest.raises(GuardrailDenied) as denied:
        acme.stacks.deploy("shop", SERVICE, parameters={"Memory": "1024"}, code=service_code())
    assert denied.value.message.startswith("Resources.Echo: ")
    assert denied.value.details["sid"] == "NoBigFunctions"
    assert acme.stacks.list().items == []
    acme.stacks.deploy("shop", SERVICE, parameters={"Memory": "512"}, code=service_code())


def test_a_stack_cannot_take_over_another_stacks_function(
    tenant: Callable[[str], AccountHandle], service_code: Code
) -> None:
    acme = tenant("acme")
    named = SERVICE.replace(
        "      Handler: app.handler\n      MemorySize",
        "      FunctionName: shared\n      Handler: app.handler\n      MemorySize",
    )
    acme.stacks.deploy("one", named, code=service_code())
    with pytest.raises(Conflict, match="shared"):
        acme.stacks.deploy("two", named, code=service_code())


def _function_rows(platform: Platform, account: str) -> dict[str, dict[str, object]]:
    with platform.store.read() as conn:
        rows = conn.execute(sa.select(functions).where(functions.c.account_id == account)).mappings()
        return {r["name"]: dict(r) for r in rows}
