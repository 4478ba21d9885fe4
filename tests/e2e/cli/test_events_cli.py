"""``silo events``: buses, rules, targets, put and metrics through the API (the README's flow reaches the
function), tables and ``--json``, errors on stderr with exit 1 (2 for bad arguments); ``test-pattern``
local (no server, no key), {"matches": ...} on stdout, exit 2 on bad input with the error named on
stderr, ``@path`` for either argument, the same words as the API."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from silo.cli import client as client_module
from silo.platform import Platform
from tests.e2e.api.conftest import TestClient
from tests.e2e.api.test_events_api import BIG_ORDERS, EVENT
from tests.e2e.cli.conftest import Cli, Member
from tests.helpers.functions import wait_until
from tests.integration.events.test_delivery import RECORDER, entry, received


@pytest.fixture
def local(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Cli:
    """The CLI with no key, no root key file and no server: any HTTP request fails the test."""

    def no_server(endpoint: str) -> httpx.Client:
        raise AssertionError(f"silo events test-pattern talked to {endpoint}")

    monkeypatch.setattr(client_module, "make_http_client", no_server)
    monkeypatch.setenv("SILO_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("SILO_HOME", str(tmp_path / "no-home"))
    monkeypatch.delenv("SILO_KEY", raising=False)
    monkeypatch.setenv("COLUMNS", "300")  # usage errors name long tmp paths: keep them on one line
    return Cli(key=None)


def _test(cli: Cli, pattern: object, event: object) -> tuple[int, str, str]:
    as_text = [value if isinstance(value, str) else json.dumps(value) for value in (pattern, event)]
    result = cli("events", "test-pattern", "--pattern", as_text[0], "--event", as_text[1])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("pattern", "matches"),
    [
        (BIG_ORDERS, True),
        ({"detail": {"total": [{"numeric": [">", 1000]}]}}, False),
        ({"source": [{"prefix": "com.example."}], "detail-type": ["Order Placed"]}, True),
        ({"detail": {"items": {"sku": [{"anything-but": "A-1"}]}}}, False),
    ],
    ids=["numeric", "numeric too low", "prefix", "anything-but"],
)
def test_prints_whether_the_pattern_matches(local: Cli, pattern: object, matches: bool) -> None:
    assert _test(local, pattern, EVENT) == (0, json.dumps({"matches": matches}) + "\n", "")


def test_an_invalid_pattern_exits_2_naming_where(local: Cli) -> None:
    code, out, err = _test(local, {"detail": {"total": [{"numeric": ["<", "x"]}]}}, EVENT)
    assert (code, out) == (2, "")
    assert err == "error: InvalidEventPattern: detail.total[0]: Value of < must be numeric\n"
    code, out, err = _test(local, '{"source": ["shop"]', EVENT)
    assert (code, out) == (2, "") and err.startswith("error: InvalidEventPattern: Filter is not valid JSON")


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ("{not json", "not JSON: Expecting property name enclosed in double quotes (line 1, column 2)"),
        ([EVENT], "it must be a JSON object, not an array"),
        (
            {k: v for k, v in EVENT.items() if k not in ("id", "time")},
            "missing id, time (required: id, account, source, time, region, detail-type)",
        ),
    ],
    ids=["not JSON", "not an object", "not an event"],
)
def test_an_invalid_event_exits_2_naming_what_is_wrong(local: Cli, event: object, reason: str) -> None:
    code, out, err = _test(local, BIG_ORDERS, event)
    assert (code, out) == (2, "")
    assert err == f"error: ValidationError: event: Parameter Event is not valid: {reason}\n"


def test_resources_and_detail_are_not_required(local: Cli) -> None:
    bare = {k: v for k, v in EVENT.items() if k not in ("resources", "detail", "version")}
    assert _test(local, {"source": ["com.example.shop"]}, bare)[:2] == (0, '{"matches": true}\n')


def test_json_is_accepted_and_the_last_line_is_the_answer(local: Cli) -> None:
    result = local(
        "events", "test-pattern", "--json", "--pattern", json.dumps(BIG_ORDERS), "--event", json.dumps(EVENT)
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"matches": True}


def test_at_path_reads_either_argument_from_a_file(local: Cli, tmp_path: Path) -> None:
    pattern, event = tmp_path / "pattern.json", tmp_path / "event.json"
    pattern.write_text(json.dumps(BIG_ORDERS, indent=2) + "\n")
    event.write_text(json.dumps(EVENT, indent=2) + "\n")
    assert _test(local, f"@{pattern}", f"@{event}")[:2] == (0, '{"matches": true}\n')
    assert _test(local, BIG_ORDERS, f"@{event}")[:2] == (0, '{"matches": true}\n')
    code, out, err = _test(local, f"@{tmp_path / 'missing.json'}", EVENT)
    assert (code, out) == (2, "") and "--pattern" in err and "missing.json" in err


def test_the_api_gives_the_same_answers_and_words(served: Platform, member: Member) -> None:
    from silo.api import create_app

    client = TestClient(create_app(served))
    headers = {"Authorization": f"Bearer {member.cli.key}"}
    for pattern, event in [
        (BIG_ORDERS, EVENT),
        ({"source": ["elsewhere"]}, EVENT),
        ({"source": "shop"}, EVENT),
        (BIG_ORDERS, {"source": "com.example.shop"}),
    ]:
        code, out, err = _test(member.cli, pattern, event)
        answer = client.post(
            "/v1/account/events/test-pattern", json={"pattern": pattern, "event": event}, headers=headers
        )
        if code == 0:
            assert answer.status_code == 200 and answer.json() == json.loads(out)
        else:
            error = answer.json()
            assert answer.status_code == 400 and err == f"error: {error['code']}: {error['message']}\n"


# --- buses, rules, targets, put, metrics (through the API) ----------------------------------------
def function_arn(member: Member, name: str) -> str:
    return f"arn:silo:lambda:local:{member.account_id}:function:{name}"


def deploy_recorder(member: Member, source: Callable[[str], Path], outbox: Path) -> Member:
    """``member`` with the function "recorder", which appends what it gets to ``outbox``."""
    code = str(source(RECORDER))
    create = ["functions", "create", "recorder", "--handler", "app.handler", "--code", code]
    member.cli.ok(*create, "--env", f"OUT={outbox}")
    return member


@pytest.fixture
def shop(member: Member, source: Callable[[str], Path], outbox: Path) -> Member:
    return deploy_recorder(member, source, outbox)


def test_the_readme_flow_delivers_an_event_to_the_function(shop: Member, outbox: Path) -> None:
    cli = shop.cli
    pattern = '{"source": ["shop"], "detail": {"total": [{"numeric": [">", 100]}]}}'
    rule = cli.json("events", "rules", "put", "big-orders", "--pattern", pattern)
    assert rule["event_pattern"] == json.loads(pattern) and rule["state"] == "ENABLED"
    target = json.dumps({"Id": "scan", "Arn": function_arn(shop, "recorder")})
    put = cli.ok("events", "targets", "put", "big-orders", "--target", target).stdout
    assert "scan" in put and function_arn(shop, "recorder") in put
    entries = [json.dumps(entry({"total": 150})), json.dumps(entry({"total": 1}))]
    sent = cli.ok("events", "put", "--entry", entries[0], "--entry", entries[1]).stdout
    header, _, *rows = (line.replace("┃", " ").replace("│", " ").split() for line in sent.splitlines())
    assert header == ["ENTRY", "EVENT", "ID", "ERROR", "MESSAGE"]
    assert [(row[0], row[2:]) for row in rows] == [("0", ["-", "-"]), ("1", ["-", "-"])]  # ids, no errors
    wait_until(lambda: len(received(outbox)) == 1)
    assert received(outbox)[0]["event"]["detail"] == {"total": 150}  # type: ignore[index]

    wait_until(lambda: "Invocations" in cli.json("events", "metrics", "big-orders")["metrics"])
    table = cli.ok("events", "metrics", "big-orders", "--since-minutes", "10").stdout
    assert "MatchedEvents" in table and "Invocations" in table
    assert cli.json("events", "metrics", "big-orders", "--since-minutes", "10")["minutes"] == 10


def test_buses_create_list_describe_delete(member: Member) -> None:
    cli = member.cli
    made = cli.json("events", "buses", "create", "orders/eu", "--description", "EU orders")
    assert (made["name"], made["description"]) == ("orders/eu", "EU orders")
    assert cli.json("events", "buses", "describe", "orders/eu") == made
    assert "event bus orders/eu" in cli.ok("events", "buses", "describe", "orders/eu").stdout
    listed = cli.ok("events", "buses", "list").stdout
    assert "default" in listed and "orders/eu" in listed and "EU orders" in listed
    listed_json = cli.json("events", "buses", "list", "--all")["items"]
    assert [b["name"] for b in listed_json] == ["default", "orders/eu"]
    assert cli.ok("events", "buses", "delete", "orders/eu").stdout == "deleted event bus orders/eu\n"
    missing = cli("events", "buses", "describe", "orders/eu")
    assert missing.exit_code == 1
    assert missing.stderr == "error: NotFound: Event bus orders/eu does not exist.\n"


def test_rules_put_list_describe_enable_disable_delete(member: Member, tmp_path: Path) -> None:
    cli = member.cli
    pattern = tmp_path / "pattern.json"
    pattern.write_text(json.dumps({"source": ["shop"]}))
    cli.ok("events", "buses", "create", "orders")
    made = cli.json(
        "events", "rules", "put", "a-1", "--pattern", f"@{pattern}", "--bus", "orders", "--disabled",
        "--description", "first",
    )  # fmt: skip
    assert (made["bus"], made["state"], made["description"]) == ("orders", "DISABLED", "first")
    cli.ok("events", "rules", "put", "a-2", "--pattern", f"@{pattern}", "--bus", "orders")
    cli.ok("events", "rules", "put", "b-1", "--pattern", f"@{pattern}", "--bus", "orders")
    nightly = cli.json("events", "rules", "put", "nightly", "--schedule", "cron(0 2 * * ? *)")
    assert nightly["schedule_expression"] == "cron(0 2 * * ? *)" and nightly["bus"] == "default"

    listed = cli.json("events", "rules", "list", "--bus", "orders", "--prefix", "a-")["items"]
    assert [r["name"] for r in listed] == ["a-1", "a-2"]
    table = cli.ok("events", "rules", "list", "--bus", "orders").stdout
    assert "DISABLED" in table and '{"source":["shop"]}' in table and "b-1" in table
    assert "nightly" in cli.ok("events", "rules", "list").stdout
    shown = cli.ok("events", "rules", "describe", "a-1", "--bus", "orders").stdout
    assert "rule a-1 on orders" in shown and '"shop"' in shown
    assert cli.ok("events", "rules", "enable", "a-1", "--bus", "orders").stdout == "rule a-1 is ENABLED\n"
    assert cli.json("events", "rules", "disable", "a-1", "--bus", "orders")["state"] == "DISABLED"

    cli.ok("events", "rules", "delete", "a-2", "--bus", "orders")
    target = json.dumps({"Id": "t", "Arn": function_arn(member, "anything")})
    cli.ok("events", "targets", "put", "a-1", "--bus", "orders", "--target", target)
    refused = cli("events", "rules", "delete", "a-1", "--bus", "orders")
    assert refused.exit_code == 1 and "still has targets" in refused.stderr
    forced = cli.ok("events", "rules", "delete", "a-1", "--bus", "orders", "--force").stdout
    assert forced == "deleted rule a-1\n"
    assert [r["name"] for r in cli.json("events", "rules", "list", "--bus", "orders")["items"]] == ["b-1"]

    neither = cli("events", "rules", "put", "x")
    assert neither.exit_code == 2 and "--pattern, --schedule, or both" in neither.stderr
    bad = cli("events", "rules", "put", "x", "--pattern", '{"detail": {"n": [{"numeric": ["<", "x"]}]}}')
    assert bad.exit_code == 1
    assert bad.stderr == "error: InvalidEventPattern: detail.n[0]: Value of < must be numeric\n"


def test_targets_put_list_remove(member: Member, tmp_path: Path) -> None:
    cli = member.cli
    cli.ok("events", "rules", "put", "r", "--pattern", '{"source": ["shop"]}')
    many = tmp_path / "targets.json"
    many.write_text(json.dumps([{"Id": f"t{n}", "Arn": function_arn(member, "f")} for n in (1, 2)]))
    transformer = {"InputPathsMap": {"n": "$.detail.n"}, "InputTemplate": '{"n": <n>}'}
    third = {"Id": "t3", "Arn": function_arn(member, "f"), "InputTransformer": transformer}
    put = cli.json("events", "targets", "put", "r", "--target", f"@{many}", "--target", json.dumps(third))
    assert [t["Id"] for t in put["items"]] == ["t1", "t2", "t3"]
    assert put["items"][2]["InputTransformer"] == transformer
    table = cli.ok("events", "targets", "list", "r").stdout
    assert "t1" in table and "InputTransformer" in table and "185" in table
    removed = cli.ok("events", "targets", "remove", "r", "t1", "t2", "ghost").stdout
    assert removed == "removed 2 of 3 from rule r\n"
    assert [t["Id"] for t in cli.json("events", "targets", "list", "r")["items"]] == ["t3"]

    elsewhere = json.dumps({"Id": "x", "Arn": "arn:silo:lambda:local:123456789012:function:f"})
    foreign = cli("events", "targets", "put", "r", "--target", elsewhere)
    assert foreign.exit_code == 1 and foreign.stderr.startswith("error: ValidationError: Targets[0].Arn: ")
    not_json = cli("events", "targets", "put", "r", "--target", "{Id: x}")
    assert not_json.exit_code == 2 and "not JSON" in not_json.stderr
    missing = cli("events", "targets", "list", "ghost")
    assert missing.exit_code == 1 and "Rule ghost does not exist" in missing.stderr


def test_put_prints_each_entry_and_exits_1_when_one_failed(member: Member, tmp_path: Path) -> None:
    cli = member.cli
    entries = tmp_path / "entries.json"
    entries.write_text(json.dumps([entry({"n": 1}), entry({"n": 2})]))
    answer = cli.json("events", "put", "--entry", f"@{entries}")
    assert answer["failed_entry_count"] == 0 and [set(e) for e in answer["entries"]] == [{"EventId"}] * 2

    bad = {"Source": "shop", "DetailType": "Order", "Detail": "not json"}
    failed = cli("events", "put", "--entry", json.dumps(entry({"n": 3})), "--entry", json.dumps(bad))
    assert failed.exit_code == 1 and failed.stderr == "error: 1 of 2 entries failed\n"
    assert "MalformedDetail" in failed.stdout
    as_json = cli("events", "put", "--entry", json.dumps(bad), "--json")
    assert as_json.exit_code == 1 and json.loads(as_json.stdout)["failed_entry_count"] == 1
