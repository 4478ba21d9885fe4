"""The platform channel: calls from a handler served by the invoking thread's ``on_call``."""

from __future__ import annotations

import json
from typing import Any

from silo.errors import NotFound
from silo.runtime import RuntimeHost, channel

from .conftest import MakeFunction, spec_for

CALLER = """
from silo.runtime import channel

AT_IMPORT = channel.available()

def handler(event, context):
    try:
        return {"ok": channel.call(event["op"], value=event.get("value")), "at_import": AT_IMPORT,
                "during": channel.available()}
    except channel.ChannelError as exc:
        return {"code": exc.code, "message": exc.message}
"""


def test_round_trip(host: RuntimeHost, make_function: MakeFunction) -> None:
    seen: list[dict[str, Any]] = []

    def on_call(message: dict[str, Any]) -> dict[str, Any]:
        seen.append(message)
        return {"echo": message["args"]["value"], "op": message["op"]}

    spec = spec_for(make_function(CALLER))
    for value in (1, "two"):
        payload = json.dumps({"op": "tables.get", "value": value}).encode()
        body = json.loads(host.invoke(spec, "r", payload, on_call=on_call).payload or b"")
        assert body == {"ok": {"echo": value, "op": "tables.get"}, "at_import": False, "during": True}
    assert seen[0] == {"type": "call", "op": "tables.get", "args": {"value": 1}}


def test_errors_and_no_channel(host: RuntimeHost, make_function: MakeFunction) -> None:
    spec = spec_for(make_function(CALLER))

    def refuse(message: dict[str, Any]) -> dict[str, Any]:
        raise NotFound(f"no table {message['args']['value']}")

    def crash(message: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("internal detail")

    payload = b'{"op": "tables.get", "value": "t1"}'
    body = json.loads(host.invoke(spec, "r", payload, on_call=refuse).payload or b"")
    assert body == {"code": "NotFound", "message": "no table t1"}
    body = json.loads(host.invoke(spec, "r", payload, on_call=crash).payload or b"")
    assert body["code"] == "InternalError" and "internal detail" not in body["message"]
    body = json.loads(host.invoke(spec, "r", payload).payload or b"")
    assert body["code"] == "NotAvailable"


def test_outside_an_environment() -> None:
    assert not channel.available()
    try:
        channel.call("anything")
    except channel.ChannelError as exc:
        assert exc.code == "NotAvailable"
    else:
        raise AssertionError("call outside an environment must fail")
