"""Deterministic offsets: stable across processes and versions, uniform over many keys, and a
jittered rate schedule still fires exactly once a period."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from silo.schedules import offset_within, parse_schedule, schedule_key, stable_hash

# Pinned: changing the hash would move the phase of every schedule of the fleet at once.
GOLDEN = {
    "123456789012/nightly-report": (8292112719447265748, 248),
    "123456789012/hourly-sync": (5151032150144750429, 29),
    "210987654321/nightly-report": (15967652471709299157, 57),
}
_ROOT = Path(__file__).resolve().parents[3]


def _keys(count: int) -> list[str]:
    return [schedule_key(f"{100_000_000_000 + number // 7:012d}", f"job-{number}") for number in range(count)]


def test_schedule_key_is_account_slash_name() -> None:
    assert schedule_key("123456789012", "nightly-report") == "123456789012/nightly-report"


@pytest.mark.parametrize("key", sorted(GOLDEN))
def test_hash_and_offset_are_pinned(key: str) -> None:
    value, phase = GOLDEN[key]
    assert stable_hash(key) == value
    assert offset_within(key, 300) == phase
    assert parse_schedule("rate(5 minutes)").offset_for(key) == phase


def test_offsets_are_the_same_in_other_processes_whatever_their_hash_seed() -> None:
    script = (
        "import json, sys\n"
        "from silo.schedules import parse_schedule\n"
        "rate = parse_schedule('rate(5 minutes)')\n"
        "print(json.dumps([rate.offset_for(key) for key in json.loads(sys.argv[1])]))\n"
    )
    keys = _keys(200)
    expected = [parse_schedule("rate(5 minutes)").offset_for(key) for key in keys]
    for seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(_ROOT / "src")}
        run = subprocess.run(
            [sys.executable, "-c", script, json.dumps(keys)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        assert json.loads(run.stdout) == expected


def test_offsets_spread_uniformly_over_the_period() -> None:
    period, keys = 300, _keys(150_000)
    counts = Counter(offset_within(key, period) for key in keys)
    assert sorted(counts) == list(range(period))
    expected = len(keys) / period
    chi_square = sum((count - expected) ** 2 / expected for count in counts.values())
    # 299 degrees of freedom: mean 299, standard deviation about 24.5
    assert chi_square < 299 + 5 * 24.5
    assert max(counts.values()) < 1.25 * expected
    assert min(counts.values()) > 0.75 * expected


def test_offsets_spread_over_a_day_for_daily_rates() -> None:
    rate = parse_schedule("rate(1 day)")
    hours = Counter(rate.offset_for(key) // 3600 for key in _keys(48_000))
    assert sorted(hours) == list(range(24))
    assert max(hours.values()) < 1.2 * 2000


def test_a_jittered_rate_fires_exactly_once_a_period_at_its_own_phase() -> None:
    rate = parse_schedule("rate(5 minutes)")
    start = datetime(2025, 1, 1, tzinfo=UTC)
    phases = set()
    for key in _keys(50):
        offset = rate.offset_for(key)
        moment, fired = start, []
        for _ in range(5):
            following = rate.next_after(moment, offset_s=offset)
            assert following is not None
            fired.append(following)
            moment = following
        assert [b - a for a, b in itertools.pairwise(fired)] == [timedelta(minutes=5)] * 4
        assert all((moment - start).total_seconds() % 300 == offset for moment in fired)
        phases.add(offset)
    assert len(phases) > 35  # 50 keys over 300 phases: about 46 distinct


def test_without_jitter_every_key_has_the_same_phase() -> None:
    rate = parse_schedule("rate(5 minutes)", jitter=False)
    assert {rate.offset_for(key) for key in _keys(1000)} == {0}


def test_cron_and_at_have_no_offset_without_a_window() -> None:
    for expression in ("cron(0 * * * ? *)", "at(2030-01-01T00:00:00)"):
        schedule = parse_schedule(expression)
        assert {schedule.offset_for(key) for key in _keys(100)} == {0}
