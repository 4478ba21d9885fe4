"""``silo invoke``: results on stdout, function errors with exit 1, payloads, dry runs, log tails."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.cli.conftest import Cli, Member


def _deploy(member: Member, name: str, directory: Path, *extra: str) -> None:
    member.cli.ok("functions", "create", name, "--handler", "app.handler", "--code", str(directory), *extra)


def test_sync_result_on_stdout(member: Member, source: Callable[[str], Path]) -> None:
    _deploy(member, "echo", source("echo"))
    result = member.cli.ok("invoke", "echo", "--payload", '{"greeting": "hi", "n": [1, 2]}')
    assert json.loads(result.stdout) == {"greeting": "hi", "n": [1, 2]}
    assert "version $LATEST" in result.stderr
    assert json.loads(member.cli.ok("invoke", "echo").stdout) == {}  # no payload: {}
    as_json = member.cli.ok("invoke", "echo", "--payload", "[1]", "--json")
    assert json.loads(as_json.stdout) == [1] and as_json.stderr == ""


def test_payload_from_a_file_or_stdin(member: Member, source: Callable[[str], Path], tmp_path: Path) -> None:
    _deploy(member, "echo", source("echo"))
    event = tmp_path / "event.json"
    event.write_text('{"from": "file"}')
    assert json.loads(member.cli.ok("invoke", "echo", "--payload-file", str(event)).stdout) == {
        "from": "file"
    }
    piped = member.cli.ok("invoke", "echo", "--payload-file", "-", input='{"from": "stdin"}')
    assert json.loads(piped.stdout) == {"from": "stdin"}


def test_a_failing_function_prints_its_error_and_exits_1(
    member: Member, source: Callable[[str], Path]
) -> None:
    _deploy(member, "boom", source("boom"))
    result = member.cli("invoke", "boom", "--payload", '{"n": 7}')
    assert result.exit_code == 1
    error = json.loads(result.stdout)
    assert (error["errorType"], error["errorMessage"]) == ("ValueError", "boom: 7")
    assert isinstance(error["stackTrace"], list)
    assert result.stderr.startswith("error: function boom failed (Unhandled): ValueError: boom: 7")
    also = member.cli("functions", "invoke", "boom", "--json")
    assert also.exit_code == 1 and json.loads(also.stdout)["errorType"] == "ValueError"


def test_async_prints_the_invocation_id(member: Member, source: Callable[[str], Path]) -> None:
    _deploy(member, "echo", source("echo"))
    accepted = json.loads(member.cli.ok("invoke", "echo", "--async", "--payload", '{"a": 1}').stdout)
    assert list(accepted) == ["invocation_id"] and accepted["invocation_id"]


def test_dry_run(member: Member, source: Callable[[str], Path]) -> None:
    _deploy(member, "echo", source("echo"))
    assert member.cli.json("invoke", "echo", "--dry-run") == {"function_name": "echo", "dry_run": "ok"}
    assert "can be invoked" in member.cli.ok("invoke", "echo", "--dry-run").stdout
    missing = member.cli("invoke", "nothing", "--dry-run")
    assert missing.exit_code == 1 and missing.stderr.startswith("error: NotFound: ")


def test_log_tail_goes_to_stderr(member: Member, source: Callable[[str], Path]) -> None:
    _deploy(member, "printer", source("printer"))
    result = member.cli.ok("invoke", "printer", "--log-tail", "--payload", '{"n": 5}')
    request_id = json.loads(result.stdout)
    assert "hello from printer" in result.stderr and "logged 5" in result.stderr
    assert "hello from" not in result.stdout
    assert request_id in result.stderr
    plain = member.cli.ok("invoke", "printer", "--payload", '{"n": 6}')
    assert "hello from" not in plain.stderr


def test_an_account_key_cannot_invoke_another_accounts_function(
    cli: Cli, member: Member, source: Callable[[str], Path]
) -> None:
    _deploy(member, "mine", source("echo"))
    other = cli.json("accounts", "create", "--name", "other", "--owner-email", "o@other.example")
    stranger = Cli(key=cli.json("keys", "issue", other["account_id"], "k")["token"])
    result = stranger("invoke", "mine")
    assert result.exit_code == 1 and result.stderr.startswith("error: NotFound: ")


@pytest.mark.parametrize(
    "args",
    [
        ["invoke", "f", "--payload", "{not json"],
        ["invoke", "f", "--payload", ""],
        ["functions", "invoke", "f", "--payload", "{'single': 'quotes'}"],
        ["invoke", "f", "--payload", "{}", "--payload-file", "@file"],
        ["invoke", "f", "--payload-file", "@bad_file"],
        ["invoke", "f", "--payload-file", "@missing"],
        ["invoke", "f", "--async", "--dry-run"],
    ],
)
def test_bad_arguments_exit_2(args: list[str], tmp_path: Path) -> None:
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text("{}")
    bad.write_text("{nope")
    paths = {"@file": str(good), "@bad_file": str(bad), "@missing": str(tmp_path / "missing.json")}
    result = Cli(key="never.sent")(*(paths.get(arg, arg) for arg in args))  # refused before any request
    assert result.exit_code == 2, result.output
    assert result.stdout == ""


def test_bad_payload_names_the_option() -> None:
    result = Cli(key="never.sent")("invoke", "f", "--payload", "{not json")
    assert result.exit_code == 2
    assert "--payload" in result.stderr and "not valid JSON" in result.stderr
