"""Functions made in account A are invisible and untouchable from account B, also from handler code."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from silo.errors import NotFound
from silo.functions import FunctionSettings, InvokeOutcome
from silo.platform import AccountHandle, Platform
from tests.helpers.functions import deploy


def _payload(value: object) -> object:
    assert isinstance(value, InvokeOutcome), value
    assert value.payload is not None, value.error
    return json.loads(value.payload)


def test_b_cannot_see_or_touch_a_functions(
    tenant: Callable[..., AccountHandle], code: Callable[[str], bytes]
) -> None:
    a, b = tenant("a"), tenant("b")
    deploy(a, "secret", code("echo"))
    assert b.functions.list().items == []
    for attempt in (
        lambda: b.functions.get("secret"),
        lambda: b.functions.invoke("secret"),
        lambda: b.functions.update("secret", FunctionSettings(memory_size=256)),
        lambda: b.functions.delete("secret"),
        lambda: b.functions.publish_version("secret"),
        lambda: b.functions.put_alias("secret", "x", "$LATEST"),
    ):
        with pytest.raises(NotFound):
            attempt()
    assert a.functions.get("secret").config.memory_size == 128
    assert b.functions.logs("secret") == []


def test_same_name_in_two_accounts_are_different_functions(
    tenant: Callable[..., AccountHandle], code: Callable[[str], bytes]
) -> None:
    a, b = tenant("a"), tenant("b")
    deploy(a, "f", code("def handler(e, c):\n    return ['a', c.account_id]\n"))
    deploy(b, "f", code("def handler(e, c):\n    return ['b', c.account_id]\n"))
    assert _payload(a.functions.invoke("f")) == ["a", a.account_id]
    assert _payload(b.functions.invoke("f")) == ["b", b.account_id]


SDK_CALLER = """
from silo.sdk import Client, FunctionError, SiloClientError

def handler(event, context):
    try:
        return {"ok": Client().invoke(event["target"], {"from": context.function_name})}
    except SiloClientError as exc:
        return {"refused": exc.code}
    except FunctionError as exc:
        return {"failed": exc.error_type}
"""


def test_sdk_in_a_handler_reaches_only_its_own_account(
    tenant: Callable[..., AccountHandle], code: Callable[[str], bytes]
) -> None:
    a, b = tenant("a"), tenant("b")
    deploy(a, "caller", code(SDK_CALLER))
    deploy(a, "echo", code("echo"))
    deploy(b, "only-in-b", code("echo"))
    assert _payload(a.functions.invoke("caller", b'{"target": "echo"}')) == {"ok": {"from": "caller"}}
    assert _payload(a.functions.invoke("caller", b'{"target": "only-in-b"}')) == {"refused": "NotFound"}


def test_a_handler_cannot_read_the_platform_database(
    platform: Platform, tenant: Callable[..., AccountHandle], code: Callable[[str], bytes]
) -> None:
    if platform.runtime.sandbox_level() == "rlimits-only":
        pytest.skip("not running as root: no privilege drop on this machine")
    db = Path(platform.settings.home) / "silo.db"
    root_key = platform.settings.root_key_path
    reader = (
        "def handler(event, context):\n"
        "    out = {}\n"
        "    for path in event['paths']:\n"
        "        try:\n"
        "            open(path, 'rb').read(1)\n"
        "            out[path] = 'read'\n"
        "        except OSError as exc:\n"
        "            out[path] = type(exc).__name__\n"
        "    return out\n"
    )
    a = tenant("a")
    deploy(a, "reader", code(reader))
    paths = [str(root_key)] + ([str(db)] if db.exists() else [])
    result = _payload(a.functions.invoke("reader", json.dumps({"paths": paths}).encode()))
    assert isinstance(result, dict)
    hidden = "FileNotFoundError" if platform.runtime.sandbox_level() == "bubblewrap" else "PermissionError"
    assert all(v == hidden for v in result.values()), result
