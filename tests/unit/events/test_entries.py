"""PutEvents entries: the fixture table (fixtures/entries.yaml), then sizes and limits."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from silo.events import MAX_ENTRY_BYTES, InvalidEntry, build_event, check_entry, entry_size
from tests.unit.events._fixtures import load

NOW = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
_KEYS = {"name", "entry", "event", "fields", "error"}


def _build(entry: Any) -> dict[str, Any]:
    return build_event(
        entry, account="123456789012", region="local", event_bus="orders", now=NOW, event_id="e-1"
    )


@pytest.mark.parametrize("case", [pytest.param(case, id=case["name"]) for case in load("entries.yaml")])
def test_entry(case: dict[str, Any]) -> None:
    assert set(case) <= _KEYS and len(set(case) & {"event", "fields", "error"}) == 1, case["name"]
    if "error" in case:
        calls = (_build,) if case["error"].get("bus") else (check_entry, _build)  # the bus: build only
        for call in calls:
            with pytest.raises(InvalidEntry) as caught:
                call(case["entry"])
            problem = caught.value
            assert problem.field == case["error"]["field"], problem.message
            assert case["error"]["message"] in problem.reason, problem.message
            assert problem.error_code == case["error"]["code"]
            assert problem.message.startswith(f"{problem.field}: ")
            assert problem.code == "InvalidEventEntry" and problem.http_status == 400
        return
    check_entry(case["entry"])
    event = _build(case["entry"])
    if "event" in case:
        assert event == case["event"]
        assert list(event) == list(case["event"])  # the envelope's key order, as EventBridge writes it
    for key, value in case.get("fields", {}).items():
        assert event[key] == value, key


def _entry(detail_bytes: int, **extra: Any) -> dict[str, Any]:
    filler = "x" * (detail_bytes - len('{"a":""}'))
    return {"Source": "s", "DetailType": "t", "Detail": f'{{"a":"{filler}"}}', **extra}


def test_size_as_eventbridge_counts_it() -> None:
    entry = {"Source": "söurce", "DetailType": "t", "Detail": '{"k":"é"}', "Resources": ["r1", "r22"]}
    assert entry_size(entry) == len("söurce".encode()) + 1 + len('{"k":"é"}'.encode()) + 2 + 3
    assert entry_size({**entry, "Time": "2024-01-01T00:00:00Z"}) == entry_size(entry) + 14


def test_size_limit_is_256_kb_inclusive() -> None:
    at_limit = _entry(MAX_ENTRY_BYTES - 2)  # Source and DetailType are one byte each
    assert entry_size(at_limit) == MAX_ENTRY_BYTES == 262_144
    check_entry(at_limit)
    with pytest.raises(InvalidEntry) as caught:
        check_entry(_entry(MAX_ENTRY_BYTES - 1))
    assert caught.value.field == "Entry" and "262145 bytes" in caught.value.reason
    with pytest.raises(InvalidEntry, match="262158 bytes"):
        check_entry(_entry(MAX_ENTRY_BYTES - 2, Time="2024-01-01T00:00:00Z"))


@pytest.mark.parametrize(("field", "limit"), [("Source", 256), ("DetailType", 128)])
def test_text_field_lengths(field: str, limit: int) -> None:
    entry = {"Source": "s", "DetailType": "t", "Detail": "{}"}
    check_entry({**entry, field: "x" * limit})
    with pytest.raises(InvalidEntry, match=f"longer than {limit}") as caught:
        check_entry({**entry, field: "x" * (limit + 1)})
    assert caught.value.field == field


def test_time_as_datetime() -> None:
    moment = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    event = _build({"Source": "s", "DetailType": "t", "Detail": "{}", "Time": moment})
    assert event["time"] == "2024-01-02T08:04:05Z"
    naive_now = build_event(
        {"Source": "s", "DetailType": "t", "Detail": "{}"},
        account="1",
        region="r",
        event_bus="b",
        now=dt.datetime(2024, 1, 2, 3, 4, 5),
        event_id="x",
    )
    assert naive_now["time"] == "2024-01-02T03:04:05Z"


def test_entry_must_be_an_object() -> None:
    with pytest.raises(InvalidEntry, match="an entry must be an object"):
        check_entry(["Source", "s"])  # type: ignore[arg-type]


def test_deeply_nested_detail_is_malformed_not_a_crash() -> None:
    detail = "[" * 100_000 + "]" * 100_000
    with pytest.raises(InvalidEntry) as caught:
        check_entry({"Source": "s", "DetailType": "t", "Detail": '{"a": ' + detail + "}"})
    assert caught.value.error_code == "MalformedDetail"


def test_envelope_is_independent_of_the_entry() -> None:
    entry = {"Source": "s", "DetailType": "t", "Detail": "{}", "Resources": ["r"]}
    event = _build(entry)
    event["resources"].append("other")
    assert entry["Resources"] == ["r"]
