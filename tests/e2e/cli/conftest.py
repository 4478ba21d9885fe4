"""CLI tests run the real ``silo`` app against the real API, served in-process by a TestClient."""

from __future__ import annotations

import json
import textwrap
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer.testing
from starlette.exceptions import StarletteDeprecationWarning
from typer.testing import CliRunner, Result

from silo.cli import client as client_module
from silo.cli.main import app
from silo.platform import Initialised, Platform
from tests.e2e.api.conftest import compiled_app
from tests.helpers.functions import HANDLERS

with warnings.catch_warnings():
    # Starlette >= 1.10 prefers the `httpx2` package; on plain httpx it warns once at import.
    # The TestClient stays an httpx.Client, which is what the CLI's client expects.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient


@pytest.fixture(scope="session", autouse=True)
def _cli_built_once() -> Iterator[None]:
    """Build the click command tree of ``silo`` once, as a real ``silo`` process does, not per invoke.

    ``CliRunner.invoke`` rebuilds it from the Typer app on every call (~0.1 s each, most of a CLI
    test's time); the tree is the same every time, and each invocation still parses its arguments
    into a new click context. (Should typer rename ``_get_command``, ``setattr`` fails loudly here.)
    """
    built: dict[int, Any] = {}
    build = typer.testing._get_command

    def cached(typer_app: Any) -> Any:
        if id(typer_app) not in built:
            built[id(typer_app)] = (typer_app, build(typer_app))  # keeps the app alive: ids stay unique
        return built[id(typer_app)][1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(typer.testing, "_get_command", cached)
        yield


@dataclass
class Cli:
    """Runs ``silo ARGS`` with ``--key`` (the root key unless told otherwise)."""

    key: str | None
    runner: CliRunner = field(default_factory=CliRunner)

    def __call__(self, *args: str, key: str | None = "", input: str | None = None) -> Result:
        chosen = self.key if key == "" else key
        prefix: Sequence[str] = ["--key", chosen] if chosen else []
        return self.runner.invoke(app, [*prefix, *args], input=input)

    def ok(self, *args: str, key: str | None = "", input: str | None = None) -> Result:
        result = self(*args, key=key, input=input)
        assert result.exit_code == 0, f"exit {result.exit_code}: {result.output}"
        return result

    def json(self, *args: str, key: str | None = "", input: str | None = None) -> Any:
        return json.loads(self.ok(*args, "--json", key=key, input=input).stdout)


@pytest.fixture
def served(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> Platform:
    """Route the CLI's HTTP client to ``create_app(platform)`` in-process (see ``compiled_app``)."""
    api_app = compiled_app(platform)

    def in_process(endpoint: str) -> httpx.Client:
        return TestClient(api_app)

    monkeypatch.setattr(client_module, "make_http_client", in_process)
    for name in ("SILO_KEY", "SILO_ENDPOINT", "COLUMNS"):  # COLUMNS: tables at the pipe width
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SILO_HOME", str(platform.settings.home / "elsewhere"))
    return platform


@pytest.fixture
def cli(served: Platform, init: Initialised) -> Cli:
    return Cli(key=init.root_key.token)


@dataclass
class Member:
    """A member account and the CLI bound to an account key of it (functions live in member accounts)."""

    account_id: str
    cli: Cli


@pytest.fixture
def member(cli: Cli) -> Member:
    made = cli.json("accounts", "create", "--name", "member", "--owner-email", "ops@member.example")
    token = cli.json("keys", "issue", made["account_id"], "deploy")["token"]
    return Member(made["account_id"], Cli(key=token))


@pytest.fixture
def source(tmp_path: Path) -> Callable[[str], Path]:
    """A directory with ``app.py`` holding a handler (a name from ``HANDLERS``, or the source itself)."""
    counter = iter(range(10_000))

    def make(handler: str) -> Path:
        directory = tmp_path / f"src-{next(counter)}"
        directory.mkdir()
        (directory / "app.py").write_text(textwrap.dedent(HANDLERS.get(handler, handler)))
        return directory

    return make
