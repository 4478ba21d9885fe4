"""``silo stacksets`` and ``silo fleet``: a stack set rolled out by id, OU, tag and waves, followed with
``fleet status`` (live view, --json), stopped, removed; bad targets and preferences are refused."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from silo.cli import progress, render
from tests.e2e.api.stacks_helpers import TEMPLATE
from tests.e2e.cli.conftest import Cli, Member
from tests.helpers.functions import wait_until

FAST = ("--max-concurrent", "100%")


@pytest.fixture
def service(tmp_path: Path) -> Path:
    root = tmp_path / "service"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("def handler(event, context):\n    return event\n")
    template = root / "template.yaml"
    template.write_text(TEMPLATE)
    return template


@pytest.fixture
def accounts(cli: Cli) -> dict[str, str]:
    """prod OU: one (tier=gold), two; outside it: three (tier=gold)."""
    prod = cli.json("ous", "create", "prod")["ou_id"]
    made = {"ou": prod}
    for name, extra in (
        ("one", ["--ou", prod, "--tag", "tier=gold"]),
        ("two", ["--ou", prod]),
        ("three", []),
    ):
        created = cli.json("accounts", "create", "--name", name, "--owner-email", f"{name}@t.example", *extra)
        made[name] = created["account_id"]
    return made


@pytest.fixture
def stack_set(cli: Cli, service: Path) -> dict[str, Any]:
    made: dict[str, Any] = cli.json(
        "stacksets", "create", "svc", "--template", str(service), "--description", "echo"
    )
    return made


# The same roll-out, update and removal run on both backends through the API in
# tests/e2e/api/test_fleet_api.py; this one checks what the CLI shows and follows.
@pytest.mark.one_backend
def test_roll_out_follow_update_and_remove(
    cli: Cli, accounts: dict[str, str], stack_set: dict[str, Any], service: Path
) -> None:
    assert (stack_set["name"], stack_set["version"], stack_set["description"]) == ("svc", 1, "echo")
    assert cli.json("stacksets", "get", "svc") == stack_set
    assert [s["name"] for s in cli.json("stacksets", "list")["items"]] == ["svc"]
    assert "svc" in cli.ok("stacksets", "list").stdout

    queued = cli.ok(
        "stacksets", "add-instances", "svc", "--ou", accounts["ou"], "--override", "Greeting=hey", *FAST
    )
    assert "operation " in queued.stdout and "fleet status" in queued.stderr and "--watch" in queued.stderr
    op = cli.json("fleet", "operations", "svc")["items"][0]
    done = cli.json("fleet", "status", op["operation_id"], "--watch", "--interval", "0.05")
    assert (done["status"], done["total"], done["succeeded"], done["failed"]) == ("SUCCEEDED", 2, 2, 0)
    assert done["waves"][0]["succeeded"] == 2

    view = cli.ok("fleet", "status")  # nothing open: the newest operation
    assert "no open operation; showing the newest" in view.stderr
    assert "SUCCEEDED" in view.stdout and "wave 1" in view.stdout and "2/2" in view.stdout
    assert "█" in view.stdout and f"operation {op['operation_id']}" in view.stdout

    instances = cli.json("stacksets", "instances", "svc", "--all")["items"]
    assert sorted(i["account_id"] for i in instances) == sorted([accounts["one"], accounts["two"]])
    assert {i["status"] for i in instances} == {"CURRENT"} and instances[0]["overrides"] == {
        "Greeting": "hey"
    }
    assert "CURRENT" in cli.ok("stacksets", "instances", "svc").stdout

    updated = cli.json("stacksets", "update", "svc", "--param", "Memory=512", *FAST, "--watch")
    assert (updated["action"], updated["version"], updated["status"]) == ("UPDATE", 2, "SUCCEEDED")
    retemplated = cli.json("stacksets", "update", "svc", "-t", str(service), "--description", "v3", *FAST)
    assert retemplated["version"] == 3
    cli.json("fleet", "status", retemplated["operation_id"], "--watch", "--interval", "0.05")
    assert cli.json("stacksets", "get", "svc")["description"] == "v3"

    two = ("--account", accounts["two"])
    changed = cli.json(
        "stacksets", "update-instances", "svc", *two, "--override", "Greeting=yo", *FAST, "--watch"
    )
    assert changed["status"] == "SUCCEEDED" and changed["total"] == 1

    removed = cli.json(
        "stacksets", "remove-instances", "svc", "--tag", "tier=gold", "--retain-stacks", *FAST, "--watch"
    )
    assert (removed["action"], removed["status"], removed["total"]) == ("DELETE", "SUCCEEDED", 1)
    left = [i["account_id"] for i in cli.json("stacksets", "instances", "svc")["items"]]
    assert left == [accounts["two"]]
    cli.json("stacksets", "remove-instances", "svc", "--account", accounts["two"], *FAST, "--watch")

    operations = cli.json("fleet", "operations")["items"]
    assert [o["action"] for o in operations] == ["DELETE", "DELETE", "UPDATE", "UPDATE", "UPDATE", "CREATE"]
    assert "STACK SET" in cli.ok("fleet", "operations").stdout
    _check_operation_pages(cli, [o["operation_id"] for o in operations])
    events = cli.json("fleet", "events", "--limit", "1000")["items"]
    assert {"StackSet Operation Status Change", "StackSet Instance Status Change"} <= {
        e["detail_type"] for e in events
    }
    assert "StackSet" in cli.ok("fleet", "events", "--limit", "5").stdout
    assert cli.json("stacksets", "delete", "svc") == {"deleted": "svc"}
    assert cli.json("stacksets", "list")["items"] == []


def _check_operation_pages(cli: Cli, newest: list[str]) -> None:
    """``fleet operations`` by status (repeatable, any case), a page at a time (--next-token, --all)."""
    first = cli.json("fleet", "operations", "--status", "succeeded", "--limit", "2")
    assert [o["operation_id"] for o in first["items"]] == newest[:2] and first["next_token"]
    rest = cli.json("fleet", "operations", "--status", "SUCCEEDED", "--next-token", first["next_token"])
    assert [o["operation_id"] for o in rest["items"]] == newest[2:] and rest["next_token"] is None
    every = cli.json(
        "fleet", "operations", "svc", "--status", "SUCCEEDED", "--status", "FAILED", "--all", "--limit", "1"
    )
    assert [o["operation_id"] for o in every["items"]] == newest
    assert cli.json("fleet", "operations", "--status", "FAILED")["items"] == []
    paged = cli.ok("fleet", "operations", "--limit", "1")
    assert "more operations: --all, or --next-token" in paged.stderr
    assert cli("fleet", "operations", "--status", "DONE").exit_code == 2


def test_the_instances_stack_is_in_the_account(cli: Cli, member: Member, stack_set: dict[str, Any]) -> None:
    cli.json("stacksets", "add-instances", "svc", "--account", member.account_id, *FAST, "--watch")
    stack = member.cli.json("stacks", "get", "svc")
    assert stack["stack_set"] == "svc" and stack["status"] == "CREATE_COMPLETE"
    assert member.cli.json("functions", "get", "svc-Echo")["memory_size"] == 256


def test_waves_then_stop(cli: Cli, accounts: dict[str, str], stack_set: dict[str, Any]) -> None:
    canary = json.dumps({"name": "canary", "accounts": [accounts["three"]], "soak_seconds": 60})
    rest = json.dumps({"name": "gold", "targets": {"tags": {"tier": "gold"}}})
    op = cli.json("stacksets", "add-instances", "svc", "--wave", canary, "--wave", rest, *FAST)
    assert op["waves"] == 2
    assert cli.json("fleet", "status")["operation_id"] == op["operation_id"]  # the open one
    # stop while the canary soaks (a stop racing the worker's first claim can be lost on PostgreSQL)
    wait_until(lambda: cli.json("fleet", "status", op["operation_id"])["waves"][0]["succeeded"] == 1)
    stopped = cli.json("fleet", "stop", op["operation_id"])
    assert stopped["status"] in {"STOPPING", "STOPPED"}
    done = cli.json("fleet", "status", op["operation_id"], "--watch", "--interval", "0.05")
    assert done["status"] == "STOPPED" and [w["name"] for w in done["waves"]] == ["canary", "gold"]
    assert done["waves"][1]["cancelled"] == 1
    human = cli.ok("fleet", "status", op["operation_id"]).stdout
    assert "STOPPED" in human and "canary" in human and "gold" in human and "stopped on request" in human
    again = cli("fleet", "stop", op["operation_id"])
    assert again.exit_code == 1 and "error: Conflict" in again.stderr


def test_bad_input(cli: Cli, member: Member, accounts: dict[str, str], stack_set: dict[str, Any]) -> None:
    assert "no fleet operations yet" in cli("fleet", "status").stderr
    add = ("stacksets", "add-instances", "svc")
    usage = [
        [*add],
        [*add, "--account", accounts["one"], "--wave", '{"accounts": ["1"]}'],
        [*add, "--wave", "{not json"],
        [*add, "--wave", "[1]"],
        [*add, "--account", accounts["one"], "--mode", "wild"],
        [*add, "--account", accounts["one"], "--max-attempts", "0"],
        [*add, "--tag", "no-equals"],
        ["stacksets", "remove-instances", "svc"],
    ]
    for args in usage:
        result = cli(*args)
        assert result.exit_code == 2, (args, result.output)
    refused = cli(*add, "--account", accounts["one"], "--max-concurrent", "0")
    assert refused.exit_code == 1 and "preferences.max_concurrent" in refused.stderr
    refused = cli(*add, "--account", accounts["one"], "--failure-tolerance", "lots")
    assert refused.exit_code == 1 and "preferences.failure_tolerance" in refused.stderr
    refused = cli(*add, "--account", "000000000001")
    assert refused.exit_code == 1 and "targets.accounts" in refused.stderr
    assert cli("fleet", "status", "nope").exit_code == 1
    denied = member.cli("stacksets", "list")
    assert denied.exit_code == 1 and "AccessDenied" in denied.stderr
    assert member.cli("fleet", "operations").exit_code == 1
    assert cli.json("fleet", "operations")["items"] == []


PROGRESS: dict[str, Any] = {
    "operation_id": "op-1",
    "stack_set": "svc",
    "action": "CREATE",
    "status": "RUNNING",
    "status_reason": "",
    "version": 1,
    "current_wave": 1,
    "created_at": "2026-01-01T00:00:00Z",
    "started_at": "2026-01-01T00:00:00Z",
    "ended_at": None,
    "total": 10,
    "succeeded": 5,
    "failed": 1,
    "running": 2,
    "pending": 2,
    "cancelled": 0,
    "rate_per_s": 3.0,
    "eta_s": 1.3,
    "waves": [
        {"wave": 0, "name": "canary", "total": 2, "succeeded": 2, "failed": 0, "running": 0, "pending": 0,
         "cancelled": 0},
        {"wave": 1, "name": "rest", "total": 8, "succeeded": 3, "failed": 1, "running": 2, "pending": 2,
         "cancelled": 0},
    ],
}  # fmt: skip


def _text(renderable: Any) -> str:
    console = Console(file=io.StringIO(), width=120, color_system=None)
    console.print(renderable)
    out = console.file.getvalue()
    assert isinstance(out, str)
    return out


def test_bars_split_by_status() -> None:
    wave = PROGRESS["waves"][1]
    bar = progress.bar(wave, width=16)
    assert bar.plain == "█" * 12 + "░" * 4  # 6 succeeded, 2 failed, 4 running: 12 solid; 4 pending
    assert [(s.end - s.start, str(s.style)) for s in bar.spans] == [
        (6, "green"),
        (2, "red"),
        (4, "yellow"),
        (4, "dim"),
    ]
    assert len(progress.bar({"total": 3, "succeeded": 1, "failed": 1, "pending": 1}, width=10).plain) == 10
    assert progress.bar({"total": 0}).plain == "░" * progress.BAR_WIDTH


def test_the_view_shows_each_wave_rate_and_eta() -> None:
    from datetime import UTC, datetime

    shown = _text(progress.view(PROGRESS, now=datetime(2026, 1, 1, 0, 0, 4, tzinfo=UTC)))
    assert "operation op-1: CREATE of stack set svc (version 1)" in shown
    assert "RUNNING" in shown and "elapsed 4.0s" in shown and "rate 3.0/s" in shown and "ETA 1.3s" in shown
    assert "canary" in shown and "▶ rest" in shown and "total" in shown and "4/8" in shown


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    out = io.StringIO()
    monkeypatch.setattr(render, "stdout", lambda: Console(file=out, force_terminal=True, width=120))
    yield out


def test_watch_redraws_live_on_a_terminal(terminal: io.StringIO) -> None:
    frames = [
        {**PROGRESS, "status": "QUEUED", "started_at": None},
        PROGRESS,
        {**PROGRESS, "status": "SUCCEEDED", "ended_at": "2026-01-01T00:00:05Z", "eta_s": 0.0},
    ]
    seen = iter(frames)
    last = progress.watch(lambda: next(seen), interval=0.0, live=True, sleep=lambda _: None)
    assert last["status"] == "SUCCEEDED"
    drawn = terminal.getvalue()
    assert "SUCCEEDED" in drawn and "ETA done" in drawn and "\x1b[" in drawn  # redrawn in place


def test_status_watch_uses_the_live_view_on_a_terminal(
    terminal: io.StringIO, cli: Cli, accounts: dict[str, str], stack_set: dict[str, Any]
) -> None:
    cli.json("stacksets", "add-instances", "svc", "--account", accounts["three"], *FAST)
    result = cli.ok("fleet", "status", "--watch", "--interval", "0.05")
    assert result.stdout == "" and "SUCCEEDED" in terminal.getvalue()


def test_auto_deployment_follows_accounts_into_the_ou(
    cli: Cli, accounts: dict[str, str], service: Path
) -> None:
    made = cli.json(
        "stacksets", "create", "auto", "-t", str(service), "--auto-deployment", "--retain-stacks-on-removal"
    )
    assert made["auto_deployment"] == {"enabled": True, "retain_stacks_on_removal": True, "ous": []}
    cli.json("stacksets", "add-instances", "auto", "--ou", accounts["ou"], *FAST, "--watch")
    shown = cli.ok("stacksets", "get", "auto").stdout
    assert f"on, keeps the stacks of accounts that leave; targeted OUs {accounts['ou']}" in shown
    joined = cli.json(
        "accounts", "create", "--name", "late", "--owner-email", "l@t.example", "--ou", accounts["ou"]
    )
    auto = cli.json("fleet", "operations", "auto")["items"][0]
    assert auto["action"] == "CREATE"
    assert cli.json("fleet", "status", auto["operation_id"], "--watch", "--interval", "0.05")["total"] == 1
    instances = {i["account_id"] for i in cli.json("stacksets", "instances", "auto")["items"]}
    assert instances == {accounts["one"], accounts["two"], joined["account_id"]}
