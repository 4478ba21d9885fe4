"""``silo accounts``: every command's happy path, through the real API."""

from __future__ import annotations

from typing import Any

import pytest

from silo.cli import accounts
from tests.e2e.cli.conftest import Cli


def _create(cli: Cli, name: str, *extra: str) -> Any:
    return cli.json("accounts", "create", "--name", name, "--owner-email", f"{name}@example.com", *extra)


def test_create_and_describe(cli: Cli) -> None:
    made = _create(cli, "alpha", "--tag", "tier=gold", "--tag", "team=core", "--concurrency-limit", "7")
    assert made["name"] == "alpha"
    assert made["status"] == "ACTIVE"
    assert made["tags"] == {"tier": "gold", "team": "core"}
    assert made["concurrency_limit"] == 7
    assert (
        made["credentials"]["token"] and ":execution:silo-account-factory:" in made["factory_execution_arn"]
    )
    described = cli.json("accounts", "describe", made["account_id"])
    assert described == {k: v for k, v in made.items() if k not in ("credentials", "factory_execution_arn")}
    human = cli.ok("accounts", "describe", made["account_id"]).stdout
    assert "alpha" in human
    assert "tier=gold" in human


def test_create_batch(cli: Cli) -> None:
    result = cli.json(
        "accounts",
        "create-batch",
        "--count",
        "3",
        "--name-prefix",
        "tenant",
        "--owner-email",
        "ops@example.com",
    )
    assert result["count"] == 3
    assert [a["name"] for a in result["items"]] == ["tenant-00001", "tenant-00002", "tenant-00003"]
    assert result["elapsed_seconds"] >= 0
    human = cli.ok(
        "accounts",
        "create-batch",
        "--count",
        "2",
        "--name-prefix",
        "more",
        "--owner-email",
        "ops@example.com",
    )
    assert "created 2 accounts in" in human.stdout


def test_list_as_json_filters_and_pages(cli: Cli) -> None:
    ou = cli.json("ous", "create", "east")
    gold = _create(cli, "gold-one", "--tag", "tier=gold", "--ou", ou["ou_id"])
    _create(cli, "silver-one", "--tag", "tier=silver")
    _create(cli, "plain-one")

    def names(*args: str) -> set[str]:
        page = cli.json("accounts", "list", *args)
        assert set(page) == {"items", "next_token"}
        return {a["name"] for a in page["items"]}

    assert {"gold-one", "silver-one", "plain-one"} <= names()
    assert names("--tag", "tier=gold") == {"gold-one"}
    assert names("--tag", "tier") == {"gold-one", "silver-one"}
    assert names("--ou", ou["ou_id"]) == {"gold-one"}
    root = cli.json("ous", "describe", "root")["ou_id"]
    assert names("--ou", root) == {"management", "silver-one", "plain-one"}
    assert names("--ou", root, "--recursive") >= {"gold-one", "silver-one", "plain-one"}
    cli.ok("accounts", "suspend", gold["account_id"])
    assert names("--status", "suspended") == {"gold-one"}

    first = cli.json("accounts", "list", "--limit", "1")
    assert len(first["items"]) == 1
    assert first["next_token"]
    every = cli.json("accounts", "list", "--limit", "1", "--all")
    assert every["next_token"] is None
    assert {a["name"] for a in every["items"]} == names()


def test_list_table(cli: Cli) -> None:
    _create(cli, "table-one", "--tag", "env=prod")
    _create(cli, "table-two")
    out = cli.ok("accounts", "list").stdout
    for header in ("ID", "NAME", "STATUS", "OU", "TAGS", "CREATED"):
        assert header in out
    assert "table-one" in out
    assert "table-two" in out
    assert "env=prod" in out


def test_status_changes_and_audit(cli: Cli) -> None:
    account = _create(cli, "lifecycle")["account_id"]
    assert cli.json("accounts", "suspend", account, "--reason", "unpaid")["status"] == "SUSPENDED"
    assert cli.json("accounts", "reactivate", account)["status"] == "ACTIVE"
    closed = cli.json("accounts", "close", account, "--reason", "churned")
    assert closed["status"] == "CLOSED"
    assert closed["purge_after"]
    assert cli.json("accounts", "purge-expired") == {"purged": []}
    assert "purged 0 accounts" in cli.ok("accounts", "purge-expired").stdout

    audit = cli.json("audit", "--account", account)
    actions = [entry["action"] for entry in audit["items"]]
    assert len(actions) >= 4
    assert all(entry["account_id"] == account for entry in audit["items"])
    assert any(entry["reason"] == "unpaid" for entry in audit["items"])
    assert "churned" in cli.ok("audit", "--account", account).stdout
    one = cli.json("audit", "--account", account, "--limit", "1")
    assert len(one["items"]) == 1


def test_move_tag_and_concurrency(cli: Cli) -> None:
    account = _create(cli, "mover", "--tag", "old=1")["account_id"]
    ou = cli.json("ous", "create", "west")["ou_id"]
    assert cli.json("accounts", "move", account, "--ou", ou)["ou_id"] == ou
    tagged = cli.json("accounts", "tag", account, "--tag", "new=2", "--remove", "old")
    assert tagged["tags"] == {"new": "2"}
    assert cli.json("accounts", "set-concurrency", account, "3")["concurrency_limit"] == 3


def test_assume_prints_a_session_token(cli: Cli) -> None:
    account = _create(cli, "assumed")["account_id"]
    issued = cli.json("accounts", "assume", account, "--reason", "ticket 42", "--duration", "600")
    assert issued["key"]["kind"] == "session"
    assert issued["key"]["account_id"] == account

    plain = cli.ok("accounts", "assume", account, "--reason", "ticket 43")
    token = plain.stdout.strip()
    assert "\n" not in token
    assert "shown only once" in plain.stderr
    me = cli.json("whoami", key=token)
    assert me["kind"] == "session"
    assert me["account_id"] == account


def test_create_batch_sends_chunks(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "BATCH_CHUNK", 2)
    result = cli.json(
        "accounts", "create-batch", "--count", "5", "--name-prefix", "chunk", "--owner-email", "c@example.com"
    )
    assert result["count"] == 5
    assert [a["name"] for a in result["items"]] == [f"chunk-0000{n}" for n in range(1, 6)]


def test_create_batch_failure_says_how_far_it_got(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "BATCH_CHUNK", 2)
    _create(cli, "dup-00003")
    result = cli(
        "accounts", "create-batch", "--count", "4", "--name-prefix", "dup", "--owner-email", "d@example.com"
    )
    assert result.exit_code == 1
    assert "created 2 of 4 accounts before this error" in result.stderr
    assert "error: Conflict: " in result.stderr
