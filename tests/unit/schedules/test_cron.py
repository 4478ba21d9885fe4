"""Fire times: the cron fixture cases (AWS's examples, L, W, #, years, DST), then at() and rate()
against the clock and the time zone."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from silo.schedules import parse_schedule
from tests.unit.schedules._fixtures import cases, utc

_KEYS = {"name", "expression", "timezone", "after", "next", "ends"}


@pytest.mark.parametrize("case", cases("cron.yaml", _KEYS))
def test_cron(case: dict[str, Any]) -> None:
    schedule = parse_schedule(case["expression"], timezone=case.get("timezone", "UTC"))
    moment = utc(case["after"])
    fired: list[datetime] = []
    for _ in case["next"]:
        following = schedule.next_after(moment)
        assert following is not None, f"stopped after {fired}"
        fired.append(following)
        moment = following
    assert fired == [utc(expected) for expected in case["next"]]
    if case.get("ends"):
        assert schedule.next_after(moment) is None


def test_results_are_aware_utc_datetimes_and_any_aware_input_works() -> None:
    schedule = parse_schedule("cron(0 10 * * ? *)")
    noon_in_berlin = datetime.fromisoformat("2025-01-01T12:00:00+01:00")
    following = schedule.next_after(noon_in_berlin)
    assert following == datetime(2025, 1, 2, 10, tzinfo=UTC)
    assert following is not None and following.tzinfo is UTC


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        parse_schedule("rate(5 minutes)").next_after(datetime(2025, 1, 1))


def test_any_instant_within_a_minute_gives_the_same_next_minute() -> None:
    schedule = parse_schedule("cron(* * * * ? *)")
    start = datetime(2025, 1, 1, 10, tzinfo=UTC)
    for second in (0, 1, 30, 59):
        assert schedule.next_after(start + timedelta(seconds=second)) == start + timedelta(minutes=1)
    assert schedule.next_after(start - timedelta(seconds=1)) == start


def test_an_offset_shifts_cron_fire_times() -> None:
    schedule = parse_schedule("cron(* * * * ? *)")
    start = datetime(2025, 1, 1, 10, tzinfo=UTC)
    assert schedule.next_after(start + timedelta(seconds=20), offset_s=30) == start + timedelta(seconds=30)
    assert schedule.next_after(start + timedelta(seconds=40), offset_s=30) == start + timedelta(seconds=90)


def test_at_fires_once_at_its_local_time() -> None:
    schedule = parse_schedule("at(2025-07-01T09:00:00)", timezone="Europe/Berlin")
    assert schedule.next_after(datetime(2025, 1, 1, tzinfo=UTC)) == datetime(2025, 7, 1, 7, tzinfo=UTC)
    seven = datetime(2025, 7, 1, 7, tzinfo=UTC)
    assert schedule.next_after(seven - timedelta(seconds=1)) == seven
    assert schedule.next_after(datetime(2025, 7, 1, 7, tzinfo=UTC)) is None


def test_at_a_repeated_local_time_means_its_first_occurrence() -> None:
    schedule = parse_schedule("at(2025-11-02T01:30:00)", timezone="America/New_York")
    assert schedule.next_after(datetime(2025, 11, 1, tzinfo=UTC)) == datetime(2025, 11, 2, 5, 30, tzinfo=UTC)


def test_at_in_winter_and_summer_time() -> None:
    winter = parse_schedule("at(2025-01-15T12:00:00)", timezone="America/New_York")
    summer = parse_schedule("at(2025-07-15T12:00:00)", timezone="America/New_York")
    start = datetime(2025, 1, 1, tzinfo=UTC)
    assert winter.next_after(start) == datetime(2025, 1, 15, 17, tzinfo=UTC)
    assert summer.next_after(start) == datetime(2025, 7, 15, 16, tzinfo=UTC)


def test_rate_counts_real_time_across_dst() -> None:
    """EventBridge Scheduler: a day is 24 hours even when the clocks make it 23 or 25."""
    schedule = parse_schedule("rate(1 day)", timezone="America/New_York", jitter=False)
    moment = datetime(2025, 3, 7, 12, tzinfo=UTC)
    fired: list[datetime] = []
    for _ in range(4):
        following = schedule.next_after(moment)
        assert following is not None
        fired.append(following)
        moment = following
    assert [b - a for a, b in itertools.pairwise(fired)] == [timedelta(days=1)] * 3
    assert {moment.hour for moment in fired} == {0}


def test_unjittered_rate_falls_on_multiples_of_its_period() -> None:
    schedule = parse_schedule("rate(5 minutes)", jitter=False)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    assert schedule.next_after(start) == start + timedelta(minutes=5)
    assert schedule.next_after(start + timedelta(seconds=299)) == start + timedelta(minutes=5)
    assert schedule.next_after(start + timedelta(seconds=300)) == start + timedelta(minutes=10)
    assert schedule.next_after(start, offset_s=7) == start + timedelta(seconds=7)


def test_a_zone_offset_with_seconds_is_exact_within_the_minute() -> None:
    """Liberia kept UTC-00:44:30 until 1972: local :00 falls at :30 seconds past a UTC minute."""
    hourly = parse_schedule("cron(0 * * * ? *)", timezone="Africa/Monrovia")
    fire = datetime(1971, 1, 1, 0, 44, 30, tzinfo=UTC)
    assert hourly.next_after(fire - timedelta(seconds=20)) == fire
    assert hourly.next_after(fire + timedelta(seconds=10)) == fire + timedelta(hours=1)
    assert hourly.next_after(fire - timedelta(seconds=1)) == fire
