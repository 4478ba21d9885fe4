"""parse_schedule: the fixture cases (valid and invalid), then caching, equality and the error shape."""

from __future__ import annotations

from typing import Any

import pytest

from silo.errors import ValidationError
from silo.schedules import (
    AtSchedule,
    FlexibleTimeWindow,
    InvalidSchedule,
    RateSchedule,
    Schedule,
    parse_schedule,
)
from tests.unit.schedules._fixtures import cases

_KEYS = {"name", "expression", "timezone", "kind", "period_s", "field", "message"}


@pytest.mark.parametrize("case", cases("expressions.yaml", _KEYS))
def test_expression(case: dict[str, Any]) -> None:
    timezone = case.get("timezone", "UTC")
    if "field" in case:
        with pytest.raises(InvalidSchedule) as caught:
            parse_schedule(case["expression"], timezone=timezone)
        assert caught.value.field == case["field"], caught.value.message
        assert case["message"] in caught.value.message
        assert caught.value.message.startswith(case["expression"].strip() + ": ") or not case["expression"]
        return
    schedule = parse_schedule(case["expression"], timezone=timezone)
    assert schedule.kind == case["kind"]
    assert schedule.expression == case["expression"].strip()
    assert schedule.timezone == timezone
    if "period_s" in case:
        assert isinstance(schedule, RateSchedule)
        assert schedule.period_s == case["period_s"]


def test_an_invalid_schedule_is_a_validation_error_with_details() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_schedule("cron(0 0 ? * 8 *)")
    error = caught.value
    assert isinstance(error, InvalidSchedule)
    assert error.code == "InvalidSchedule"
    assert error.http_status == 400
    assert error.to_dict() == {
        "code": "InvalidSchedule",
        "message": "cron(0 0 ? * 8 *): day-of-week field '8' is not valid; "
        "use 1-7 or SUN-SAT with , - * ? L #",
        "details": {"expression": "cron(0 0 ? * 8 *)", "field": "day-of-week"},
    }


def test_a_non_string_expression_is_refused() -> None:
    with pytest.raises(InvalidSchedule, match="is a string, not int"):
        parse_schedule(5)  # type: ignore[arg-type]


def test_parsing_is_cached_so_keys_share_one_object() -> None:
    first = parse_schedule("rate(5 minutes)")
    assert parse_schedule("rate(5 minutes)") is first
    assert parse_schedule(" rate(5 minutes)") is first
    assert parse_schedule("rate(5 minutes)", jitter=False) is not first
    assert parse_schedule("rate(5 minutes)", timezone="Europe/Berlin") is not first


def test_equal_schedules_hash_equal_and_differ_by_every_part() -> None:
    base = parse_schedule("cron(0 9 * * ? *)", timezone="Europe/Berlin")
    variants: list[Schedule] = [
        parse_schedule("cron(0 9 * * ? *)"),
        parse_schedule("cron(0 10 * * ? *)", timezone="Europe/Berlin"),
        parse_schedule("cron(0 9 * * ? *)", timezone="Europe/Berlin", window=FlexibleTimeWindow.flexible(5)),
    ]
    assert len({base, *variants}) == 4
    rate = parse_schedule("rate(1 hour)")
    assert rate != parse_schedule("rate(1 hour)", jitter=False)
    assert rate != "rate(1 hour)"
    assert repr(base) == "CronSchedule('cron(0 9 * * ? *)', timezone='Europe/Berlin')"
    assert repr(variants[2]).endswith("window=5m)")


def test_rate_and_at_carry_their_parts() -> None:
    rate = parse_schedule("rate(12 hours)")
    assert isinstance(rate, RateSchedule)
    assert (rate.value, rate.unit, rate.period_s, rate.jitter) == (12, "hours", 43200, True)
    at = parse_schedule("at(2030-01-01T09:00:00)", timezone="Asia/Tokyo")
    assert isinstance(at, AtSchedule)
    assert at.instant_s == 1893456000  # 2030-01-01T00:00:00Z: 09:00 in Tokyo (UTC+9)
