"""The root app: version, whoami, error rendering, argument errors, key resolution."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from silo import __version__
from silo.cli.main import app
from silo.platform import Initialised, Platform
from tests.e2e.cli.conftest import Cli


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"silo {__version__}"


def test_whoami(cli: Cli, init: Initialised) -> None:
    me = cli.json("whoami")
    assert me["key_id"] == init.root_key.key.key_id
    assert me["kind"] == "management"
    assert me["account_id"] == init.management_account_id
    assert init.root_key.key.key_id in cli.ok("whoami").stdout


def test_api_errors_go_to_stderr_with_exit_1(cli: Cli) -> None:
    result = cli("accounts", "describe", "999999999999", "--json")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: NotFound: ")
    assert result.stdout == ""


def test_bad_key_is_unauthenticated(cli: Cli) -> None:
    result = cli("whoami", key="nope.nope")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: Unauthenticated: ")


@pytest.mark.parametrize(
    "args",
    [
        ["accounts", "create", "--name", "a", "--owner-email", "a@b.co", "--tag", "novalue"],
        ["accounts", "create", "--name", "a"],
        ["accounts", "list", "--status", "sleeping"],
        ["accounts", "list", "--limit", "0"],
        ["accounts", "tag", "123456789012"],
        ["accounts", "frobnicate"],
        ["guardrails", "create", "g", "--document", "{not json"],
        ["guardrails", "create", "g"],
    ],
)
def test_bad_arguments_exit_2(args: list[str]) -> None:
    result = Cli(key="never.sent")(*args)  # refused while parsing, before any request
    assert result.exit_code == 2, result.output
    assert result.stdout == ""


def test_tag_without_equals_names_the_option() -> None:
    result = Cli(key="never.sent")(
        "accounts", "create", "--name", "a", "--owner-email", "a@b.co", "--tag", "novalue"
    )
    assert "--tag" in result.stderr
    assert "key=value" in result.stderr


def test_root_key_is_the_default(
    served: Platform, init: Initialised, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert init.root_key_path.is_file()
    monkeypatch.setenv("SILO_HOME", str(init.root_key_path.parent))
    me = Cli(key=None).json("whoami")
    assert me["key_id"] == init.root_key.key.key_id


def test_key_from_environment(served: Platform, init: Initialised, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SILO_KEY", init.root_key.token)
    assert Cli(key=None).json("whoami")["kind"] == "management"


def test_no_key_anywhere_says_how_to_get_one(
    served: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SILO_HOME", str(tmp_path / "empty"))
    result = Cli(key=None)("accounts", "list")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: no API key")
    assert "--key" in result.stderr


def test_no_server_gives_a_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    result = CliRunner().invoke(app, ["--endpoint", endpoint, "--key", "k.s", "whoami"])
    assert result.exit_code == 1
    assert f"no Silo server at {endpoint}" in result.stderr
    assert "silo server" in result.stderr


def test_every_json_output_is_one_document(cli: Cli) -> None:
    out = cli.ok("ous", "list", "--json").stdout
    assert isinstance(json.loads(out), dict)
