"""The kinds of event targets the platform delivers to, each acting inside the delivery's account."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from silo.events.models import TargetRef
from silo.functions import Functions, FunctionsEngine


class FunctionTargets:
    """A rule's function target: the event becomes a queued ``Event`` invocation of that function."""

    def __init__(self, engine: FunctionsEngine, scope_for: Callable[[str], Functions]) -> None:
        self._engine = engine
        self._scope_for = scope_for

    def batch(self) -> FunctionBatch:
        return FunctionBatch(self._engine, self._scope_for)


class FunctionBatch:
    """One delivery batch's invocations: checked one by one, queued with one statement."""

    def __init__(self, engine: FunctionsEngine, scope_for: Callable[[str], Functions]) -> None:
        self._engine = engine
        self._scope_for = scope_for
        self._rows: list[dict[str, Any]] = []

    def add(self, account: str, ref: TargetRef, payload: bytes, source: str) -> None:
        self._rows.append(
            self._scope_for(account).accept_event(ref.name, ref.qualifier, payload, source=source)
        )

    def write(self, conn: sa.Connection) -> None:
        self._engine.queue.add(conn, self._rows)

    def after_commit(self) -> None:
        self._engine.run_queued(self._rows)
