"""Create, update, version, alias and delete functions; content-addressed code."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from silo.errors import Conflict, GuardrailDenied, NotFound, ValidationError
from silo.functions import LATEST, FunctionSettings, InvokeOutcome
from silo.platform import AccountHandle, ManagementHandle, Platform
from tests.helpers.functions import deploy


def _result(outcome: object) -> object:
    assert isinstance(outcome, InvokeOutcome), outcome
    assert outcome.error is None, outcome.error
    assert outcome.payload is not None
    return json.loads(outcome.payload)


def test_create_get_list_update_delete(
    tenant: Callable[..., AccountHandle], code: Callable[[str], bytes]
) -> None:
    a = tenant("a")
    deploy(
        a, "echo", code("echo"), memory_size=256, timeout=5, environment={"STAGE": "test"}, description="d"
    )
    got = a.functions.get("echo")
    assert (got.config.memory_size, got.config.timeout, got.config.environment) == (256, 5, {"STAGE": "test"})
    assert [f.name for f in a.functions.list().items] == ["echo"]
    with pytest.raises(Conflict):
        deploy(a, "echo", code("echo"))
    updated = a.functions.update("echo", FunctionSettings(memory_size=512))
    assert updated.config.memory_size == 512 and updated.config.revision != got.config.revision
    a.functions.delete("echo")
    with pytest.raises(NotFound):
        a.functions.get("echo")


def test_identical_code_is_stored_once(
    platform: Platform, tenant: Callable[..., AccountHandle], code: Callable[[str], bytes]
) -> None:
    zipped = code("echo")
    for name in ("a", "b", "c"):
        deploy(tenant(name), "f", zipped)
    assert platform.functions.artifacts.count() == 1


def test_versions_and_aliases_pin_code(
    tenant: Callable[..., AccountHandle], code: Callable[[str], bytes]
) -> None:
    a = tenant("a")
    deploy(a, "f", code("def handler(e, c):\n    return 'one'\n"))
    v1 = a.functions.publish_version("f")
    assert v1.version == "1"
    assert a.functions.publish_version("f").version == "1"  # nothing changed: same version
    a.functions.update("f", FunctionSettings(), code=code("def handler(e, c):\n    return 'two'\n"))
    v2 = a.functions.publish_version("f")
    assert v2.version == "2"
    a.functions.put_alias("f", "live", "1")
    assert _result(a.functions.invoke("f", qualifier="live")) == "one"
    assert _result(a.functions.invoke("f", qualifier="2")) == "two"
    assert _result(a.functions.invoke("f")) == "two"
    a.functions.put_alias("f", "live", "2", create=False)
    assert _result(a.functions.invoke("f", qualifier="live")) == "two"
    assert [v.version for v in a.functions.list_versions("f")] == [LATEST, "1", "2"]
    with pytest.raises(NotFound):
        a.functions.invoke("f", qualifier="9")
    with pytest.raises(NotFound):
        a.functions.put_alias("f", "beta", "7")


@pytest.mark.parametrize(
    ("fn_settings", "field"),
    [
        (FunctionSettings(handler="nodot"), "handler"),
        (FunctionSettings(handler="app.handler", memory_size=64), "memory_size"),
        (FunctionSettings(handler="app.handler", timeout=901), "timeout"),
        (FunctionSettings(handler="app.handler", runtime="nodejs20.x"), "runtime"),
        (FunctionSettings(handler="app.handler", environment={"AWS_REGION": "x"}), "environment"),
        (FunctionSettings(handler="app.handler", environment={"OK": 1}), "environment"),  # type: ignore[dict-item]
        (FunctionSettings(handler="app.handler", reserved_concurrency=95), "reserved_concurrency"),
        (FunctionSettings(), "handler"),
    ],
)
def test_bad_settings_name_the_field(
    tenant: Callable[..., AccountHandle],
    code: Callable[[str], bytes],
    fn_settings: FunctionSettings,
    field: str,
) -> None:
    with pytest.raises(ValidationError, match=field):
        tenant("a").functions.create("f", code("echo"), fn_settings)


def test_bad_code_and_names(tenant: Callable[..., AccountHandle], code: Callable[[str], bytes]) -> None:
    a = tenant("a")
    with pytest.raises(ValidationError, match="not a zip"):
        a.functions.create("f", b"not a zip", FunctionSettings(handler="app.handler"))
    with pytest.raises(ValidationError, match="name"):
        a.functions.create("bad name!", code("echo"), FunctionSettings(handler="app.handler"))
    assert a.functions.list().items == []


def test_guardrail_denies_big_functions(
    mgmt: ManagementHandle, tenant: Callable[..., AccountHandle], code: Callable[[str], bytes]
) -> None:
    a = tenant("a")
    doc = {
        "Statement": [
            {
                "Sid": "NoBigFunctions",
                "Effect": "Deny",
                "Action": ["functions:Create", "functions:Update"],
                "Condition": {"NumericGreaterThan": {"MemorySize": 1024}},
            }
        ]
    }
    mgmt.attach_guardrail(mgmt.create_guardrail("max-memory", doc).policy_id, mgmt.ou_tree()[0].ou_id)
    with pytest.raises(GuardrailDenied, match="NoBigFunctions"):
        deploy(a, "big", code("echo"), memory_size=2048)
    deploy(a, "small", code("echo"), memory_size=1024)
    with pytest.raises(GuardrailDenied):
        a.functions.update("small", FunctionSettings(memory_size=4096))


def test_on_failure_must_name_a_function_of_the_same_account(
    tenant: Callable[..., AccountHandle], code: Callable[[str], bytes]
) -> None:
    from silo.functions import AsyncConfig

    a, b = tenant("a"), tenant("b")
    deploy(b, "sink", code("echo"))
    with pytest.raises(ValidationError, match="on_failure"):
        deploy(a, "f", code("echo"), async_config=AsyncConfig(on_failure={"function": "sink"}))
    deploy(a, "sink", code("echo"))
    deploy(a, "f", code("echo"), async_config=AsyncConfig(on_failure={"function": "sink"}))


def test_function_tags_are_checked(
    tenant: Callable[..., AccountHandle], code: Callable[[str], bytes]
) -> None:
    with pytest.raises(ValidationError, match="tag"):
        deploy(tenant("a"), "f", code("echo"), tags={"": "x"})
