"""Per-account concurrency: throttling sync and async, reservations, noisy neighbours, idle exit."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

import pytest

from silo.errors import Throttled
from silo.functions import FunctionSettings, InvokeOutcome
from silo.platform import AccountHandle, ManagementHandle, Platform
from tests.helpers.functions import deploy, wait_until


def _hold(handle: AccountHandle, name: str, seconds: float, n: int) -> list[threading.Thread]:
    threads = [
        threading.Thread(target=handle.functions.invoke, args=(name, json.dumps({"s": seconds}).encode()))
        for _ in range(n)
    ]
    for t in threads:
        t.start()
    return threads


def test_sync_over_the_account_limit_is_throttled(
    platform: Platform, tenant: Callable[..., AccountHandle], code: Callable[[str], bytes]
) -> None:
    a = tenant("a", limit=2)
    deploy(a, "sleepy", code("sleepy"))
    held = _hold(a, "sleepy", 1.0, 2)
    wait_until(lambda: platform.functions.invoker.quotas.in_flight(a.account_id) == 2)
    with pytest.raises(Throttled) as throttled:
        a.functions.invoke("sleepy", b'{"s": 0}')
    assert throttled.value.code == "TooManyRequestsException" and throttled.value.http_status == 429
    for t in held:
        t.join()
    assert a.functions.metrics("sleepy")["Throttles"].sum == 1


def test_reserved_concurrency_is_carved_out(
    platform: Platform, tenant: Callable[..., AccountHandle], code: Callable[[str], bytes]
) -> None:
    a = tenant("a", limit=10)
    deploy(a, "reserved", code("sleepy"), reserved_concurrency=1)
    deploy(a, "other", code("sleepy"))
    held = _hold(a, "reserved", 1.0, 1)
    wait_until(lambda: platform.functions.invoker.quotas.in_flight(a.account_id) == 1)
    with pytest.raises(Throttled, match="reserved"):
        a.functions.invoke("reserved", b'{"s": 0}')
    assert isinstance(a.functions.invoke("other", b'{"s": 0}'), InvokeOutcome)
    for t in held:
        t.join()
    a.functions.update("reserved", FunctionSettings(reserved_concurrency=0))
    with pytest.raises(Throttled):
        a.functions.invoke("reserved", b'{"s": 0}')


def test_noisy_neighbour_does_not_slow_another_account(
    platform: Platform, tenant: Callable[..., AccountHandle], code: Callable[[str], bytes]
) -> None:
    noisy = tenant("noisy", limit=3)
    quiet = tenant("quiet", limit=3)
    deploy(noisy, "sleepy", code("sleepy"))
    deploy(quiet, "echo", code("echo"))
    quiet.functions.invoke("echo")  # warm
    held = _hold(noisy, "sleepy", 1.5, 3)
    wait_until(lambda: platform.functions.invoker.quotas.in_flight(noisy.account_id) == 3)
    with pytest.raises(Throttled):
        noisy.functions.invoke("sleepy", b'{"s": 0}')
    started = time.monotonic()
    outcome = quiet.functions.invoke("echo", b'{"ok": true}')
    assert isinstance(outcome, InvokeOutcome) and outcome.error is None
    assert time.monotonic() - started < 1.0  # served while the neighbour is saturated, not after
    for t in held:
        t.join()


def test_async_throttled_then_delivered(
    platform: Platform, tenant: Callable[..., AccountHandle], code: Callable[[str], bytes]
) -> None:
    a = tenant("a", limit=10)
    deploy(a, "one", code("sleepy"), reserved_concurrency=1)
    held = _hold(a, "one", 0.6, 1)
    wait_until(lambda: platform.functions.invoker.quotas.in_flight(a.account_id) == 1)
    a.functions.invoke("one", b'{"s": 0}', invocation_type="Event")
    for t in held:
        t.join()
    wait_until(lambda: platform.functions.queue.pending() == 0, timeout=15)
    metrics = a.functions.metrics("one")
    assert metrics["Throttles"].sum >= 1 and metrics["Invocations"].sum == 2
    assert a.dead_letters().items == []


def test_idle_accounts_keep_no_processes_or_counters(
    mgmt: ManagementHandle,
    tenant: Callable[..., AccountHandle],
    code: Callable[[str], bytes],
    platform: Platform,
) -> None:
    a = tenant("a")
    deploy(a, "echo", code("echo"))
    a.functions.invoke("echo")
    assert platform.runtime.environment_count(a.account_id) == 1
    assert platform.functions.invoker.quotas.tracked_keys() == 0
