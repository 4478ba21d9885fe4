"""Helpers shared by the scanner-service handlers: event envelopes, validation, time, versions, stats."""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

SERIAL = re.compile(r"^[A-Z0-9]{2,6}-[A-Z0-9]{4,12}$")
SITE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,30}[a-z0-9]$")
VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


class EventValidationError(ValueError):
    """An event that cannot be processed; the message names every field that is wrong."""

    def __init__(self, what: str, problems: Iterable[str]) -> None:
        self.what = what
        self.problems = list(problems)
        super().__init__(f"{what} is invalid: " + "; ".join(self.problems))


class Problems:
    """Collects validation problems so an event is reported with all its faults at once."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.items: list[str] = []

    def add(self, problem: str) -> None:
        self.items.append(problem)

    def raise_if_any(self, error: type[EventValidationError] = EventValidationError) -> None:
        if self.items:
            raise error(self.what, self.items)


def unwrap(
    event: Any, detail_type: str | None = None, what: str = "event"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(detail, meta)`` of an EventBridge event, or ``(event, {})`` for a direct invocation."""
    if not isinstance(event, Mapping):
        raise EventValidationError(what, [f"expected a JSON object, got {type(event).__name__}"])
    if "detail" in event and "detail-type" in event:
        if detail_type is not None and event["detail-type"] != detail_type:
            raise EventValidationError(
                what, [f"detail-type must be {detail_type!r}, got {event['detail-type']!r}"]
            )
        detail = event["detail"]
        if not isinstance(detail, Mapping):
            raise EventValidationError(what, ["detail must be a JSON object"])
        meta = {k: event.get(k) for k in ("id", "source", "detail-type", "time", "account")}
        return dict(detail), meta
    return dict(event), {}


def parse_time(value: Any, field: str, problems: Problems | None = None) -> datetime | None:
    """An ISO-8601 timestamp with a zone (``Z`` or ``+01:00``) as an aware UTC datetime."""
    problem = None
    if not isinstance(value, str) or not value:
        problem = f"{field} must be an ISO-8601 timestamp string, got {value!r}"
    else:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            problem = f"{field} is not an ISO-8601 timestamp: {value!r}"
        else:
            if parsed.tzinfo is None:
                problem = f"{field} must carry a time zone (e.g. 'Z'), got {value!r}"
            else:
                return parsed.astimezone(UTC)
    if problems is None:
        raise EventValidationError(field, [problem])
    problems.add(problem)
    return None


def iso(moment: datetime) -> str:
    """UTC, millisecond precision, ``Z`` suffix: the one timestamp format the service writes."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_utc() -> datetime:
    return datetime.now(UTC)


def parse_version(value: Any) -> tuple[int, int, int] | None:
    match = VERSION.match(value) if isinstance(value, str) else None
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def get_logger(name: str) -> logging.Logger:
    """A module logger at ``LOG_LEVEL`` (a stack parameter), INFO when unset or unknown."""
    logger = logging.getLogger(name)
    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    logger.setLevel(level if level in ("DEBUG", "INFO", "WARNING", "ERROR") else "INFO")
    return logger


def env_str(name: str, default: str) -> str:
    return os.environ.get(name) or default


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    try:
        return int(raw) if raw else default
    except ValueError:
        raise ValueError(f"environment variable {name} must be an integer, got {raw!r}") from None


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    try:
        return float(raw) if raw else default
    except ValueError:
        raise ValueError(f"environment variable {name} must be a number, got {raw!r}") from None


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile (no interpolation): always a value that was observed."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def ratio_pct(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def request_info(context: Any) -> dict[str, Any]:
    return {
        "request_id": getattr(context, "aws_request_id", None),
        "function": getattr(context, "function_name", None),
    }
