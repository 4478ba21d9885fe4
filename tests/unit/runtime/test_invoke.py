"""Invocations end to end: cold and warm paths, the handler contract, errors, logs, environment."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from silo.runtime import RuntimeHost

from .conftest import MakeFunction, spec_for

ECHO = """
def handler(event, context):
    return event
"""


def test_cold_then_warm_reuses_the_environment(host: RuntimeHost, make_function: MakeFunction) -> None:
    spec = spec_for(make_function(ECHO))
    first = host.invoke(spec, "r-1", b'{"n": 1}')
    assert first.error is None
    assert json.loads(first.payload or b"") == {"n": 1}
    assert first.cold_start and first.init_ms is not None and first.init_ms > 0
    pids = set(host.environment_pids())

    second = host.invoke(spec, "r-2", b'{"n": 2}')
    assert json.loads(second.payload or b"") == {"n": 2}
    assert not second.cold_start and second.init_ms is None
    assert second.env_id == first.env_id
    assert set(host.environment_pids()) == pids
    assert second.duration_ms >= 0 and second.max_memory_used_mb > 0


def test_context_object(host: RuntimeHost, make_function: MakeFunction) -> None:
    code = make_function(
        """
        def handler(event, context):
            left = context.get_remaining_time_in_millis()
            return {
                "aws_request_id": context.aws_request_id,
                "request_id": context.request_id,
                "function_name": context.function_name,
                "function_version": context.function_version,
                "memory_limit_in_mb": context.memory_limit_in_mb,
                "arn": context.invoked_function_arn,
                "account_id": context.account_id,
                "log_group_name": context.log_group_name,
                "log_stream_name": context.log_stream_name,
                "remaining": left,
                "logger": context.logger.name,
            }
        """
    )
    spec = spec_for(code, account_id="222222222222", function_name="orders", version="7", timeout_s=2.0)
    result = host.invoke(spec, "req-ctx", b"{}")
    body = json.loads(result.payload or b"")
    assert body["aws_request_id"] == body["request_id"] == "req-ctx"
    assert body["function_name"] == "orders" and body["function_version"] == "7"
    assert body["memory_limit_in_mb"] == 128
    assert body["arn"] == "arn:silo:lambda:local:222222222222:function:orders:7"
    assert body["account_id"] == "222222222222"
    assert body["log_group_name"] == "/aws/lambda/orders"
    assert body["log_stream_name"].startswith("[7]")
    assert 1000 < body["remaining"] <= 2000


def test_deadline_caps_the_timeout(host: RuntimeHost, make_function: MakeFunction) -> None:
    import time

    code = make_function("def handler(event, context):\n    return context.get_remaining_time_in_millis()\n")
    result = host.invoke(spec_for(code, timeout_s=30.0), "r", b"{}", deadline=time.monotonic() + 1.0)
    assert 0 < json.loads(result.payload or b"") <= 1000


def test_logs_are_captured_per_invocation(host: RuntimeHost, make_function: MakeFunction) -> None:
    code = make_function(
        """
        import logging, os, sys
        print("init output")

        def handler(event, context):
            print("print", event["n"])
            sys.stderr.write("stderr line\\n")
            context.logger.info("info via context.logger")
            logging.getLogger("lib").warning("warning via logging")
            logging.getLogger("lib").info("root stays at WARNING")
            os.write(1, b"c-level write\\n")
            return None
        """
    )
    spec = spec_for(code, version="3")
    first = host.invoke(spec, "req-a", b'{"n": 1}')
    lines = first.logs.splitlines()
    assert lines[0] == "init output"
    assert lines[1] == "START RequestId: req-a Version: 3"
    assert "print 1" in lines and "stderr line" in lines and "c-level write" in lines
    assert any(
        line.startswith("[INFO]\t") and line.endswith("\treq-a\tinfo via context.logger") for line in lines
    )
    assert any(line.startswith("[WARNING]\t") and "warning via logging" in line for line in lines)
    assert "root stays at WARNING" not in first.logs
    assert lines[-2] == "END RequestId: req-a"
    assert lines[-1].startswith("REPORT RequestId: req-a\tDuration: ") and "Init Duration: " in lines[-1]
    assert "Max Memory Used: " in lines[-1] and "Memory Size: 128 MB" in lines[-1]

    second = host.invoke(spec, "req-b", b'{"n": 2}')
    assert "print 2" in second.logs and "print 1" not in second.logs and "init output" not in second.logs
    assert second.logs.startswith("START RequestId: req-b") and "Init Duration" not in second.logs


def test_environment_variables(
    new_host: Callable[..., RuntimeHost], make_function: MakeFunction, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SILO_DATABASE_URL", "postgresql://secret@db/silo")
    host = new_host()  # its zygote starts with the variable set in this process
    code = make_function(
        """
        import os, tempfile, time

        def handler(event, context):
            tmp = os.environ["TMPDIR"]
            with open(os.path.join(tmp, "scratch"), "w") as scratch:
                scratch.write("x")
            return {
                "env": dict(os.environ),
                "cwd": os.getcwd(),
                "tempdir": tempfile.gettempdir(),
                "tz": time.strftime("%Z"),
                "umask": os.umask(0o077),
            }
        """
    )
    spec = spec_for(code, environment={"GREETING": "hello", "TZ": "Europe/Paris"}, memory_mb=256)
    result = host.invoke(spec, "r", b"{}")
    assert result.error is None, result.error
    body = json.loads(result.payload or b"")
    env = body["env"]
    assert "SILO_DATABASE_URL" not in env
    assert env["GREETING"] == "hello"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "fn"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "1"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["SILO_ACCOUNT_ID"] == "111111111111"
    assert env["TZ"] == ":UTC" and body["tz"] == "UTC"
    assert env["LANG"] and env["PATH"]
    assert body["tempdir"] == env["TMPDIR"] and Path(env["TMPDIR"]).is_dir()
    assert Path(body["cwd"]) == spec.code_dir
    assert body["umask"] == 0o077
    assert not {key for key in env if key.startswith("SILO_")} - {"SILO_ACCOUNT_ID"}


def test_limits_are_applied(host: RuntimeHost, make_function: MakeFunction) -> None:
    code = make_function("import os\ndef handler(event, context):\n    return os.getpid()\n")
    pid = json.loads(host.invoke(spec_for(code, timeout_s=5.0), "r", b"{}").payload or b"")
    limits = {
        line[:26].strip(): line[26:].split() for line in Path(f"/proc/{pid}/limits").read_text().splitlines()
    }
    assert limits["Max open files"][:2] == ["1024", "1024"]
    assert limits["Max core file size"][:2] == ["0", "0"]
    assert limits["Max file size"][0] == str(512 << 20)
    # per uid: small when each environment has its own (root hosts), the host user's count otherwise
    assert limits["Max processes"][0] == ("64" if os.geteuid() == 0 else "4096")
    assert int(limits["Max cpu time"][0]) <= 8  # CPU used so far + timeout + 1, rounded up
    assert int(limits["Max address space"][0]) > 128 << 20


def test_zygote_does_not_import_the_platform(host: RuntimeHost, make_function: MakeFunction) -> None:
    code = make_function("import sys\ndef handler(event, context):\n    return sorted(sys.modules)\n")
    modules = set(json.loads(host.invoke(spec_for(code), "r", b"{}").payload or b""))
    assert "json" in modules and "silo.runtime.channel" in modules
    assert not modules & {"sqlalchemy", "fastapi", "pydantic", "importlib.metadata", "silo.store"}


def test_dropped_user_cannot_read_platform_files(
    host: RuntimeHost, make_function: MakeFunction, runtime_root: Path
) -> None:
    if os.geteuid() != 0:
        pytest.skip("privilege drop needs a root host")
    assert host.sandbox_level() in ("dedicated-user", "bubblewrap")
    home = runtime_root / "home"
    home.mkdir(mode=0o711)
    os.chmod(home, 0o711)
    secret = home / "silo.db"
    secret.write_text("secret")
    os.chmod(secret, 0o600)
    code = make_function(
        """
        import os

        def handler(event, context):
            try:
                with open(event["path"]) as f:
                    read = f.read()
            except PermissionError:
                read = "denied"
            except FileNotFoundError:  # bubblewrap: nothing of the host outside the sandbox is there
                read = "absent"
            try:
                os.setuid(0)
                regained = True
            except PermissionError:
                regained = False
            try:  # the other environments' TMPDIRs sit next to ours, under names nobody can list
                os.listdir(os.path.dirname(os.environ["TMPDIR"]))
                listed = True
            except PermissionError:
                listed = False
            return {"read": read, "uid": os.getuid(), "euid": os.geteuid(), "regained": regained,
                    "groups": os.getgroups(), "listed": listed}
        """
    )
    payload = json.dumps({"path": str(secret)}).encode()
    body = json.loads(host.invoke(spec_for(code), "r", payload).payload or b"")
    assert body == {
        "read": "absent" if host.sandbox_level() == "bubblewrap" else "denied",
        "uid": body["uid"],
        "euid": body["uid"],
        "regained": False,
        "groups": [],
        "listed": False,
    }
    assert body["uid"] != 0


def test_standard_library_is_importable(host: RuntimeHost, make_function: MakeFunction) -> None:
    code = make_function(
        """
        def handler(event, context):
            import csv, email.mime.text, sqlite3, urllib.request, xml.etree.ElementTree, encodings.idna
            return sqlite3.connect(":memory:").execute("select 41 + 1").fetchone()[0]
        """
    )
    result = host.invoke(spec_for(code), "r", b"{}")
    assert result.error is None, result.error
    assert result.payload == b"42"


def test_work_dir_must_be_reachable_by_the_function_user(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("only a root host drops privileges")
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    with pytest.raises(ValueError, match="must be reachable by the function user"):
        RuntimeHost(private / "work")


def test_large_payloads_round_trip(host: RuntimeHost, make_function: MakeFunction) -> None:
    code = make_function(
        "def handler(event, context):\n    print('x' * 300_000)\n    return {'echo': event['data'][::-1]}\n"
    )
    data = "".join(chr(ord("a") + index % 26) for index in range(3_000_000))
    spec = spec_for(code)
    for _ in range(2):  # cold (the payload waits in the socket during init), then warm
        result = host.invoke(spec, "r-big", json.dumps({"data": data}).encode())
        assert result.error is None
        assert json.loads(result.payload or b"") == {"echo": data[::-1]}
        assert "x" * 300_000 in result.logs
