"""``parse_schedule``: EventBridge Scheduler expressions to :class:`~silo.schedules.model.Schedule`.

    rate(1 minute) rate(5 minutes) rate(1 hour) rate(12 hours) rate(1 day) rate(7 days)
    cron(0 9 ? * MON-FRI *)       six AWS fields; see silo.schedules._cron
    at(2030-01-01T09:00:00)       one local time, once

The value of a rate is a whole number >= 1 with the singular unit for 1 and the plural otherwise,
as AWS requires. Every schedule is evaluated in ``timezone`` (an IANA name), which matters to cron
and at; a rate counts real seconds, so a ``rate(1 day)`` is 24 hours across a DST change. Parsing is
cached: the same arguments return the same (immutable) object, so a million schedules that share an
expression share one parsed form.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache

from silo.schedules._cron import CronSchedule
from silo.schedules._localtime import wall_to_epoch, zone
from silo.schedules.errors import InvalidSchedule
from silo.schedules.model import RATE_UNITS, AtSchedule, RateSchedule, Schedule
from silo.schedules.window import WINDOW_OFF, FlexibleTimeWindow

_FORM = re.compile(r"(?P<kind>rate|cron|at)\((?P<body>[^()]*)\)\Z")
_AT_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\Z")
MAX_RATE_S = 3650 * 86400
"""The longest rate period taken: with jitter, a rate's first fire may be up to a period away."""
_RATE_UNITS = sorted({*RATE_UNITS, *(unit + "s" for unit in RATE_UNITS)})


def parse_schedule(
    expression: str,
    *,
    timezone: str = "UTC",
    window: FlexibleTimeWindow | None = None,
    jitter: bool = True,
) -> Schedule:
    """Parse ``rate(...)``, ``cron(...)`` or ``at(...)`` evaluated in ``timezone``.

    Args:
        expression: the schedule expression, as EventBridge Scheduler takes it.
        timezone: an IANA time zone name (``UTC``, ``America/New_York``, ``Europe/Berlin`` ...).
        window: the flexible time window; ``None`` is ``Mode OFF``.
        jitter: for ``rate`` schedules, give each key its own stable phase within the period (the
            default). Without it every key of the same rate fires at the same instants.

    Raises:
        InvalidSchedule: the message starts with the expression and names the bad field.
    """
    if not isinstance(expression, str):
        raise InvalidSchedule(
            "", "expression", f"a schedule expression is a string, not {type(expression).__name__}"
        )
    return _parse(expression.strip(), timezone, window or WINDOW_OFF, jitter)


@lru_cache(maxsize=4096)
def _parse(expression: str, timezone: str, window: FlexibleTimeWindow, jitter: bool) -> Schedule:
    tz = zone(timezone, expression)
    form = _FORM.match(expression)
    if form is None:
        raise InvalidSchedule(
            expression,
            "expression",
            "a schedule expression is rate(value unit), cron(fields) or at(yyyy-mm-ddThh:mm:ss)",
        )
    kind, body = form["kind"], form["body"].strip()
    if kind == "rate":
        value, unit = _rate(expression, body)
        return RateSchedule(expression, value, unit, timezone=timezone, window=window, jitter=jitter)
    if kind == "cron":
        return CronSchedule(expression, body, timezone=timezone, zone=tz, window=window)
    instant = wall_to_epoch(_at_time(expression, body), tz)
    if instant is None:
        raise InvalidSchedule(
            expression,
            "at time",
            f"{body} does not exist in {timezone}: the clocks skip it (daylight saving time)",
        )
    return AtSchedule(expression, instant, timezone=timezone, window=window)


def _rate(expression: str, body: str) -> tuple[int, str]:
    parts = body.split()
    if len(parts) != 2:
        raise InvalidSchedule(
            expression, "rate", "a rate expression is rate(value unit), e.g. rate(5 minutes)"
        )
    text, unit = parts
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise InvalidSchedule(
            expression, "rate value", f"rate value {text!r} must be a whole number of at least 1"
        )
    if unit not in _RATE_UNITS:
        raise InvalidSchedule(
            expression, "rate unit", f"rate unit {unit!r} is not one of {', '.join(_RATE_UNITS)}"
        )
    value = int(text)
    if value * RATE_UNITS[unit.rstrip("s")] > MAX_RATE_S:
        raise InvalidSchedule(expression, "rate value", f"rate({value} {unit}) is longer than 10 years")
    if value == 1 and unit.endswith("s"):
        raise InvalidSchedule(
            expression, "rate unit", f"a rate of 1 takes the singular unit: rate(1 {unit[:-1]})"
        )
    if value > 1 and not unit.endswith("s"):
        raise InvalidSchedule(
            expression, "rate unit", f"a rate of {value} takes the plural unit: rate({value} {unit}s)"
        )
    return value, unit


def _at_time(expression: str, body: str) -> datetime:
    parts = _AT_TIME.match(body)
    if parts is None:
        raise InvalidSchedule(
            expression, "at time", f"{body!r} is not yyyy-mm-ddThh:mm:ss, e.g. at(2030-01-01T09:00:00)"
        )
    year, month, day, hour, minute, second = (int(part) for part in parts.groups())
    if not 1970 <= year <= 2199:
        raise InvalidSchedule(expression, "at time", f"year {year} is outside 1970-2199 (as in cron)")
    try:
        return datetime(year, month, day, hour, minute, second)  # a naive local wall-clock time
    except ValueError as exc:
        raise InvalidSchedule(expression, "at time", f"{body} is not a valid date and time: {exc}") from None
