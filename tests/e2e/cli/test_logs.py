"""``silo logs tail``: a function's log lines, as text or JSON, and --follow bounded by --follow-seconds."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.cli.conftest import Member


def test_tail_shows_printed_lines(member: Member, source: Callable[[str], Path]) -> None:
    member.cli.ok(
        "functions", "create", "printer", "--handler", "app.handler", "--code", str(source("printer"))
    )
    request_id = json.loads(member.cli.ok("invoke", "printer", "--payload", '{"n": 42}').stdout)
    lines = member.cli.ok("logs", "tail", "printer").stdout.splitlines()
    printed = next(line for line in lines if "hello from printer" in line)
    timestamp, rid, message = printed.split(" ", 2)
    assert timestamp.startswith("20") and "T" in timestamp
    assert rid == request_id and message == "hello from printer"
    assert any("logged 42" in line for line in lines)

    data = member.cli.json("logs", "tail", "printer", "--limit", "1")
    assert len(data["items"]) == 1
    assert set(data["items"][0]) == {"event_id", "at", "request_id", "message"}
    assert member.cli.json("logs", "tail", "printer", "--limit", "1000")["items"][-1] == data["items"][0]


def test_tail_of_a_function_that_never_ran(member: Member, source: Callable[[str], Path]) -> None:
    member.cli.ok("functions", "create", "quiet", "--handler", "app.handler", "--code", str(source("echo")))
    assert member.cli.ok("logs", "tail", "quiet").stdout == ""
    assert member.cli.json("logs", "tail", "quiet") == {"items": []}
    # logs are kept by name (like a log group), so a name that never ran just has none
    assert member.cli.json("logs", "tail", "nothing") == {"items": []}


# The follow window is the CLI's (4 s on either backend); the reads after an event id it makes are
# checked on both backends by tests/e2e/api/test_functions_api.py.
@pytest.mark.one_backend
def test_follow_picks_up_new_events_then_stops(member: Member, source: Callable[[str], Path]) -> None:
    member.cli.ok(
        "functions", "create", "printer", "--handler", "app.handler", "--code", str(source("printer"))
    )
    member.cli.ok("invoke", "printer", "--payload", '{"n": 1}')

    def later() -> None:
        time.sleep(0.3)
        member.cli.ok("invoke", "printer", "--payload", '{"n": 2}')

    invoker = threading.Thread(target=later)
    invoker.start()
    started = time.monotonic()
    result = member.cli.ok("logs", "tail", "printer", "--follow", "--follow-seconds", "4", "--json")
    invoker.join()
    assert time.monotonic() - started < 10
    events = [json.loads(line) for line in result.stdout.splitlines()]
    messages = [e["message"] for e in events]
    assert any("logged 1" in m for m in messages) and any("logged 2" in m for m in messages)
    ids = [e["event_id"] for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)  # each event once, in order
