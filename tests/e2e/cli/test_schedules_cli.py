"""``silo schedules``: put (the README's flags), get, list, delete through the API, in groups; a schedule
made here runs its function; a bad expression is reported on stderr with exit 1."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from silo.store import utcnow
from tests.e2e.cli.conftest import Member
from tests.e2e.cli.test_events_cli import deploy_recorder, function_arn
from tests.helpers.functions import wait_until
from tests.integration.events.test_delivery import received


@pytest.fixture
def shop(member: Member, source: Callable[[str], Path], outbox: Path) -> Member:
    return deploy_recorder(member, source, outbox)


def test_put_get_list_delete(member: Member) -> None:
    cli, arn = member.cli, function_arn(member, "report")
    made = cli.json(
        "schedules", "put", "report", "--expression", "rate(5 minutes)", "--target-arn", arn,
        "--timezone", "Europe/Berlin", "--window", "10", "--description", "every 5 minutes",
    )  # fmt: skip
    assert (made["name"], made["group"], made["timezone"]) == ("report", "default", "Europe/Berlin")
    assert made["expression"] == "rate(5 minutes)" and made["description"] == "every 5 minutes"
    assert made["flexible_window"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 10}
    assert made["target"]["Arn"] == arn and made["state"] == "ENABLED"
    assert cli.json("schedules", "get", "report") == made
    shown = cli.ok("schedules", "get", "report").stdout
    assert "schedule default/report" in shown and "10 min" in shown and arn in shown

    nightly_options = ["--expression", "cron(0 2 * * ? *)", "--target-arn", arn, "--group", "ops"]
    cli.ok("schedules", "put", "nightly", *nightly_options, "--disabled")
    table = cli.ok("schedules", "list").stdout
    assert "report" in table and "Europe/Berlin" in table and "nightly" not in table
    [nightly] = cli.json("schedules", "list", "--group", "ops")["items"]
    assert (nightly["name"], nightly["state"]) == ("nightly", "DISABLED")
    assert nightly["flexible_window"] == {"Mode": "OFF"}

    assert cli.ok("schedules", "delete", "report").stdout == "deleted schedule report\n"
    missing = cli("schedules", "get", "report")
    assert missing.exit_code == 1
    assert missing.stderr == "error: NotFound: Schedule report does not exist.\n"
    cli.ok("schedules", "delete", "nightly", "--group", "ops")
    assert "no schedules" in cli.ok("schedules", "list", "--group", "ops").stdout


# Waits ~5 s for the schedule to fire: firing is checked on both backends by the API and integration
# tests (tests/e2e/api/test_schedules_api.py, tests/integration/events/test_schedules.py).
@pytest.mark.one_backend
def test_a_schedule_runs_its_function_with_its_input(shop: Member, outbox: Path, tmp_path: Path) -> None:
    payload = tmp_path / "input.json"
    payload.write_text(json.dumps({"report": "daily"}))
    at = (utcnow() + dt.timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%S")
    arn = function_arn(shop, "recorder")
    options = ["--expression", f"at({at})", "--target-arn", arn, "--input", f"@{payload}"]
    shop.cli.ok("schedules", "put", "soon", *options)
    wait_until(lambda: len(received(outbox)) == 1, timeout=20)
    assert received(outbox)[0]["event"] == {"report": "daily"}


@pytest.mark.parametrize(
    ("options", "exit_code", "words"),
    [
        ({"--expression": "cron(0 9 * * * *)"}, 1, "error: InvalidSchedule: cron(0 9 * * * *): "),
        ({"--timezone": "Mars/Olympus"}, 1, "unknown time zone 'Mars/Olympus'"),
        ({"--target-arn": "arn:silo:lambda:local:123456789012:function:f"}, 1, "Target.Arn: "),
        ({"--window": "0"}, 2, "--window"),
    ],
    ids=["bad cron", "bad time zone", "another account's function", "empty window"],
)
def test_bad_schedules_are_reported(
    member: Member, options: dict[str, str], exit_code: int, words: str
) -> None:
    given = {"--expression": "rate(1 hour)", "--target-arn": function_arn(member, "report"), **options}
    result = member.cli("schedules", "put", "x", *(part for option in given.items() for part in option))
    assert result.exit_code == exit_code and words in result.stderr, result.stderr
    assert member.cli.json("schedules", "list")["items"] == []
