"""Parsed schedules: immutable, shareable between any number of keys, pure.

A :class:`Schedule` knows its *nominal* times (what the expression says) and, given a key's offset,
its *fire* times: ``nominal + offset``. The offset comes from :meth:`Schedule.offset_for` (see
:mod:`silo.schedules.window`). All arithmetic is in whole epoch seconds (``next_epoch``);
``next_after`` is the datetime face of it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from typing import ClassVar

from silo.schedules._localtime import epoch_s, from_epoch
from silo.schedules.window import WINDOW_OFF, FlexibleTimeWindow, offset_within, stable_hash

RATE_UNITS: dict[str, int] = {"minute": 60, "hour": 3600, "day": 86400}


class Schedule(ABC):
    """One schedule expression in one time zone, with its flexible window.

    Equal schedules (same kind, expression, time zone, window and jitter) compare and hash equal,
    so a wheel keeps one copy of each however many keys use it.
    """

    __slots__ = ("_hash", "expression", "timezone", "window")
    kind: ClassVar[str]

    def __init__(self, expression: str, timezone: str, window: FlexibleTimeWindow = WINDOW_OFF) -> None:
        self.expression = expression
        self.timezone = timezone
        self.window = window
        self._hash: int | None = None

    @abstractmethod
    def next_epoch(self, after_s: int, offset_s: int = 0) -> int | None:
        """The first fire time (epoch seconds) strictly after ``after_s`` for a key with offset
        ``offset_s``; None when the schedule never fires again."""

    def offset_for(self, key: str) -> int:
        """The key's deterministic offset in seconds: within the flexible window (0 when OFF)."""
        return offset_within(key, self.window.span_s)

    def next_after(self, t: datetime, *, offset_s: int = 0) -> datetime | None:
        """The first fire time strictly after ``t`` (aware; the answer is in UTC), or None."""
        seconds = self.next_epoch(epoch_s(t), offset_s)
        return None if seconds is None else from_epoch(seconds)

    def _identity(self) -> tuple[object, ...]:
        return (self.kind, self.expression, self.timezone, self.window)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schedule) and self._identity() == other._identity()

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(self._identity())
        return self._hash

    def __repr__(self) -> str:
        window = "" if self.window == WINDOW_OFF else f", window={self.window.maximum_window_minutes}m"
        return f"{type(self).__name__}({self.expression!r}, timezone={self.timezone!r}{window})"


class RateSchedule(Schedule):
    """``rate(N unit)``: every ``period_s`` seconds of real time (a day is 24 hours, whatever the
    clocks do). Nominal times are the multiples of the period since the epoch; with ``jitter`` (the
    default) each key fires at its own stable phase within the period."""

    __slots__ = ("jitter", "period_s", "unit", "value")
    kind = "rate"

    def __init__(
        self,
        expression: str,
        value: int,
        unit: str,
        *,
        timezone: str,
        window: FlexibleTimeWindow,
        jitter: bool,
    ) -> None:
        super().__init__(expression, timezone, window)
        self.value = value
        self.unit = unit
        self.period_s = value * RATE_UNITS[unit.rstrip("s")]
        self.jitter = jitter

    def offset_for(self, key: str) -> int:
        """The key's phase in ``[0, period_s)``; without jitter, an offset within the window."""
        if self.jitter:
            return stable_hash(key) % self.period_s
        return super().offset_for(key)

    def next_epoch(self, after_s: int, offset_s: int = 0) -> int:
        period = self.period_s
        return ((after_s - offset_s) // period + 1) * period + offset_s

    def _identity(self) -> tuple[object, ...]:
        return (*super()._identity(), self.jitter)


class AtSchedule(Schedule):
    """``at(yyyy-mm-ddThh:mm:ss)``: once, at that local time in the schedule's time zone."""

    __slots__ = ("instant_s",)
    kind = "at"

    def __init__(self, expression: str, instant_s: int, *, timezone: str, window: FlexibleTimeWindow) -> None:
        super().__init__(expression, timezone, window)
        self.instant_s = instant_s

    def next_epoch(self, after_s: int, offset_s: int = 0) -> int | None:
        fire = self.instant_s + offset_s
        return fire if fire > after_s else None
