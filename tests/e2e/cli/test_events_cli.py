"""``silo events test-pattern``: local (no server, no key), {"matches": ...} on stdout, exit 2 on bad
input with the error named on stderr, ``@path`` for either argument, the same words as the API."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from silo.cli import client as client_module
from silo.platform import Platform
from tests.e2e.api.conftest import TestClient
from tests.e2e.api.test_events_api import BIG_ORDERS, EVENT
from tests.e2e.cli.conftest import Cli, Member


@pytest.fixture
def local(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Cli:
    """The CLI with no key, no root key file and no server: any HTTP request fails the test."""

    def no_server(endpoint: str) -> httpx.Client:
        raise AssertionError(f"silo events test-pattern talked to {endpoint}")

    monkeypatch.setattr(client_module, "make_http_client", no_server)
    monkeypatch.setenv("SILO_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("SILO_HOME", str(tmp_path / "no-home"))
    monkeypatch.delenv("SILO_KEY", raising=False)
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
