"""AWS ``cron(minute hour day-of-month month day-of-week year)`` in any IANA time zone.

``aws-croniter`` does the calendar maths (it knows ``?``, ``L``, ``W``, ``#``, names, the year field)
on *local wall-clock* times; this module validates field by field with messages that name the field,
fixes what the library gets wrong, and maps wall-clock times to instants:

* ``L`` alone in day-of-week is Saturday (the last day of the week); the library never matches it.
* The library gives up after 10 internal steps, so sparse expressions (``cron(0 0 ? FEB 2#5 *)``,
  a 5th Monday in February, once in 28 years) look like they never fire; the search resumes from the
  next allowed month until the year field is exhausted.
* It reads the step of a year (``2025/5``) as a year and refuses it; year steps are written out.
* Forms the library accepts but cannot evaluate are refused up front: a step of 0, open ranges
  (``*-5``), ``LW``, ``L-n`` in day-of-week, and backwards year ranges.

Daylight saving time follows EventBridge Scheduler: a local time the clocks skip does not fire that
day; a local time the clocks repeat fires once, at its first occurrence.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from aws_croniter import AwsCroniter  # type: ignore[import-untyped]
from aws_croniter.exceptions import (  # type: ignore[import-untyped]
    AwsCroniterExpressionDayOfMonthError,
    AwsCroniterExpressionDayOfWeekError,
    AwsCroniterExpressionError,
    AwsCroniterExpressionHourError,
    AwsCroniterExpressionMinuteError,
    AwsCroniterExpressionMonthError,
    AwsCroniterExpressionYearError,
)

from silo.schedules._localtime import wall_clock, wall_to_epoch
from silo.schedules.errors import InvalidSchedule
from silo.schedules.model import Schedule
from silo.schedules.window import FlexibleTimeWindow

FIELDS = ("minute", "hour", "day-of-month", "month", "day-of-week", "year")
_ALLOWED = {
    "minute": "0-59 with , - * /",
    "hour": "0-23 with , - * /",
    "day-of-month": "1-31 with , - * ? / L W",
    "month": "1-12 or JAN-DEC with , - * /",
    "day-of-week": "1-7 or SUN-SAT with , - * ? L #",
    "year": "1970-2199 with , - * /",
}
_LIBRARY_FIELD = {
    AwsCroniterExpressionMinuteError: "minute",
    AwsCroniterExpressionHourError: "hour",
    AwsCroniterExpressionDayOfMonthError: "day-of-month",
    AwsCroniterExpressionMonthError: "month",
    AwsCroniterExpressionDayOfWeekError: "day-of-week",
    AwsCroniterExpressionYearError: "year",
}
_MINUTE = timedelta(minutes=1)
_MEMO_LIMIT = 4096


def _problem(fields: list[str]) -> tuple[str, str] | None:
    """(field, problem) for what the library would accept but cannot evaluate, or None."""
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        return (
            "day-of-month",
            "exactly one of day-of-month and day-of-week must be '?' (the other a value or *)",
        )
    if day_of_month.upper() == "LW":
        return "day-of-month", "day-of-month 'LW' (last weekday) is not supported; use L or a nW day"
    if day_of_week.upper().startswith("L-"):
        return "day-of-week", f"day-of-week {day_of_week!r} is not valid; use nL for the last given weekday"
    for name, value in zip(FIELDS, fields, strict=True):
        for part in value.split(","):
            span, _, step = part.partition("/")
            if step.isdigit() and int(step) == 0:
                return name, f"{name} step in {part!r} must be at least 1"
            if span.startswith("*-") or span.endswith("-*"):
                return name, f"{name} range {part!r} is open-ended; give both ends"
            low, dash, high = span.partition("-")
            if name == "year" and dash and low.isdigit() and high.isdigit() and int(low) > int(high):
                return name, f"year range {part!r} runs backwards"
    return None


def _expand_year_steps(value: str) -> str:
    """The year field with its steps written out (``2025/5`` -> ``2025,2030,...``): the library
    takes a step in the year field for a year and refuses ``/5``. Malformed parts stay as they are,
    for the library to refuse with the field's message."""
    parts: list[str] = []
    for part in value.split(","):
        span, slash, step = part.partition("/")
        low, dash, high = ("1970", "-", "2199") if span == "*" else span.partition("-")
        high = high if dash else "2199"
        if not (slash and step.isdigit() and low.isdigit() and high.isdigit()):
            parts.append(part)
        elif 1970 <= int(low) <= int(high) <= 2199:
            parts.extend(str(year) for year in range(int(low), int(high) + 1, int(step)))
        else:
            parts.append(part)
    return ",".join(parts)


