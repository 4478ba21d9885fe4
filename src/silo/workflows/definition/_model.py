"""The immutable model of a checked ASL definition."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

UNSET: Any = object()


class QueryLanguage(StrEnum):
    JSONPATH = "JSONPath"
    JSONATA = "JSONata"


@dataclass(frozen=True)
class Retrier:
    """One ``Retry`` entry, defaults filled in (1 s, 3 attempts, rate 2.0, no cap, no jitter)."""

    error_equals: tuple[str, ...]
    interval_seconds: int = 1
    max_attempts: int = 3
    backoff_rate: float = 2.0
    max_delay_seconds: int | None = None
    jitter: str = "NONE"

    def delay(self, attempt: int) -> float:
        """Seconds before retry number ``attempt + 1`` (0-based), capped, before jitter."""
        delay = self.interval_seconds * self.backoff_rate**attempt
        if self.max_delay_seconds is not None:
            delay = min(delay, float(self.max_delay_seconds))
        return delay


@dataclass(frozen=True)
class Catcher:
    """One ``Catch`` entry; ``result_path`` is ``"$"`` unless given (``None`` for JSON null)."""

    error_equals: tuple[str, ...]
    next: str
    result_path: str | None = "$"
    output: Any = UNSET
    assign: Any = UNSET


@dataclass(frozen=True)
class State:
    """One state. ``fields`` is a read-only view of its checked JSON object; :meth:`get` returns
    a copy of a field's value, so the model cannot be changed through it."""

    name: str
    type: str
    query_language: QueryLanguage
    fields: MappingProxyType[str, Any]
    next: str | None = None
    end: bool = False
    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()
    branches: tuple[StateMachine, ...] = ()

    def has(self, key: str) -> bool:
        return key in self.fields

    def get(self, key: str, default: Any = None) -> Any:
        return copy.deepcopy(self.fields[key]) if key in self.fields else default

    @property
    def jsonata(self) -> bool:
        return self.query_language is QueryLanguage.JSONATA


@dataclass(frozen=True)
class StateMachine:
    """A state machine: the whole definition, a Parallel branch or a Map's item processor."""

    start_at: str
    states: MappingProxyType[str, State]
    query_language: QueryLanguage = QueryLanguage.JSONPATH
    timeout_seconds: int | None = None
    comment: str = ""
    source: MappingProxyType[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def state(self, name: str) -> State:
        return self.states[name]
