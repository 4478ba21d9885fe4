"""Pooling, isolation between keys, scale to zero, capacity, shutdown and the death of the host."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from silo.runtime import InvocationResult, RuntimeCapacityError, RuntimeHost, RuntimeStartError
from silo.runtime._bubblewrap import bwrap_path

from .conftest import MakeFunction, alive, descendants, spec_for, wait_gone

SLEEPY = """
import os, time

def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return os.getpid()
"""


def _in_threads(count: int, call: Callable[[int], InvocationResult]) -> list[InvocationResult]:
    results: list[InvocationResult | None] = [None] * count

    def run(index: int) -> None:
        results[index] = call(index)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(result is not None for result in results)
    return [result for result in results if result is not None]


def test_concurrent_invocations_get_their_own_environments(
    new_host: Callable[..., RuntimeHost], make_function: MakeFunction
) -> None:
    host = new_host()
    spec = spec_for(make_function(SLEEPY), account_id="444444444444")
    results = _in_threads(4, lambda index: host.invoke(spec, f"r-{index}", b'{"sleep": 0.4}'))
    assert all(result.error is None for result in results)
    assert len({result.env_id for result in results}) == 4
    assert len({json.loads(result.payload or b"") for result in results}) == 4
    assert host.environment_count("444444444444") == 4 == len(host.environment_pids())
    warm = host.invoke(spec, "r-warm", b"{}")
    assert not warm.cold_start and warm.env_id in {result.env_id for result in results}


def test_accounts_never_share_an_environment(host: RuntimeHost, make_function: MakeFunction) -> None:
    code = make_function(SLEEPY)
    first = host.invoke(spec_for(code, account_id="555555555555", revision="same"), "r-a", b"{}")
    second = host.invoke(spec_for(code, account_id="666666666666", revision="same"), "r-b", b"{}")
    assert second.cold_start and second.env_id != first.env_id
    assert json.loads(first.payload or b"") != json.loads(second.payload or b"")
    assert host.environment_count("555555555555") == 1 == host.environment_count("666666666666")


def test_idle_environments_exit(new_host: Callable[..., RuntimeHost], make_function: MakeFunction) -> None:
    host = new_host(idle_timeout_s=0.5)
    spec = spec_for(make_function(SLEEPY))
    pid = json.loads(host.invoke(spec, "r", b"{}").payload or b"")
    assert host.environment_count() == 1
    time.sleep(1.5)
    assert host.environment_count() == 0 and host.environment_pids() == []
    assert not alive(pid)
    assert host.invoke(spec, "r-again", b"{}").cold_start


def test_capacity_evicts_the_least_recently_used_idle_environment(
    new_host: Callable[..., RuntimeHost], make_function: MakeFunction
) -> None:
    host = new_host(max_environments=2)
    code = make_function(SLEEPY)
    first, second, third = (spec_for(code, revision=name) for name in ("a", "b", "c"))
    pid_a = json.loads(host.invoke(first, "r", b"{}").payload or b"")
    host.invoke(second, "r", b"{}")
    host.invoke(third, "r", b"{}")
    assert host.environment_count() == 2
    assert not wait_gone([pid_a])
    assert not host.invoke(second, "r", b"{}").cold_start  # b was used more recently than a

    busy = threading.Thread(target=host.invoke, args=(first, "r-busy", b'{"sleep": 0.8}'))
    busy.start()
    time.sleep(0.2)  # a (evicting c) and b are busy now
    thread_b = threading.Thread(target=host.invoke, args=(second, "r-busy-b", b'{"sleep": 0.8}'))
    thread_b.start()
    time.sleep(0.2)
    with pytest.raises(RuntimeCapacityError) as raised:
        host.invoke(spec_for(code, revision="d"), "r-d", b"{}")
    assert raised.value.http_status == 429 and raised.value.code == "TooManyRequestsException"
    busy.join()
    thread_b.join()


def test_close_leaves_no_processes(new_host: Callable[..., RuntimeHost], make_function: MakeFunction) -> None:
    host = new_host()
    code = make_function(SLEEPY)
    for revision in ("a", "b"):
        host.invoke(spec_for(code, revision=revision), "r", b"{}")
    zygote = host.zygote_pid()
    assert zygote is not None
    family = [zygote, *descendants(zygote)]
    assert set(host.environment_pids()) <= set(family) and len(family) >= 3
    host.close()
    assert not wait_gone(family)
    assert host.environment_count() == 0
    with pytest.raises(RuntimeStartError):
        host.invoke(spec_for(code), "r", b"{}")


def test_zygote_and_environments_die_with_the_host(make_function: MakeFunction, runtime_root: Path) -> None:
    code = make_function(SLEEPY)
    script = textwrap.dedent(
        f"""
        import json, sys
        from pathlib import Path
        from silo.runtime import EnvironmentSpec, RuntimeHost
        root = Path({str(runtime_root)!r})
        host = RuntimeHost(root / "dying-host", code_roots=[root / "code"])
        spec = EnvironmentSpec("777777777777", "fn", "1", "r", Path({str(code)!r}), "app.handler")
        host.invoke(spec, "r", b"{{}}")
        print(json.dumps([host.zygote_pid(), *host.environment_pids()]), flush=True)
        sys.stdin.read()
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        pids = json.loads(child.stdout.readline())
        family = [*pids, *descendants(pids[0])]
        assert all(alive(pid) for pid in family)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        assert not wait_gone(family, timeout=2.0)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        for stream in (child.stdin, child.stdout):
            if stream is not None:
                stream.close()


def test_sandbox_level(new_host: Callable[..., RuntimeHost], make_function: MakeFunction) -> None:
    bwrap = bwrap_path() is not None
    expected = ("bubblewrap" if bwrap else "dedicated-user") if os.geteuid() == 0 else "rlimits-only"
    assert new_host().sandbox_level() == expected
    plain = new_host(sandbox="rlimits-only")
    assert plain.sandbox_level() == "rlimits-only"
    code = make_function("import os\ndef handler(event, context):\n    return os.getuid()\n")
    assert plain.invoke(spec_for(code), "r", b"{}").payload == str(os.getuid()).encode()
    with pytest.raises(ValueError, match="sandbox"):
        new_host(sandbox="chroot")
    if expected == "bubblewrap":
        assert new_host(sandbox="dedicated-user").sandbox_level() == "dedicated-user"
    else:
        with pytest.raises(ValueError, match="bubblewrap"):
            new_host(sandbox="bubblewrap")


def test_environment_files_are_removed(
    new_host: Callable[..., RuntimeHost], make_function: MakeFunction
) -> None:
    host = new_host(idle_timeout_s=0.3)
    code = make_function(
        """
        import os

        def handler(event, context):
            tmp = os.environ["TMPDIR"]
            os.makedirs(os.path.join(tmp, "a", "b"))
            for index in range(50):
                with open(os.path.join(tmp, "a", "b", f"f{index}"), "w") as out:
                    out.write("x")
            print("some output")
            return tmp
        """
    )
    tmp = Path(json.loads(host.invoke(spec_for(code), "r", b"{}").payload or b""))
    log = tmp.parent / f"{tmp.name}.log"
    assert tmp.is_dir() and log.is_file()
    deadline = time.monotonic() + 3.0
    while (tmp.exists() or log.exists()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not tmp.exists() and not log.exists()
