"""The management event bus's log: every fleet state change, as EventBridge-shaped events.

Rows in ``fleet_management_events`` written in the same transaction as the change they describe,
and handed (in that transaction) to ``publish``: the platform puts them on the management
account's default event bus, so its rules can react to them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from silo.stacks.state import event_id
from silo.store import insert_rows
from silo.store.schema import fleet_management_events

SOURCE = "silo.fleet"
OPERATION_CHANGED = "StackSet Operation Status Change"
INSTANCE_CHANGED = "StackSet Instance Status Change"
WAVE_COMPLETED = "StackSet Wave Completed"


Publish = Callable[[sa.Connection, Sequence[Mapping[str, Any]]], None]
"""Takes the batch's rows (``source``, ``detail_type``, ``detail``, ``at``) in the writer's transaction."""


class EventBatch:
    def __init__(self, now: datetime, publish: Publish | None = None) -> None:
        self._now = now
        self._publish = publish
        self._rows: list[dict[str, Any]] = []

    def add(self, detail_type: str, detail: dict[str, Any]) -> None:
        self._rows.append(
            {
                "event_id": event_id(),
                "at": self._now,
                "source": SOURCE,
                "detail_type": detail_type,
                "detail": detail,
            }
        )

    def flush(self, conn: sa.Connection) -> None:
        insert_rows(conn, fleet_management_events, self._rows)
        if self._publish is not None and self._rows:
            self._publish(conn, self._rows)
        self._rows = []


def recent(conn: sa.Connection, limit: int = 100) -> list[dict[str, Any]]:
    query = (
        sa.select(fleet_management_events).order_by(fleet_management_events.c.event_id.desc()).limit(limit)
    )
    return [dict(r) for r in conn.execute(query).mappings()]