def compile_fields(expression: str, body: str) -> AwsCroniter:
    """The library's parsed form of the six fields in ``body``, or InvalidSchedule naming the field."""
    given = body.split()
    fields = list(given)
    if len(fields) != len(FIELDS):
        raise InvalidSchedule(
            expression, "cron", f"a cron expression has 6 fields ({' '.join(FIELDS)}), not {len(fields)}"
        )
    problem = _problem(fields)
    if problem is not None:
        raise InvalidSchedule(expression, *problem)
    if fields[4] == "L":
        fields[4] = "7"
    fields[5] = _expand_year_steps(fields[5])
    try:
        return AwsCroniter(" ".join(fields))
    except AwsCroniterExpressionError as exc:
        field = _LIBRARY_FIELD.get(type(exc))
        if field is None:
            raise InvalidSchedule(expression, "cron", str(exc)) from None
        value = given[FIELDS.index(field)]
        raise InvalidSchedule(
            expression, field, f"{field} field {value!r} is not valid; use {_ALLOWED[field]}"
        ) from None
    except ValueError as exc:
        raise InvalidSchedule(expression, "cron", f"cannot evaluate the cron fields: {exc}") from None


class CronSchedule(Schedule):
    """Fires at every local time the six fields match, in the schedule's time zone."""

    __slots__ = ("_cron", "_last_year", "_memo", "_months", "_years", "_zone")
    kind = "cron"

    def __init__(
        self, expression: str, body: str, *, timezone: str, zone: ZoneInfo, window: FlexibleTimeWindow
    ) -> None:
        super().__init__(expression, timezone, window)
        self._cron = compile_fields(expression, body)
        self._zone = zone
        self._months = frozenset(self._cron.months)
        self._years = frozenset(self._cron.years)
        self._last_year: int = max(self._cron.years)
        self._memo: dict[int, int | None] = {}

    def next_epoch(self, after_s: int, offset_s: int = 0) -> int | None:
        nominal = self._nominal_after(after_s - offset_s)
        return None if nominal is None else nominal + offset_s

    def _nominal_after(self, after_s: int) -> int | None:
        # Every instant of a minute shares the answer for the minute's start, unless that answer
        # falls inside the minute itself (a zone whose offset has seconds, as Monrovia's until 1972).
        start = after_s - after_s % 60
        memo = self._memo
        if start in memo:
            found = memo[start]
        else:
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            found = memo[start] = self._search(start)
        return found if found is None or found > after_s else self._search(after_s)

    def _search(self, after_s: int) -> int | None:
        """The first instant after ``after_s`` whose wall-clock time matches and exists."""
        cursor = wall_clock(after_s, self._zone).replace(tzinfo=UTC)
        while True:
            wall = self._next_wall(cursor)
            if wall is None:
                return None
            instant = wall_to_epoch(wall.replace(tzinfo=None), self._zone)
            # Skipped (None) or already past (the repeated hour's second pass): look further on.
            if instant is not None and instant > after_s:
                return instant
            cursor = wall

    def _next_wall(self, cursor: datetime) -> datetime | None:
        """The first matching wall-clock minute after ``cursor`` (wall times carried as UTC)."""
        while True:
            found: datetime | None = self._cron.occurrence(cursor).next()
            if found is not None:
                return found
            # The library stops after 10 steps; nothing matched up to there, so resume later on.
            resumed = self._next_month(cursor)
            if resumed is None:
                return None
            cursor = resumed

    def _next_month(self, cursor: datetime) -> datetime | None:
        """One minute before the first allowed month after the one the search from ``cursor`` began
        in (its next minute's), or None past the last year."""
        begun = cursor + _MINUTE
        year, month = begun.year, begun.month
        while True:
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
            if year > self._last_year:
                return None
            if year in self._years and month in self._months:
                return datetime(year, month, 1, tzinfo=UTC) - _MINUTE
