"""``silo dlq redrive`` (management key: one entry, or ``--all`` matching ones), ``purge``,
``list --since/--until``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.cli.conftest import Cli, Member
from tests.helpers.functions import wait_until


def _failed(member: Member, source: Callable[[str], Path]) -> dict[str, Any]:
    member.cli.ok("functions", "create", "boom", "--handler", "app.handler", "--code", str(source("boom")))
    member.cli.ok("functions", "update", "boom", "--max-retry-attempts", "0")
    member.cli.ok("invoke", "boom", "--async", "--payload", '{"n": 3}')
    wait_until(lambda: len(member.cli.json("dlq", "list")["items"]) == 1, timeout=30)
    entry: dict[str, Any] = member.cli.json("dlq", "list")["items"][0]
    return entry


def test_redrive_one_entry_then_all_new_ones(cli: Cli, member: Member, source: Callable[[str], Path]) -> None:
    entry = _failed(member, source)
    account = ("--account", member.account_id)
    shown = cli.ok("dlq", "redrive", entry["entry_id"], *account).stdout
    assert f"redriven {entry['entry_id']} to boom:$LATEST in {member.account_id}" in shown
    assert cli.json("dlq", "show", entry["entry_id"], *account)["redriven_at"] is not None

    again = cli("dlq", "redrive", entry["entry_id"], *account)
    assert again.exit_code == 1 and again.stderr.startswith("error: Conflict: ")
    assert cli.json("dlq", "redrive", entry["entry_id"], *account, "--force")["forced"] is True

    wait_until(lambda: len(member.cli.json("dlq", "list")["items"]) == 3, timeout=30)  # both failed again
    batch = cli.json("dlq", "redrive", "--all", *account, "--reason", "RetriesExhausted")
    assert len(batch["redriven"]) == 2 and batch["failed"] == []
    assert {r["dead_letter"]["entry_id"] for r in batch["redriven"]}.isdisjoint({entry["entry_id"]})
    wait_until(lambda: len(member.cli.json("dlq", "list")["items"]) == 5, timeout=30)
    assert "no dead letters to redrive" in cli.ok("dlq", "redrive", "--all", *account, "--source", "x").stdout

    denied = member.cli("dlq", "redrive", entry["entry_id"], *account)
    assert denied.exit_code == 1 and denied.stderr.startswith("error: AccessDenied: ")


def test_list_filters_by_time(cli: Cli, member: Member, source: Callable[[str], Path]) -> None:
    entry = _failed(member, source)
    at = datetime.fromisoformat(entry["last_at"])
    before, after = (at - timedelta(seconds=1)).isoformat(), (at + timedelta(seconds=1)).isoformat()
    for caller in (cli, member.cli):
        assert caller.json("dlq", "list", "--since", before, "--until", after)["items"] == [entry]
        assert caller.json("dlq", "list", "--since", after)["items"] == []
        assert caller.json("dlq", "list", "--until", before)["items"] == []


def test_purge_deletes_the_matching_entries(cli: Cli, member: Member, source: Callable[[str], Path]) -> None:
    entry = _failed(member, source)
    denied = member.cli("dlq", "purge", "--account", member.account_id)
    assert denied.exit_code == 1 and denied.stderr.startswith("error: AccessDenied: ")
    assert cli.json("dlq", "purge", "--account", member.account_id, "--reason", "EventLoop") == {"purged": 0}
    assert member.cli.json("dlq", "list")["items"] == [entry]
    shown = cli.ok("dlq", "purge", "--account", member.account_id, "--source", "functions:async").stdout
    assert "purged 1 dead letters" in shown
    assert member.cli.json("dlq", "list")["items"] == []
    assert cli.json("dlq", "purge", "--all") == {"purged": 0}


@pytest.mark.parametrize(
    "args",
    [
        ["dlq", "purge", "--all", "--reason", "x"],
        ["dlq", "redrive", "e"],  # no --account
        ["dlq", "redrive", "--account", "123456789012"],  # neither ENTRY_ID nor --all
        ["dlq", "redrive", "e", "--all", "--account", "123456789012"],
        ["dlq", "redrive", "e", "--account", "123456789012", "--reason", "x"],
        ["dlq", "redrive", "--all", "--force", "--account", "123456789012"],
        ["dlq", "list", "--since", "yesterday"],
    ],
)
def test_bad_arguments_exit_2(args: list[str]) -> None:
    result = Cli(key="never.sent")(*args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
