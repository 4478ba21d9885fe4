"""Synchronous invocation, errors, payload checks, logs and metrics."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from silo.errors import NotFound, PayloadTooLarge, Throttled, ValidationError
from silo.functions import DryRunOk, InvokeOutcome
from silo.platform import AccountHandle, Platform
from silo.runtime._host import READY
from tests.helpers.functions import deploy, wait_until


def _outcome(value: object) -> InvokeOutcome:
    assert isinstance(value, InvokeOutcome), value
    return value


def test_sync_returns_the_result_cold_then_warm(
    tenant: Callable[..., AccountHandle], code: Callable[[str], bytes]
) -> None:
    a = tenant("a")
    deploy(a, "echo", code("echo"))
    first = _outcome(a.functions.invoke("echo", b'{"x": 1}'))
    second = _outcome(a.functions.invoke("echo", b'{"x": 2}'))
    assert json.loads(first.payload or b"") == {"x": 1}
    assert json.loads(second.payload or b"") == {"x": 2}
    assert (first.cold_start, second.cold_start) == (True, False)


def test_a_missing_function_leaves_no_process_behind(
    platform: Platform, tenant: Callable[..., AccountHandle], code: Callable[[str], bytes]
) -> None:
    """A first invocation wakes a spare while the function is looked up; when there is no such
    function (or it is throttled) that spare is ended and its user id handed back."""
    a = tenant("a", limit=1)
    deploy(a, "echo", code("echo"))
    _outcome(a.functions.invoke("echo"))
    for _ in range(3):
        with pytest.raises(NotFound):
            a.functions.invoke("nope")
    deploy(a, "other", code("echo"), reserved_concurrency=0)
    with pytest.raises(Throttled):
        a.functions.invoke("other")
    assert platform.runtime.environment_count() == 1
    runtime = platform.runtime
    wait_until(lambda: runtime.ready_claims() == READY)  # the claims made ahead, replaced
    wait_until(lambda: len(runtime.uids_in_use()) <= 1 + READY)  # the released ones' ids are free
    assert _outcome(a.functions.invoke("echo")).cold_start is False


def test_handler_error_is_lambda_shaped(
    tenant: Callable[..., AccountHandle], code: Callable[[str], bytes]
) -> None:
    a = tenant("a")
    deploy(a, "boom", code("boom"))
    outcome = _outcome(a.functions.invoke("boom", b'{"n": 7}'))
    assert outcome.function_error == "Unhandled"
    assert outcome.error is not None
    assert outcome.error["errorType"] == "ValueError"
    assert outcome.error["errorMessage"] == "boom: 7"
    assert any("app.py" in line for line in outcome.error["stackTrace"])


@pytest.mark.parametrize(
    ("source", "handler", "error_type"),
    [
        ("def handler(e, c):\n    return 1\n", "missing.handler", "Runtime.ImportModuleError"),
        ("def handler(e, c) return 1\n", "app.handler", "Runtime.UserCodeSyntaxError"),
        ("def other(e, c):\n    return 1\n", "app.handler", "Runtime.HandlerNotFound"),
        ("def handler(e, c):\n    return object()\n", "app.handler", "Runtime.MarshalError"),
    ],
)
def test_bad_code_reports_a_clear_error(
    tenant: Callable[..., AccountHandle],
    code: Callable[[str], bytes],
    source: str,
    handler: str,
    error_type: str,
) -> None:
    from silo.functions import FunctionSettings

    a = tenant("a")
    a.functions.create("f", code(source), FunctionSettings(handler=handler))
    outcome = _outcome(a.functions.invoke("f"))
    assert outcome.error is not None and outcome.error["errorType"] == error_type, outcome.error
    assert outcome.error["errorMessage"]


def test_payload_must_be_json_and_not_too_big(
    tenant: Callable[..., AccountHandle], code: Callable[[str], bytes]
) -> None:
    a = tenant("a")
    deploy(a, "echo", code("echo"))
    with pytest.raises(ValidationError, match="JSON"):
        a.functions.invoke("echo", b"{not json")
    with pytest.raises(PayloadTooLarge):
        a.functions.invoke("echo", b'"' + b"x" * (6 * 1024 * 1024) + b'"')
    with pytest.raises(PayloadTooLarge):
        a.functions.invoke("echo", b'"' + b"x" * (300 * 1024) + b'"', invocation_type="Event")
    with pytest.raises(ValidationError, match="invocation_type"):
        a.functions.invoke("echo", b"{}", invocation_type="Sometimes")


def test_dry_run_validates_only(tenant: Callable[..., AccountHandle], code: Callable[[str], bytes]) -> None:
    a = tenant("a")
    deploy(a, "sleepy", code("sleepy"))
    assert isinstance(a.functions.invoke("sleepy", invocation_type="DryRun"), DryRunOk)
    assert a.functions.metrics("sleepy").get("Invocations") is None


def test_timeout_reports_task_timed_out(
    tenant: Callable[..., AccountHandle], code: Callable[[str], bytes]
) -> None:
    a = tenant("a")
    deploy(a, "sleepy", code("sleepy"), timeout=1)
    outcome = _outcome(a.functions.invoke("sleepy", b'{"s": 5}'))
    assert outcome.error is not None
    assert "Task timed out after 1.00 seconds" in outcome.error["errorMessage"]
    assert _outcome(a.functions.invoke("sleepy", b'{"s": 0}')).error is None


def test_logs_and_metrics_per_function(
    tenant: Callable[..., AccountHandle], code: Callable[[str], bytes]
) -> None:
    a = tenant("a")
    deploy(a, "printer", code("printer"))
    deploy(a, "boom", code("boom"))
    request_id = json.loads(_outcome(a.functions.invoke("printer", b'{"n": 42}')).payload or b"")
    a.functions.invoke("boom")
    events = a.functions.logs("printer")
    text = "\n".join(e.message for e in events)
    assert "hello from printer" in text and "logged 42" in text
    assert any(e.request_id == request_id for e in events)
    assert a.functions.logs("boom") != [] and a.functions.logs("echo") == []
    metrics = a.functions.metrics("printer")
    assert metrics["Invocations"].sum == 1 and "Errors" not in metrics
    assert metrics["ColdStarts"].sum == 1 and metrics["Duration"].count == 1
    assert a.functions.metrics("boom")["Errors"].sum == 1
