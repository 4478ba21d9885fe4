"""Fixtures for the runtime tests: real zygotes and environments, handler code written to temp dirs.

Directories live under /tmp with modes the dropped user can traverse (pytest's own tmp_path is 0700
and owned by root, so an environment running under its own user id could not reach it).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from silo.runtime import EnvironmentSpec, RuntimeHost, prepare_code_dir

MakeFunction = Callable[..., Path]


@pytest.fixture(scope="session")
def runtime_root() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="silo-rt-", dir="/tmp"))
    os.chmod(root, 0o711)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def make_function(runtime_root: Path) -> MakeFunction:
    """Write ``source`` as ``app.py`` (plus ``files``) into a fresh, prepared code directory."""
    code_root = runtime_root / "code"
    code_root.mkdir(mode=0o755, exist_ok=True)
    os.chmod(code_root, 0o755)

    def make(source: str = "", files: dict[str, str] | None = None) -> Path:
        code_dir = Path(tempfile.mkdtemp(dir=code_root))
        everything = {"app.py": source, **(files or {})}
        for name, text in everything.items():
            path = code_dir / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
        prepare_code_dir(code_dir)
        return code_dir

    return make


@pytest.fixture(scope="session")
def new_host(runtime_root: Path) -> Iterator[Callable[..., RuntimeHost]]:
    """Hosts made through this are closed at the end of the session (tests may close them earlier)."""
    hosts: list[RuntimeHost] = []

    def make(**kwargs: Any) -> RuntimeHost:
        work_dir = Path(tempfile.mkdtemp(dir=runtime_root))
        os.chmod(work_dir, 0o711)
        kwargs.setdefault("code_roots", [runtime_root / "code"])
        host = RuntimeHost(work_dir, **kwargs)
        hosts.append(host)
        return host

    yield make
    for host in hosts:
        host.close()


@pytest.fixture(scope="module")
def host(new_host: Callable[..., RuntimeHost]) -> RuntimeHost:
    """One host shared by a module's tests; every test uses its own revision, so its own environments."""
    return new_host(idle_timeout_s=30.0)


def spec_for(code_dir: Path, handler: str = "app.handler", **overrides: Any) -> EnvironmentSpec:
    values: dict[str, Any] = {
        "account_id": "111111111111",
        "function_name": "fn",
        "version": "1",
        "revision": uuid.uuid4().hex,
        "code_dir": code_dir,
        "handler": handler,
        "memory_mb": 128,
        "timeout_s": 3.0,
        "environment": {},
    }
    values.update(overrides)
    return EnvironmentSpec(**values)


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            state = stat.read().rsplit(b")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != b"Z"


def wait_gone(pids: list[int], timeout: float = 2.0) -> list[int]:
    """Wait until none of ``pids`` is alive; return the ones still alive at the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        left = [pid for pid in pids if alive(pid)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.02)


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (children through /proc, recursively)."""
    found: list[int] = []
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except FileNotFoundError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{current}/task/{task}/children", "rb") as children:
                    kids = [int(part) for part in children.read().split()]
            except FileNotFoundError:
                continue
            found.extend(kids)
            stack.extend(kids)
    return found
