"""The ``bubblewrap`` level: what a function sees of the machine (nothing but what it needs), and the
sandbox command itself."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from silo.runtime import RuntimeHost
from silo.runtime._bubblewrap import HOSTNAME, bwrap_path, command
from tests.unit.runtime.conftest import MakeFunction, spec_for

needs_bwrap = pytest.mark.skipif(
    os.geteuid() != 0 or bwrap_path() is None, reason="bubblewrap needs a root host with bwrap installed"
)

LOOK_AROUND = """
import json, os, socket

def handler(event, context):
    seen = {}
    for path in event["paths"]:
        try:
            with open(path, "rb") as f:
                f.read(1)
            seen[path] = "read"
        except OSError as exc:
            seen[path] = type(exc).__name__
    with open(os.path.join(event["shared"], "written"), "w") as f:
        f.write("from the sandbox")
    with open(os.path.join(os.environ["TMPDIR"], "scratch"), "w") as f:
        f.write("ok")
    return {"seen": seen, "root": sorted(os.listdir("/")), "host": socket.gethostname(),
            "ipc": os.readlink("/proc/self/ns/ipc"), "code": sorted(os.listdir("."))}
"""


@needs_bwrap
def test_a_function_sees_only_what_it_needs(
    new_host: Callable[..., RuntimeHost], make_function: MakeFunction, runtime_root: Path
) -> None:
    shared = Path(os.path.realpath("/tmp")) / f"silo-shared-{os.getpid()}"
    shared.mkdir(mode=0o777, exist_ok=True)
    shared.chmod(0o777)
    secret = runtime_root / "silo.db"  # next to the host's directories, as $SILO_HOME would be
    secret.write_text("secret")
    secret.chmod(0o644)  # readable by anyone who could reach it: only the sandbox keeps it out
    host = new_host(shared_dirs=[shared])
    assert host.sandbox_level() == "bubblewrap"
    code = make_function(LOOK_AROUND)
    paths = [
        str(secret),
        "/etc/shadow",
        "/root/.bashrc",
        str(Path(__file__)),
        "/etc/passwd",
        str(code / "app.py"),
    ]
    result = host.invoke(spec_for(code), "r", json.dumps({"paths": paths, "shared": str(shared)}).encode())
    try:
        assert result.error is None, result.error
        body = json.loads(result.payload or b"")
        assert body["seen"] == {
            str(secret): "FileNotFoundError",
            "/etc/shadow": "FileNotFoundError",
            "/root/.bashrc": "FileNotFoundError",
            str(Path(__file__)): "FileNotFoundError",  # the platform's tests, and its source tree
            "/etc/passwd": "read",
            str(code / "app.py"): "read",
        }
        assert body["host"] == HOSTNAME != os.uname().nodename
        assert body["ipc"] != os.readlink("/proc/self/ns/ipc")
        assert "app.py" in body["code"]
        assert (shared / "written").read_text() == "from the sandbox"
    finally:
        for entry in shared.iterdir():
            entry.unlink()
        shared.rmdir()


@needs_bwrap
def test_the_host_still_watches_its_environments_by_pid(
    new_host: Callable[..., RuntimeHost], make_function: MakeFunction
) -> None:
    host = new_host()
    code = make_function("import os\ndef handler(event, context):\n    return os.getpid()\n")
    pid = json.loads(host.invoke(spec_for(code), "r", b"{}").payload or b"")
    assert host.environment_pids() == [pid]  # the same pid namespace
    zygote = host.zygote_pid()
    assert zygote is not None
    assert b"python" in Path(f"/proc/{zygote}/cmdline").read_bytes().split(b"\0")[0]  # not bwrap
    with open(f"/proc/{zygote}/task/{zygote}/children", "rb") as children:
        assert pid in {int(p) for p in children.read().split()}


def test_the_command_shows_each_directory_at_its_own_path(tmp_path: Path) -> None:
    code_root = tmp_path / "deep" / "code"
    work = tmp_path / "work"
    code_root.mkdir(parents=True)
    work.mkdir()
    argv = command(
        "/usr/bin/bwrap", writable=[work], readable=[code_root, code_root / "inner"], silo_dir=tmp_path
    )
    assert argv[0] == "/usr/bin/bwrap" and argv[-1] == "--"
    pairs = list(zip(argv, argv[1:], argv[2:], strict=False))
    assert ("--bind", str(work), str(work)) in pairs
    assert ("--ro-bind", str(tmp_path), str(tmp_path)) in pairs  # silo_dir holds the code root too
    assert ("--ro-bind", str(code_root), str(code_root)) not in pairs  # inside it: bound once
    made = [argv[i + 3] for i, part in enumerate(argv) if part == "--perms" and argv[i + 2] == "--dir"]
    assert str(tmp_path.parent) in made and all(
        argv[argv.index(p) - 2] == "0711" for p in made if p != "/etc"
    )
    for system in ("/lib", "/bin"):
        if os.path.islink(system):
            assert ("--symlink", os.readlink(system), system) in pairs
    assert "--unshare-ipc" in argv and "--die-with-parent" in argv and "--unshare-net" not in argv


def test_asking_for_bubblewrap_where_it_cannot_run_says_why(new_host: Callable[..., RuntimeHost]) -> None:
    if os.geteuid() == 0 and bwrap_path() is not None:
        assert new_host(sandbox="bubblewrap").sandbox_level() == "bubblewrap"
        return
    with pytest.raises(ValueError, match="bubblewrap"):
        new_host(sandbox="bubblewrap")
