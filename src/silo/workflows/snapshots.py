"""Executions and events as JSON values, for a durable driver to store and load.

A snapshot holds everything :func:`silo.workflows.step` needs to carry on; an event is the input
to one step. Both round-trip exactly: ``execution_of(snapshot_of(e)) == e``.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from silo.workflows.interpreter import (
    ChildFailed,
    ChildSucceeded,
    Event,
    Execution,
    ExecutionInfo,
    Redrive,
    Start,
    TaskFailed,
    TaskSucceeded,
    TimedOut,
    TimerFired,
)
from silo.workflows.interpreter._model import Children

_EVENTS: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (Start, TaskSucceeded, TaskFailed, TimerFired, ChildSucceeded, ChildFailed, TimedOut, Redrive)
}
_TUPLES = ("attempts",)


def snapshot_of(execution: Execution) -> dict[str, Any]:
    return asdict(execution)


def execution_of(snapshot: dict[str, Any]) -> Execution:
    values = dict(snapshot)
    values["info"] = ExecutionInfo(**values["info"])
    for name in _TUPLES:
        values[name] = tuple(values[name])
    children = values.get("children")
    if children is not None:
        values["children"] = Children(
            **{**children, "inputs": tuple(children["inputs"]), "results": tuple(children["results"])}
        )
    known = {f.name for f in fields(Execution)}
    return Execution(**{k: v for k, v in values.items() if k in known})


def event_json(event: Event) -> dict[str, Any]:
    body = asdict(event)
    body["at"] = event.at.isoformat()
    body["type"] = type(event).__name__
    return body


def event_of(body: dict[str, Any]) -> Event:
    values = dict(body)
    values.pop("seconds", None)  # a heartbeat's period, kept beside its event
    cls = _EVENTS[values.pop("type")]
    values["at"] = datetime.fromisoformat(values["at"])
    event: Event = cls(**values)
    return event
