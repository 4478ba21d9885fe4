"""``silo functions``: deploy from a directory or a zip, configure, version, alias, delete."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from silo.cli.options import code_body
from silo.functions import zip_directory
from tests.e2e.cli.conftest import Cli, Member


def test_create_from_a_directory_is_reproducible(member: Member, source: Callable[[str], Path]) -> None:
    directory = source("echo")
    made = member.cli.json(
        "functions", "create", "echo", "--handler", "app.handler", "--code", str(directory)
    )
    assert made["name"] == "echo" and made["version"] == "$LATEST"
    assert made["handler"] == "app.handler"
    assert (made["memory_size"], made["timeout"]) == (128, 3)
    assert made["code_sha256"] == hashlib.sha256(zip_directory(directory)).hexdigest()
    human = member.cli.ok("functions", "get", "echo").stdout
    assert "app.handler" in human and "function echo:$LATEST" in human


def test_create_from_a_zip_with_every_setting(
    member: Member, source: Callable[[str], Path], tmp_path: Path
) -> None:
    archive = tmp_path / "bundle.zip"
    archive.write_bytes(zip_directory(source("echo")))
    member.cli.json("functions", "create", "sink", "--handler", "app.handler", "--code", str(archive))
    made = member.cli.json(
        "functions", "create", "full", "--handler", "app.handler", "--code", str(archive),
        "--memory", "256", "--timeout", "10", "--env", "A=1", "--env", "B=x=y", "--description", "all of it",
        "--reserved-concurrency", "5", "--tag", "team=core", "--max-retry-attempts", "1",
        "--max-event-age", "600", "--on-failure", "sink",
    )  # fmt: skip
    assert made["code_sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert (made["memory_size"], made["timeout"], made["description"]) == (256, 10, "all of it")
    assert made["environment"] == {"A": "1", "B": "x=y"}
    assert made["tags"] == {"team": "core"}
    assert made["reserved_concurrency"] == 5
    assert made["async_config"] == {
        "max_retry_attempts": 1,
        "max_event_age": 600,
        "on_failure": {"function": "sink"},
    }
    assert member.cli.json("functions", "get", "full") == made


def test_list_update_delete(member: Member, source: Callable[[str], Path]) -> None:
    for name in ("one", "two"):
        member.cli.ok("functions", "create", name, "--handler", "app.handler", "--code", str(source("echo")))
    assert [f["name"] for f in member.cli.json("functions", "list", "--all")["items"]] == ["one", "two"]
    table = member.cli.ok("functions", "list").stdout
    assert "one" in table and "two" in table and "HANDLER" in table

    member.cli.json("functions", "update", "one", "--reserved-concurrency", "3", "--max-event-age", "120")
    updated = member.cli.json(
        "functions", "update", "one", "--memory", "512", "--env", "K=V", "--clear-reserved-concurrency",
        "--max-retry-attempts", "0",
    )  # fmt: skip
    assert (updated["memory_size"], updated["environment"]) == (512, {"K": "V"})
    assert updated["reserved_concurrency"] is None
    # only the given async setting changes; the others are kept
    assert updated["async_config"] == {"max_retry_attempts": 0, "max_event_age": 120, "on_failure": None}

    new_code = source("def handler(event, context):\n    return 'v2'\n")
    recoded = member.cli.json("functions", "update", "one", "--code", str(new_code), "--timeout", "5")
    assert recoded["code_sha256"] == hashlib.sha256(zip_directory(new_code)).hexdigest()
    assert recoded["timeout"] == 5 and recoded["memory_size"] == 512
    assert json.loads(member.cli.ok("invoke", "one").stdout) == "v2"

    assert member.cli.json("functions", "delete", "one") == {"deleted": "one"}
    assert "deleted function two" in member.cli.ok("functions", "delete", "two").stdout
    assert member.cli.json("functions", "list")["items"] == []
    gone = member.cli("functions", "get", "one")
    assert gone.exit_code == 1 and gone.stderr.startswith("error: NotFound: ")


def test_publish_alias_and_invoke_a_qualifier(member: Member, source: Callable[[str], Path]) -> None:
    first = source("def handler(event, context):\n    return 'one'\n")
    second = source("def handler(event, context):\n    return 'two'\n")
    member.cli.ok("functions", "create", "f", "--handler", "app.handler", "--code", str(first))
    v1 = member.cli.json("functions", "publish", "f", "--description", "first")
    assert (v1["version"], v1["description"]) == ("1", "first")
    member.cli.ok("functions", "update", "f", "--code", str(second))
    assert member.cli.json("functions", "publish", "f")["version"] == "2"
    versions = member.cli.json("functions", "versions", "f")["items"]
    assert [v["version"] for v in versions] == ["$LATEST", "1", "2"]
    assert "first" in member.cli.ok("functions", "versions", "f").stdout

    alias = member.cli.json("functions", "alias-create", "f", "live", "--version", "1")
    assert (alias["function_name"], alias["name"], alias["version"]) == ("f", "live", "1")
    assert json.loads(member.cli.ok("invoke", "f", "--qualifier", "live").stdout) == "one"
    assert json.loads(member.cli.ok("functions", "invoke", "f", "--qualifier", "2").stdout) == "two"
    assert json.loads(member.cli.ok("invoke", "f").stdout) == "two"

    moved = member.cli.json("functions", "alias-update", "f", "live", "--version", "2", "--description", "v2")
    assert (moved["version"], moved["description"]) == ("2", "v2")
    assert json.loads(member.cli.ok("invoke", "f", "--qualifier", "live").stdout) == "two"
    assert [a["name"] for a in member.cli.json("functions", "aliases", "f")["items"]] == ["live"]
    assert "live" in member.cli.ok("functions", "aliases", "f").stdout

    assert member.cli.json("functions", "alias-delete", "f", "live") == {
        "deleted": "live",
        "function_name": "f",
    }
    assert member.cli.json("functions", "aliases", "f")["items"] == []
    missing = member.cli("invoke", "f", "--qualifier", "live")
    assert missing.exit_code == 1 and missing.stderr.startswith("error: NotFound: ")


def test_metrics_show_invocations(member: Member, source: Callable[[str], Path]) -> None:
    member.cli.ok("functions", "create", "m", "--handler", "app.handler", "--code", str(source("echo")))
    member.cli.ok("invoke", "m", "--payload", '{"n": 1}')
    member.cli.ok("invoke", "m", "--payload", '{"n": 2}')
    data = member.cli.json("functions", "metrics", "m", "--minutes", "5")
    assert (data["function_name"], data["minutes"]) == ("m", 5)
    assert data["metrics"]["Invocations"]["sum"] == 2
    table = member.cli.ok("functions", "metrics", "m").stdout
    assert "Invocations" in table and "SUM" in table and "AVG" in table
    row = next(line for line in table.splitlines() if "Invocations" in line)
    assert "2" in row


def test_the_code_upload_is_base64_of_the_reproducible_zip(source: Callable[[str], Path]) -> None:
    directory = source("echo")
    body = code_body(directory)
    assert base64.b64decode(body["zip_base64"]) == zip_directory(directory)
    archive = directory.parent / "given.zip"
    archive.write_bytes(zip_directory(source("printer")))  # a zip is sent as it is, not zipped again
    assert base64.b64decode(code_body(archive)["zip_base64"]) == archive.read_bytes()


def test_errors_of_the_api_are_reported(member: Member, source: Callable[[str], Path]) -> None:
    code = str(source("echo"))
    member.cli.ok("functions", "create", "dup", "--handler", "app.handler", "--code", code)
    again = member.cli("functions", "create", "dup", "--handler", "app.handler", "--code", code)
    assert again.exit_code == 1 and again.stderr.startswith("error: Conflict: ")
    small = member.cli(
        "functions", "create", "tiny", "--handler", "app.handler", "--code", code, "--memory", "64"
    )
    assert small.exit_code == 1 and small.stderr.startswith("error: ValidationError: ")
    assert "memory_size" in small.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["functions", "create", "f", "--handler", "app.handler", "--code", "@code", "--env", "NOEQUALS"],
        ["functions", "create", "f", "--handler", "app.handler", "--code", "@code", "--env", "=v"],
        ["functions", "update", "f", "--env", "novalue"],
        ["functions", "create", "f", "--handler", "app.handler", "--code", "@missing"],
        ["functions", "create", "f", "--handler", "app.handler", "--code", "@not_zip"],
        ["functions", "create", "f", "--code", "@code"],
        ["functions", "update", "f"],
        ["functions", "update", "f", "--reserved-concurrency", "1", "--clear-reserved-concurrency"],
        ["functions", "alias-create", "f", "live"],
        ["functions", "metrics", "f", "--minutes", "0"],
    ],
)
def test_bad_arguments_exit_2(args: list[str], source: Callable[[str], Path], tmp_path: Path) -> None:
    not_zip = tmp_path / "code.zip"
    not_zip.write_text("not a zip")
    paths = {"@code": str(source("echo")), "@missing": str(tmp_path / "nope"), "@not_zip": str(not_zip)}
    result = Cli(key="never.sent")(*(paths.get(arg, arg) for arg in args))  # refused before any request
    assert result.exit_code == 2, result.output
    assert result.stdout == ""


def test_bad_env_names_the_option(source: Callable[[str], Path]) -> None:
    result = Cli(key="never.sent")(
        "functions", "create", "f", "--handler", "app.handler", "--code", str(source("echo")), "--env", "X"
    )
    assert result.exit_code == 2
    assert "--env" in result.stderr and "key=value" in result.stderr
