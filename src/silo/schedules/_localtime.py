"""Where wall-clock times meet UTC instants: time zones, epoch seconds, daylight saving rules.

Everything inside the package counts time in whole epoch seconds (UTC); datetimes exist only at the
public edges. A local wall-clock time maps to an instant by EventBridge Scheduler's rules: a time the
clocks skip (spring forward) does not exist, and a time the clocks repeat (fall back) means its first
occurrence only.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from silo.schedules.errors import InvalidSchedule

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)


def zone(name: str, expression: str = "") -> ZoneInfo:
    """The IANA time zone ``name`` (``UTC``, ``Europe/Berlin`` ...); ``expression`` is for the error."""
    found = _zone(name)
    if found is None:
        raise InvalidSchedule(
            expression, "time zone", f"unknown time zone {name!r}; use an IANA name such as 'Europe/Berlin'"
        )
    return found


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def epoch_s(t: datetime) -> int:
    """Whole seconds since the epoch of an aware datetime (floored, exact for any year)."""
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"{t!r} is a naive datetime: schedules take timezone-aware (UTC) times")
    return (t - EPOCH) // _SECOND


def from_epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def wall_clock(seconds: int, tz: ZoneInfo) -> datetime:
    """The naive local time the clocks in ``tz`` show at instant ``seconds``."""
    return from_epoch(seconds).astimezone(tz).replace(tzinfo=None)


def wall_to_epoch(wall: datetime, tz: ZoneInfo) -> int | None:
    """The instant of naive local time ``wall`` in ``tz``: its first occurrence when the clocks
    repeat it, None when they skip it."""
    seconds = epoch_s(wall.replace(tzinfo=tz, fold=0))
    return seconds if wall_clock(seconds, tz) == wall else None
