"""PutEvents entries: check one as EventBridge does, and turn it into the event envelope.

An entry has ``Source``, ``DetailType`` and ``Detail`` (a JSON object, as text), and optionally
``Resources`` (strings, usually ARNs: EventBridge does not check their syntax and neither does
Silo), ``Time`` (a datetime, ISO 8601 text or epoch seconds; default: when the platform accepts
it), ``EventBusName`` and ``TraceHeader``. Its size is computed as EventBridge documents it: the
UTF-8 bytes of Source, DetailType, Detail and each resource, plus 14 if Time is given; at most
256 KB (262,144 bytes). The envelope::

    {"version": "0", "id": ..., "detail-type": ..., "source": ..., "account": ..., "time": ...,
     "region": ..., "resources": [...], "detail": {...}}
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from silo.events.errors import InvalidEntry

MAX_ENTRY_BYTES = 256 * 1024
MAX_SOURCE = 256
MAX_DETAIL_TYPE = 128
MAX_RESOURCE = 2048
MAX_TRACE_HEADER = 500
_FIELDS = ("Source", "DetailType", "Detail", "Resources", "Time", "EventBusName", "TraceHeader")
_TIME_BYTES = 14


def entry_size(entry: Mapping[str, Any]) -> int:
    """The entry's size as EventBridge counts it against the 256 KB limit."""
    size = _TIME_BYTES if entry.get("Time") is not None else 0
    for field in ("Source", "DetailType", "Detail"):
        if isinstance(value := entry.get(field), str):
            size += len(value.encode())
    resources = entry.get("Resources")
    if isinstance(resources, list):
        size += sum(len(resource.encode()) for resource in resources if isinstance(resource, str))
    return size


def check_entry(entry: Mapping[str, Any]) -> None:
    """Raise :class:`InvalidEntry` naming the first field that is wrong; return if all are right."""
    _checked(entry)


def build_event(
    entry: Mapping[str, Any],
    *,
    account: str,
    region: str,
    event_bus: str,
    now: dt.datetime,
    event_id: str,
) -> dict[str, Any]:
    """The event envelope for a valid entry put on ``event_bus`` (a bus name) at ``now``.

    Raises:
        InvalidEntry: as :func:`check_entry`, and when the entry's ``EventBusName`` names
            another bus than ``event_bus``.
    """
    detail, time = _checked(entry)
    bus = entry.get("EventBusName")
    if bus is not None and bus != event_bus and not bus.endswith(f":event-bus/{event_bus}"):
        raise InvalidEntry("EventBusName", f"the entry names bus {bus!r}, it was put on {event_bus!r}")
    return {
        "version": "0",
        "id": event_id,
        "detail-type": entry["DetailType"],
        "source": entry["Source"],
        "account": account,
        "time": _utc_text(time if time is not None else now),
        "region": region,
        "resources": list(entry.get("Resources") or []),
        "detail": detail,
    }


def _checked(entry: Mapping[str, Any]) -> tuple[dict[str, Any], dt.datetime | None]:
    if not isinstance(entry, Mapping):
        raise InvalidEntry("Entry", "an entry must be an object")
    unknown = sorted(str(key) for key in entry if key not in _FIELDS)
    if unknown:
        raise InvalidEntry(unknown[0], f"unknown field; an entry has {', '.join(_FIELDS)}")
    source = _required_text(entry, "Source", MAX_SOURCE)
    if source.startswith(("aws.", "silo.")):
        raise InvalidEntry(
            "Source", "sources starting with aws. or silo. are reserved for the platform's own events"
        )
    _required_text(entry, "DetailType", MAX_DETAIL_TYPE)
    detail = _detail(entry.get("Detail"))
    _resources(entry.get("Resources"))
    time = _time(entry.get("Time"))
    for field, limit in (("EventBusName", 1600), ("TraceHeader", MAX_TRACE_HEADER)):
        value = entry.get(field)
        if value is not None and (not isinstance(value, str) or not 0 < len(value) <= limit):
            raise InvalidEntry(field, f"Parameter {field} is not valid: a string of 1 to {limit} characters")
    size = entry_size(entry)
    if size > MAX_ENTRY_BYTES:
        raise InvalidEntry(
            "Entry", f"entry size is {size} bytes, the limit is {MAX_ENTRY_BYTES} bytes (256 KB)"
        )
    return detail, time


def _required_text(entry: Mapping[str, Any], field: str, limit: int) -> str:
    value = entry.get(field)
    if value is None:
        raise InvalidEntry(field, f"Parameter {field} is not valid. Reason: {field} is a required argument.")
    if not isinstance(value, str) or not value.strip():
        raise InvalidEntry(field, f"Parameter {field} is not valid. Reason: it must be a non-empty string.")
    if len(value) > limit:
        raise InvalidEntry(field, f"Parameter {field} is not valid. Reason: longer than {limit} characters.")
    return value


def _detail(value: Any) -> dict[str, Any]:
    if value is None:
        raise InvalidEntry("Detail", "Parameter Detail is not valid. Reason: Detail is a required argument.")
    if not isinstance(value, str):
        raise InvalidEntry(
            "Detail", "Detail is malformed: it must be a JSON object as text.", error_code="MalformedDetail"
        )

    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not a JSON value")

    try:
        detail = json.loads(value, parse_constant=no_constants)
    except (ValueError, RecursionError) as error:
        raise InvalidEntry("Detail", f"Detail is malformed: {error}", error_code="MalformedDetail") from None
    if not isinstance(detail, dict):
        raise InvalidEntry(
            "Detail", "Detail is malformed: it must be a JSON object.", error_code="MalformedDetail"
        )
    return detail


def _resources(value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, list):
        raise InvalidEntry("Resources", "Parameter Resources is not valid: a list of strings")
    for index, resource in enumerate(value):
        if not isinstance(resource, str) or not 0 < len(resource) <= MAX_RESOURCE:
            raise InvalidEntry(
                f"Resources[{index}]", f"a resource is a string of 1 to {MAX_RESOURCE} characters"
            )


def _time(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    try:
        if isinstance(value, dt.datetime):
            moment = value
        elif isinstance(value, int | float) and not isinstance(value, bool):
            moment = dt.datetime.fromtimestamp(value, dt.UTC)
        elif isinstance(value, str):
            moment = dt.datetime.fromisoformat(value)
        else:
            raise TypeError("not a time")
    except (TypeError, ValueError, OverflowError, OSError):
        raise InvalidEntry(
            "Time", "Parameter Time is not valid: ISO 8601 text, epoch seconds or a datetime"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _utc_text(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
