"""ScheduleWheel: order, re-arming, removal, replacement, one-time schedules, late callers,
interning, stale entries, and a random run against a plain reference model."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from silo.schedules import FlexibleTimeWindow, ScheduleWheel, parse_schedule, schedule_key

START = datetime(2025, 1, 1, tzinfo=UTC)
EVERY_MINUTE = parse_schedule("rate(1 minute)", jitter=False)


def _at(seconds: int) -> datetime:
    return START + timedelta(seconds=seconds)


def test_an_empty_wheel_has_nothing_due() -> None:
    wheel = ScheduleWheel()
    assert wheel.next_due() is None
    assert wheel.pop_due(START) == []
    assert len(wheel) == 0
    assert not wheel.remove("123456789012/none")


def test_pops_by_fire_time_then_key_and_rearms() -> None:
    wheel = ScheduleWheel()
    hourly = parse_schedule("cron(0 * * * ? *)")
    for key in ("b", "a", "c"):
        assert wheel.add(key, EVERY_MINUTE, now=START) == _at(60)
    assert wheel.add("hourly", hourly, now=START) == _at(3600)
    assert wheel.add("once", parse_schedule("at(2025-01-01T00:00:30)"), now=START) == _at(30)
    assert len(wheel) == 5 and "a" in wheel and "z" not in wheel
    assert wheel.next_due() == _at(30)
    assert wheel.pop_due(_at(29)) == []
    assert wheel.pop_due(_at(30)) == [("once", _at(30))]
    assert "once" not in wheel and len(wheel) == 4
    assert wheel.pop_due(_at(60)) == [("a", _at(60)), ("b", _at(60)), ("c", _at(60))]
    assert wheel.due("a") == _at(120)
    assert wheel.next_due() == _at(120)
    popped = []
    while (due := wheel.next_due()) is not None and due <= _at(3600):
        popped.extend(wheel.pop_due(due))
    assert popped[-4:] == [("a", _at(3600)), ("b", _at(3600)), ("c", _at(3600)), ("hourly", _at(3600))]
    assert len(popped) == 3 * 59 + 1


def test_a_removed_key_never_fires() -> None:
    wheel = ScheduleWheel()
    wheel.add("keep", EVERY_MINUTE, now=START)
    wheel.add("drop", EVERY_MINUTE, now=START)
    assert wheel.remove("drop")
    assert not wheel.remove("drop")
    assert wheel.due("drop") is None
    assert wheel.pop_due(_at(600)) == [("keep", _at(60))]


def test_adding_a_key_again_replaces_its_schedule() -> None:
    wheel = ScheduleWheel()
    wheel.add("job", EVERY_MINUTE, now=START)
    wheel.add("job", parse_schedule("rate(5 minutes)", jitter=False), now=START)
    wheel.add("job", parse_schedule("rate(5 minutes)", jitter=False), now=START)
    assert len(wheel) == 1
    assert wheel.next_due() == _at(300)
    assert wheel.pop_due(_at(300)) == [("job", _at(300))]
    assert wheel.pop_due(_at(599)) == []


def test_a_schedule_that_never_fires_is_not_kept() -> None:
    wheel = ScheduleWheel()
    wheel.add("job", EVERY_MINUTE, now=START)
    assert wheel.add("job", parse_schedule("at(2024-01-01T00:00:00)"), now=START) is None
    assert "job" not in wheel and wheel.next_due() is None


def test_a_late_caller_gets_one_fire_per_key_then_the_next_time_after_now() -> None:
    wheel = ScheduleWheel()
    wheel.add("job", EVERY_MINUTE, now=START)
    assert wheel.pop_due(_at(3630)) == [("job", _at(60))]
    assert wheel.next_due() == _at(3660)


def test_jittered_keys_fire_at_their_own_phase_every_period() -> None:
    wheel = ScheduleWheel()
    rate = parse_schedule("rate(5 minutes)")
    keys = [schedule_key("123456789012", f"job-{number}") for number in range(200)]
    for key in keys:
        wheel.add(key, rate, now=START)
    fires: dict[str, list[datetime]] = {key: [] for key in keys}
    while (due := wheel.next_due()) is not None and due <= _at(1500):
        for key, fired in wheel.pop_due(due):
            fires[key].append(fired)
    for key in keys:
        assert len(fires[key]) == 5
        assert {(b - a).total_seconds() for a, b in zip(fires[key], fires[key][1:], strict=False)} == {300.0}
        assert (fires[key][0] - START).total_seconds() % 300 == rate.offset_for(key)


def test_flexible_window_offsets_apply_in_the_wheel() -> None:
    wheel = ScheduleWheel()
    hourly = parse_schedule("cron(0 * * * ? *)", window=FlexibleTimeWindow.flexible(15))
    for number in range(100):
        wheel.add(f"job-{number}", hourly, now=START)
    fired: list[datetime] = []
    while (due := wheel.next_due()) is not None and due < _at(7200):
        fired.extend(when for _, when in wheel.pop_due(due))
    # Added at 00:00, each key fires in the 00:00 window (still open) and in the 01:00 one.
    assert len(fired) == 200
    assert all(_at(0) < when < _at(900) or _at(3600) <= when < _at(4500) for when in fired)


def test_keys_share_one_interned_schedule() -> None:
    wheel = ScheduleWheel()
    for number in range(1000):
        wheel.add(f"rate-{number}", parse_schedule("rate(5 minutes)"), now=START)
    wheel.add("other", parse_schedule("rate(5 minutes)", window=FlexibleTimeWindow.flexible(3)), now=START)
    assert wheel.distinct_schedules == 2
    wheel.remove("other")
    assert wheel.distinct_schedules == 1
    for number in range(1000):
        wheel.remove(f"rate-{number}")
    assert wheel.distinct_schedules == 0 and len(wheel) == 0


def test_stale_entries_are_dropped_in_bulk() -> None:
    wheel = ScheduleWheel()
    far = parse_schedule("at(2030-01-01T00:00:00)")
    wheel.add("live", EVERY_MINUTE, now=START)
    for number in range(5000):
        wheel.add(f"temp-{number}", far, now=START)
        wheel.remove(f"temp-{number}")
    assert len(wheel._heap) < 2100  # compacted, not 5001 entries
    assert wheel.next_due() == _at(60)
    assert wheel.pop_due(_at(60)) == [("live", _at(60))]


def test_naive_and_pre_1970_times_are_refused() -> None:
    wheel = ScheduleWheel()
    with pytest.raises(ValueError, match="naive"):
        wheel.add("job", EVERY_MINUTE, now=datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="before 1970"):
        wheel.add("job", EVERY_MINUTE, now=datetime(1960, 1, 1, tzinfo=UTC))


def test_matches_a_reference_model_under_random_operations() -> None:
    """Random adds, removes and pops on a virtual clock: the wheel fires exactly what a plain
    dict of next fire times says, in the same order."""
    rng = random.Random(7)
    schedules = [
        parse_schedule("rate(1 minute)"),
        parse_schedule("rate(7 minutes)", jitter=False),
        parse_schedule("cron(*/3 * * * ? *)"),
        parse_schedule("cron(0 * * * ? *)", window=FlexibleTimeWindow.flexible(5)),
        parse_schedule("at(2025-01-01T01:00:00)"),
        parse_schedule("at(2025-01-01T00:20:00)", window=FlexibleTimeWindow.flexible(2)),
    ]
    wheel = ScheduleWheel()
    model: dict[str, tuple[int, int]] = {}  # key -> (schedule index, next fire as epoch seconds)
    now = int(START.timestamp())
    for _ in range(4000):
        key = f"k{rng.randrange(150)}"
        action = rng.random()
        if action < 0.3:
            index = rng.randrange(len(schedules))
            schedule = schedules[index]
            first = schedule.next_epoch(now, schedule.offset_for(key))
            added = wheel.add(key, schedule, now=datetime.fromtimestamp(now, UTC))
            model.pop(key, None)
            if first is not None:
                model[key] = (index, first)
            assert added == (None if first is None else datetime.fromtimestamp(first, UTC))
        elif action < 0.4:
            assert wheel.remove(key) == (model.pop(key, None) is not None)
        else:
            now += rng.choice((0, 1, 13, 60, 170))
            expected = sorted((fire, name) for name, (_, fire) in model.items() if fire <= now)
            for _fire, name in expected:
                index, _ = model[name]
                schedule = schedules[index]
                following = schedule.next_epoch(now, schedule.offset_for(name))
                if following is None:
                    del model[name]
                else:
                    model[name] = (index, following)
            popped = wheel.pop_due(datetime.fromtimestamp(now, UTC))
            assert popped == [(name, datetime.fromtimestamp(fire, UTC)) for fire, name in expected]
        assert len(wheel) == len(model)
        soonest = min((fire for _, fire in model.values()), default=None)
        assert wheel.next_due() == (None if soonest is None else datetime.fromtimestamp(soonest, UTC))
