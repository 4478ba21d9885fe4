"""Claims: a spare woken before the function is known (the platform looks it up meanwhile)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable

from silo.runtime import RuntimeHost

from .conftest import MakeFunction, alive, spec_for, wait_gone

WHO = """
import os

def handler(event, context):
    return {"pid": os.getpid(), "uid": os.getuid(), "event": event, "name": context.function_name}
"""


def _wait(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_a_claim_becomes_the_environment(
    new_host: Callable[..., RuntimeHost], make_function: MakeFunction
) -> None:
    host = new_host(idle_timeout_s=30.0, ready=0)  # claims made here only, none ahead
    claim = host.claim()
    assert claim is not None
    spec = spec_for(make_function(WHO), function_name="claimed")
    result = host.invoke(spec, "r1", b'{"n": 1}', claim=claim)
    assert result.cold_start and result.error is None, result.error
    body = json.loads(result.payload or b"")
    assert body["event"] == {"n": 1} and body["name"] == "claimed"
    assert host.environment_pids() == [body["pid"]]
    again = host.invoke(spec, "r2", b"{}")
    assert not again.cold_start and json.loads(again.payload or b"")["pid"] == body["pid"]
    assert result.init_ms is not None and "Init Duration" in result.logs


def test_a_released_claim_leaves_nothing(
    new_host: Callable[..., RuntimeHost], make_function: MakeFunction
) -> None:
    host = new_host(idle_timeout_s=30.0, ready=0)  # claims made here only, none ahead
    host.invoke(spec_for(make_function(WHO)), "warm", b"{}")  # the zygote and its spares are up
    zygote = host.zygote_pid()
    assert zygote is not None
    before = set(_children(zygote))
    claim = host.claim()
    assert claim is not None
    assert _wait(claim.reader.pending)  # it took its user id and said HELLO
    host.release(claim)
    assert claim.pid is not None and wait_gone([claim.pid]) == []
    assert host.environment_count() == 1
    if os.geteuid() == 0:  # its user id is free again once its process is gone
        assert _wait(lambda: len(host.uids_in_use()) == 1)
    assert _wait(lambda: len(set(_children(zygote)) - before - {claim.pid}) <= 2)  # refilled spares only


def test_a_claim_gives_way_to_an_idle_environment(
    new_host: Callable[..., RuntimeHost], make_function: MakeFunction
) -> None:
    host = new_host(idle_timeout_s=30.0, ready=0)  # claims made here only, none ahead
    spec = spec_for(make_function(WHO))
    warm = json.loads(host.invoke(spec, "r1", b"{}").payload or b"")["pid"]
    assert host.has_idle(spec.account_id, spec.function_name, spec.version)
    claim = host.claim()
    assert claim is not None
    result = host.invoke(spec, "r2", b"{}", claim=claim)
    assert not result.cold_start and json.loads(result.payload or b"")["pid"] == warm
    assert claim.pid is None or not alive(claim.pid) or wait_gone([claim.pid]) == []
    assert host.environment_count() == 1


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children", "rb") as children:
        return [int(part) for part in children.read().split()]
