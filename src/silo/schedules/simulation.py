"""The schedules benchmark: S ``rate`` schedules of one period through a real wheel, on a virtual clock.

Nothing waits: the clock jumps from one ``next_due()`` to the next, so a simulated hour takes as
long as its fires take to pop and re-arm. Keys look like real ones (``<12-digit account>/<name>``,
ten schedules an account). ``bytes_per_schedule`` is what ``tracemalloc`` sees allocated while the
keys are made and added, divided by S: the key strings (about 80 bytes each here), the heap, the
slot arrays and the index. The unjittered run of :func:`run_benchmark` builds the same wheel and
is not measured again.
"""

from __future__ import annotations

import gc
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any

from silo.schedules.expressions import parse_schedule
from silo.schedules.model import Schedule
from silo.schedules.wheel import ScheduleWheel
from silo.schedules.window import schedule_key

START = datetime(2025, 1, 1, tzinfo=UTC)
"""Midnight: on the boundary of every rate period, as an unjittered fleet would be."""
_SCHEDULES_PER_ACCOUNT = 10


def rate_expression(period_s: int) -> str:
    """The ``rate(...)`` expression for a period of whole minutes, in its largest exact unit."""
    if period_s < 60 or period_s % 60:
        raise ValueError(f"a rate period is a whole number of minutes, not {period_s} s")
    for unit, seconds in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if period_s % seconds == 0:
            value = period_s // seconds
            return f"rate({value} {unit}{'s' if value > 1 else ''})"
    raise AssertionError("unreachable: every whole minute is a multiple of 60 s")


def simulate(
    schedules: int, period_s: int, window_s: int, *, jitter: bool, measure_memory: bool = True
) -> dict[str, Any]:
    """Run ``schedules`` rate schedules of ``period_s`` for ``window_s`` virtual seconds.

    Returns ``peak_per_s`` (most fires in one second), ``mean_per_s`` (fires / window),
    ``peak_to_mean``, ``fires`` and ``bytes_per_schedule`` (None without ``measure_memory``:
    tracing every allocation makes building the wheel about five times slower).
    """
    if schedules < 1 or window_s < 1:
        raise ValueError("schedules and window_s must be at least 1")
    schedule = parse_schedule(rate_expression(period_s), jitter=jitter)
    gc.collect()
    if measure_memory:
        tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        wheel = _fleet(schedule, schedules)
        resident = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    per_second = [0] * window_s
    end = START + timedelta(seconds=window_s)
    while (due := wheel.next_due()) is not None and due <= end:
        per_second[int((due - START).total_seconds()) - 1] += len(wheel.pop_due(due))
    fires = sum(per_second)
    peak = max(per_second)
    mean = fires / window_s
    return {
        "schedules": schedules,
        "fires": fires,
        "peak_per_s": peak,
        "mean_per_s": round(mean, 3),
        "peak_to_mean": round(peak / mean, 3) if mean else 0.0,
        "bytes_per_schedule": round(resident / schedules, 1) if measure_memory else None,
    }


def _fleet(schedule: Schedule, schedules: int) -> ScheduleWheel:
    wheel = ScheduleWheel()
    for number in range(schedules):
        account = f"{100_000_000_000 + number // _SCHEDULES_PER_ACCOUNT:012d}"
        wheel.add(schedule_key(account, f"schedule-{number:07d}"), schedule, now=START)
    return wheel


def run_benchmark(schedules: int, period_s: int, window_s: int) -> dict[str, Any]:
    """What ``silo bench schedules`` prints: the jittered run, and the unjittered run's peak-to-mean."""
    jittered = simulate(schedules, period_s, window_s, jitter=True)
    aligned = simulate(schedules, period_s, window_s, jitter=False, measure_memory=False)
    return {
        "schedules": schedules,
        "period_s": period_s,
        "window_s": window_s,
        "peak_per_s": jittered["peak_per_s"],
        "mean_per_s": jittered["mean_per_s"],
        "peak_to_mean": jittered["peak_to_mean"],
        "peak_to_mean_unjittered": aligned["peak_to_mean"],
        "bytes_per_schedule": jittered["bytes_per_schedule"],
    }
