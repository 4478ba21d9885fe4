"""FlexibleTimeWindow: validation as EventBridge Scheduler does it, and offsets that stay inside."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from silo.schedules import FlexibleTimeWindow, InvalidSchedule, parse_schedule, schedule_key


def _keys(count: int) -> list[str]:
    return [schedule_key("123456789012", f"job-{number}") for number in range(count)]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"Mode": "OFF", "MaximumWindowInMinutes": 5},
            "MaximumWindowInMinutes",
            "only valid with Mode FLEXIBLE",
        ),
        ({"Mode": "FLEXIBLE"}, "MaximumWindowInMinutes", "needs MaximumWindowInMinutes (1-1440)"),
        (
            {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 0},
            "MaximumWindowInMinutes",
            "0 is out of range 1-1440",
        ),
        (
            {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 1441},
            "MaximumWindowInMinutes",
            "1441 is out of range",
        ),
        ({"Mode": "FLEXIBLE", "MaximumWindowInMinutes": "15"}, "MaximumWindowInMinutes", "needs"),
        ({"Mode": "FLEXIBLE", "MaximumWindowInMinutes": True}, "MaximumWindowInMinutes", "needs"),
        ({"Mode": "ON"}, "Mode", "Mode 'ON' is not one of OFF, FLEXIBLE"),
        ({}, "Mode", "needs Mode"),
        ({"Mode": "OFF", "Window": 5}, "Window", "unknown FlexibleTimeWindow keys ['Window']"),
    ],
)
def test_invalid_windows(data: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(InvalidSchedule) as caught:
        FlexibleTimeWindow.from_dict(data)
    assert caught.value.field == field
    assert message in caught.value.message


@pytest.mark.parametrize(
    "data",
    [
        {"Mode": "OFF"},
        {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 1},
        {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 1440},
    ],
)
def test_valid_windows_round_trip(data: dict[str, Any]) -> None:
    window = FlexibleTimeWindow.from_dict(data)
    assert window.to_dict() == data
    assert window.span_s == 60 * data.get("MaximumWindowInMinutes", 0)


@pytest.mark.parametrize("minutes", [1, 15, 1440])
def test_cron_fires_within_its_window_after_the_nominal_time(minutes: int) -> None:
    hourly = parse_schedule("cron(0 * * * ? *)", window=FlexibleTimeWindow.flexible(minutes))
    nominal = datetime(2025, 1, 1, 1, tzinfo=UTC)
    offsets = []
    for key in _keys(3000):
        offset = hourly.offset_for(key)
        fire = nominal + timedelta(seconds=offset)
        assert hourly.next_after(fire - timedelta(seconds=1), offset_s=offset) == fire
        assert hourly.next_after(fire, offset_s=offset) == fire + timedelta(hours=1)
        offsets.append(offset)
    assert min(offsets) >= 0 and max(offsets) < 60 * minutes
    # spread over the window, not bunched at its start
    assert max(offsets) > 0.95 * 60 * minutes and min(offsets) < 0.05 * 60 * minutes


def test_at_fires_within_its_window() -> None:
    once = parse_schedule("at(2030-01-01T00:00:00)", window=FlexibleTimeWindow.flexible(10))
    instant = datetime(2030, 1, 1, tzinfo=UTC)
    for key in _keys(500):
        fire = once.next_after(instant - timedelta(days=1), offset_s=once.offset_for(key))
        assert fire is not None and instant <= fire < instant + timedelta(minutes=10)


def test_an_unjittered_rate_uses_its_window_and_a_jittered_one_its_period() -> None:
    window = FlexibleTimeWindow.flexible(2)
    unjittered = parse_schedule("rate(1 hour)", window=window, jitter=False)
    jittered = parse_schedule("rate(1 hour)", window=window)
    assert max(unjittered.offset_for(key) for key in _keys(2000)) < 120
    assert max(jittered.offset_for(key) for key in _keys(2000)) > 3000
