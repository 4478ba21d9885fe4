"""Environments that misbehave: timeouts, memory exhaustion, crashes. None of them may hang a caller."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from silo.runtime import RuntimeHost

from .conftest import MakeFunction, alive, spec_for, wait_gone

PID_OR_SLEEP = """
import os, time

def handler(event, context):
    if event.get("sleep"):
        print("going to sleep")
        time.sleep(event["sleep"])
    return os.getpid()
"""


def test_timeout_kills_the_environment(host: RuntimeHost, make_function: MakeFunction) -> None:
    spec = spec_for(make_function(PID_OR_SLEEP), timeout_s=0.5)
    pid = json.loads(host.invoke(spec, "r-1", b"{}").payload or b"")
    started = time.monotonic()
    result = host.invoke(spec, "r-timeout", b'{"sleep": 30}')
    assert time.monotonic() - started < 2.0
    assert result.payload is None and result.error is not None
    assert result.error["errorType"] == "Sandbox.Timedout"
    assert result.error["errorMessage"].endswith("r-timeout Task timed out after 0.50 seconds")
    assert "going to sleep" in result.logs  # what it printed before the kill is kept
    assert "Task timed out after 0.50 seconds" in result.logs and "END RequestId: r-timeout" in result.logs
    assert not wait_gone([pid])
    after = host.invoke(spec, "r-2", b"{}")
    assert after.error is None and after.cold_start and json.loads(after.payload or b"") != pid


def test_timeout_during_a_busy_loop(host: RuntimeHost, make_function: MakeFunction) -> None:
    code = make_function("def handler(event, context):\n    while True:\n        pass\n")
    started = time.monotonic()
    result = host.invoke(spec_for(code, timeout_s=0.3), "r-spin", b"{}")  # a cold start, too
    assert time.monotonic() - started < 1.5
    assert result.error is not None and result.error["errorType"] == "Sandbox.Timedout"
    assert result.error["errorMessage"].endswith("Task timed out after 0.30 seconds")
    assert result.cold_start and result.duration_ms == pytest.approx(300, abs=1)


def test_memory_limit(host: RuntimeHost, make_function: MakeFunction) -> None:
    code = make_function(
        """
        def handler(event, context):
            if event["how"] == "once":
                block = bytearray(1 << 30)
                return len(block)
            chunks = []
            while True:
                chunks.append(bytearray(8 << 20))
        """
    )
    spec = spec_for(code, memory_mb=64, timeout_s=10.0)
    for how in ("once", "grow"):
        started = time.monotonic()
        result = host.invoke(spec, f"r-{how}", json.dumps({"how": how}).encode())
        assert time.monotonic() - started < 5.0
        assert result.error is not None
        assert result.error["errorType"] in {"Runtime.OutOfMemory", "Runtime.ExitError"}
        if result.error["errorType"] == "Runtime.OutOfMemory":
            assert "Max Memory Used" in result.error["errorMessage"]
    small = host.invoke(spec_for(make_function(PID_OR_SLEEP), memory_mb=64), "r-after", b"{}")
    assert small.error is None


def test_crashes_are_exit_errors(host: RuntimeHost, make_function: MakeFunction) -> None:
    code = make_function(
        """
        import os, signal

        def handler(event, context):
            print("about to crash")
            if event["how"] == "exit":
                os._exit(3)
            if event["how"] == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            if event["how"] == "segv":
                import ctypes
                ctypes.string_at(0)
            return os.getpid()
        """
    )
    spec = spec_for(code)
    expected = {
        "exit": "Runtime exited with error: exit status 3",
        "kill": "Runtime exited with error: signal: killed",
        "segv": "Runtime exited with error: signal: segmentation fault",
    }
    for how, text in expected.items():
        pid = json.loads(host.invoke(spec, "r-pid", b'{"how": "none"}').payload or b"")
        result = host.invoke(spec, f"r-{how}", json.dumps({"how": how}).encode())
        assert result.error is not None and result.error["errorType"] == "Runtime.ExitError"
        assert result.error["errorMessage"] == f"RequestId: r-{how} Error: {text}"
        assert "about to crash" in result.logs
        assert not alive(pid)
    assert host.invoke(spec, "r-fresh", b'{"how": "none"}').cold_start


def test_a_hanging_init_is_timed_out(host: RuntimeHost, make_function: MakeFunction) -> None:
    code = make_function(
        "import time\nprint('importing')\ntime.sleep(60)\ndef handler(e, c):\n    return 1\n"
    )
    started = time.monotonic()
    result = host.invoke(spec_for(code, account_id="888888888888"), "r-hang", b"{}", deadline=started + 0.5)
    assert time.monotonic() - started < 2.0
    assert result.error is not None and result.error["errorType"] == "Sandbox.Timedout"
    assert result.cold_start and "importing" in result.logs
    assert host.environment_count("888888888888") == 0


def test_a_crash_during_init(host: RuntimeHost, make_function: MakeFunction) -> None:
    code = make_function("import os\nprint('half way')\nos._exit(9)\n")
    result = host.invoke(spec_for(code), "r-init-crash", b"{}")
    assert result.error is not None and result.error["errorType"] == "Runtime.ExitError"
    assert result.error["errorMessage"].endswith("exit status 9")
    assert result.cold_start and "half way" in result.logs


def test_crashed_environments_are_reaped(host: RuntimeHost, make_function: MakeFunction) -> None:
    code = make_function("import os\ndef handler(event, context):\n    os._exit(1)\n")
    spec = spec_for(code)
    result = host.invoke(spec, "r", b"{}")
    assert result.error is not None
    pid_of = make_function("import os\ndef handler(event, context):\n    return os.getpid()\n")
    pid = json.loads(host.invoke(spec_for(pid_of), "r", b"{}").payload or b"")
    zygote = host.zygote_pid()
    assert zygote is not None
    # no zombie is left under the zygote: every child it has is alive and running
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        states = []
        for child in Path(f"/proc/{zygote}/task/{zygote}/children").read_text().split():
            with contextlib.suppress(FileNotFoundError):
                states.append(Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0])
        if "Z" not in states:
            break
        time.sleep(0.02)
    assert "Z" not in states and alive(pid)


def test_the_host_survives_its_zygote(
    new_host: Callable[..., RuntimeHost], make_function: MakeFunction
) -> None:
    host = new_host()
    code = make_function(PID_OR_SLEEP)
    spec = spec_for(code)
    pid = json.loads(host.invoke(spec, "r", b"{}").payload or b"")
    zygote = host.zygote_pid()
    assert zygote is not None
    os.kill(zygote, signal.SIGKILL)
    assert not wait_gone([zygote, pid])  # environments die with their zygote
    again = host.invoke(spec, "r-again", b"{}")
    assert again.error is None and again.cold_start
    assert host.zygote_pid() not in (None, zygote)
