"""Function fixtures, shared by integration and isolation tests (a pytest plugin: see tests/conftest.py)."""

from __future__ import annotations

import shutil
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from silo.accounts import AccountSpec
from silo.functions import FunctionSettings, zip_directory
from silo.platform import AccountHandle, ManagementHandle, Platform

HANDLERS = {
    "echo": "def handler(event, context):\n    return event\n",
    "boom": "def handler(event, context):\n    raise ValueError('boom: ' + str(event.get('n')))\n",
    "sleepy": (
        "import time\n\n"
        "def handler(event, context):\n    time.sleep(event.get('s', 0.5))\n    return 'slept'\n"
    ),
    "printer": (
        "def handler(event, context):\n"
        "    print('hello from', context.function_name)\n"
        "    context.logger.info('logged %s', event.get('n'))\n"
        "    return context.aws_request_id\n"
    ),
}


@pytest.fixture
def code(tmp_path: Path) -> Callable[[str], bytes]:
    counter = iter(range(10_000))

    def make(source: str) -> bytes:
        directory = tmp_path / f"code-{next(counter)}"
        directory.mkdir()
        (directory / "app.py").write_text(textwrap.dedent(HANDLERS.get(source, source)))
        return zip_directory(directory)

    return make


@pytest.fixture
def tenant(platform: Platform, mgmt: ManagementHandle) -> Callable[[str], AccountHandle]:
    def make(name: str, limit: int = 100) -> AccountHandle:
        made = mgmt.create_account(AccountSpec(name, f"ops@{name}.example", concurrency_limit=limit))
        issued = mgmt.issue_account_key(made.account_id, "ci")
        return platform.account(platform.authenticate(issued.token))

    return make


def deploy(handle: AccountHandle, name: str, zipped: bytes, **settings: object) -> None:
    handle.functions.create(name, zipped, FunctionSettings(handler="app.handler", **settings))  # type: ignore[arg-type]


def wait_until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


@pytest.fixture
def outbox(shared_dir: Path) -> Iterator[Path]:
    """A file any execution environment may append to (they run as an unprivileged user)."""
    directory = Path(tempfile.mkdtemp(prefix="silo-outbox-", dir=shared_dir))
    directory.chmod(0o777)
    path = directory / "out.jsonl"
    path.touch()
    path.chmod(0o666)
    yield path
    shutil.rmtree(directory, ignore_errors=True)
