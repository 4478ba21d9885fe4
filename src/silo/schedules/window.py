"""Flexible time windows and the deterministic offsets that spread schedules out.

A schedule's offset is a stable function of its key (``schedule_key(account, name)``): the first
8 bytes of a BLAKE2b digest of the key, reduced modulo a span. It is the same in every process, on
every machine and across restarts (no ``hash()`` randomisation), so a schedule keeps its phase for
its whole life, and over many keys the offsets are uniform over the span.

* ``rate`` schedules (by default): the span is the period. ``rate(5 minutes)`` for key K fires at
  every instant ``t`` with ``(t - offset(K)) % 300 == 0``: exactly every 5 minutes, and a fleet of
  such schedules is spread evenly over the 300 seconds instead of all firing on the minute.
* ``cron`` and ``at`` schedules fire on their times, plus, with a ``FLEXIBLE`` window of M minutes,
  an offset in ``[0, 60 * M)`` seconds: always inside the window EventBridge Scheduler promises.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from hashlib import blake2b
from typing import Any, Literal

from silo.schedules.errors import InvalidSchedule

MAX_WINDOW_MINUTES = 1440
_PERSON = b"silo.schedules"


def schedule_key(account_id: str, name: str) -> str:
    """The fleet-wide key of an account's schedule: what the wheel holds and the offset hashes."""
    return f"{account_id}/{name}"


def stable_hash(key: str) -> int:
    """A 64-bit hash of ``key`` that never changes between processes or versions of Python."""
    digest = blake2b(key.encode("utf-8"), digest_size=8, person=_PERSON).digest()
    return int.from_bytes(digest, "big")


def offset_within(key: str, span_s: int) -> int:
    """The key's offset in ``[0, span_s)`` seconds (0 for an empty span)."""
    return stable_hash(key) % span_s if span_s > 1 else 0


@dataclass(frozen=True, slots=True)
class FlexibleTimeWindow:
    """EventBridge Scheduler's ``FlexibleTimeWindow``: ``OFF``, or ``FLEXIBLE`` with
    ``maximum_window_minutes`` in 1-1440 (the target runs within that many minutes after its time)."""

    mode: Literal["OFF", "FLEXIBLE"] = "OFF"
    maximum_window_minutes: int | None = None

    def __post_init__(self) -> None:
        minutes = self.maximum_window_minutes
        if self.mode == "OFF":
            if minutes is not None:
                raise InvalidSchedule(
                    "", "MaximumWindowInMinutes", "MaximumWindowInMinutes is only valid with Mode FLEXIBLE"
                )
        elif self.mode == "FLEXIBLE":
            if isinstance(minutes, bool) or not isinstance(minutes, int):
                raise InvalidSchedule(
                    "", "MaximumWindowInMinutes", "Mode FLEXIBLE needs MaximumWindowInMinutes (1-1440)"
                )
            if not 1 <= minutes <= MAX_WINDOW_MINUTES:
                raise InvalidSchedule(
                    "", "MaximumWindowInMinutes", f"MaximumWindowInMinutes {minutes} is out of range 1-1440"
                )
        else:
            raise InvalidSchedule("", "Mode", f"Mode {self.mode!r} is not one of OFF, FLEXIBLE")

    @classmethod
    def flexible(cls, minutes: int) -> FlexibleTimeWindow:
        return cls("FLEXIBLE", minutes)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FlexibleTimeWindow:
        """From the AWS shape ``{"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}``."""
        unknown = set(data) - {"Mode", "MaximumWindowInMinutes"}
        if unknown:
            raise InvalidSchedule(
                "", sorted(unknown)[0], f"unknown FlexibleTimeWindow keys {sorted(unknown)}"
            )
        if "Mode" not in data:
            raise InvalidSchedule("", "Mode", "FlexibleTimeWindow needs Mode (OFF or FLEXIBLE)")
        return cls(data["Mode"], data.get("MaximumWindowInMinutes"))

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"Mode": self.mode}
        if self.maximum_window_minutes is not None:
            body["MaximumWindowInMinutes"] = self.maximum_window_minutes
        return body

    @property
    def span_s(self) -> int:
        """The window in seconds; 0 when OFF."""
        return 60 * self.maximum_window_minutes if self.maximum_window_minutes else 0


WINDOW_OFF = FlexibleTimeWindow()
