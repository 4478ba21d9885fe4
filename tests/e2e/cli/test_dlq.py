"""``silo dlq``: a failed async invocation lands in the dead-letter queue, seen from both planes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.cli.conftest import Cli, Member
from tests.helpers.functions import wait_until


def _dead_letter(member: Member, source: Callable[[str], Path]) -> dict[str, Any]:
    member.cli.ok("functions", "create", "boom", "--handler", "app.handler", "--code", str(source("boom")))
    member.cli.ok("invoke", "boom", "--async", "--payload", '{"n": 3}')
    wait_until(lambda: len(member.cli.json("dlq", "list")["items"]) == 1, timeout=30)
    entry: dict[str, Any] = member.cli.json("dlq", "list")["items"][0]
    return entry


def test_a_failed_async_invocation_is_listed_with_its_account(
    cli: Cli, member: Member, source: Callable[[str], Path]
) -> None:
    entry = _dead_letter(member, source)
    assert entry["account_id"] == member.account_id
    assert (entry["source"], entry["reason"], entry["attempts"]) == ("functions:async", "RetriesExhausted", 3)
    assert entry["target"]["function"] == "boom" and entry["payload"] == {"n": 3}
    assert entry["error"]["errorType"] == "ValueError"

    fleet = cli.json("dlq", "list")["items"]
    assert [e["entry_id"] for e in fleet] == [entry["entry_id"]]
    table = cli.ok("dlq", "list").stdout
    assert member.account_id in table and "RetriesExhausted" in table and "boom" in table
    assert cli.json("dlq", "list", "--account", member.account_id)["items"] == fleet
    assert cli.json("dlq", "list", "--reason", "EventAgeExceeded")["items"] == []
    assert len(cli.json("dlq", "list", "--source", "functions:async", "--all")["items"]) == 1

    assert member.cli.json("dlq", "show", entry["entry_id"]) == entry
    assert cli.json("dlq", "show", entry["entry_id"], "--account", member.account_id) == entry
    shown = cli.ok("dlq", "show", entry["entry_id"], "--account", member.account_id).stdout
    assert "RetriesExhausted" in shown and "ValueError" in shown


def test_another_account_sees_none_of_it(cli: Cli, member: Member, source: Callable[[str], Path]) -> None:
    entry = _dead_letter(member, source)
    other = cli.json("accounts", "create", "--name", "other", "--owner-email", "o@other.example")
    stranger = Cli(key=cli.json("keys", "issue", other["account_id"], "k")["token"])
    assert stranger.json("dlq", "list")["items"] == []
    assert "no dead letters" in stranger.ok("dlq", "list").stdout
    hidden = stranger("dlq", "show", entry["entry_id"])
    assert hidden.exit_code == 1 and hidden.stderr.startswith("error: NotFound: ")
    mgmt_only = stranger("dlq", "list", "--account", member.account_id)
    assert mgmt_only.exit_code == 1 and mgmt_only.stderr.startswith("error: AccessDenied: ")


def test_a_management_key_must_name_the_account_to_show(cli: Cli, served: object) -> None:
    result = cli("dlq", "show", "00000000-0000-0000-0000-000000000000")
    assert result.exit_code == 2 and "--account" in result.stderr
    missing = cli("dlq", "show", "00000000-0000-0000-0000-000000000000", "--account", "123456789012")
    assert missing.exit_code == 1 and missing.stderr.startswith("error: NotFound: ")


@pytest.mark.parametrize("args", [["dlq", "list", "--limit", "0"], ["dlq", "show"], ["dlq", "purge"]])
def test_bad_arguments_exit_2(args: list[str]) -> None:
    result = Cli(key="never.sent")(*args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
