"""Per-account log events (a function's captured output), written behind, read by tail."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from silo.accounts import AccountContext
from silo.store import Store, insert_rows
from silo.store.schema import log_events
from silo.telemetry.buffer import FlushThread

MAX_LINE = 256 * 1024


@dataclass(frozen=True, slots=True)
class LogEvent:
    event_id: int
    at: datetime
    request_id: str | None
    message: str


class Logs:
    """Event ids are microseconds << 10 | a per-process node tag: ordered, unique across nodes."""

    def __init__(self, store: Store, *, flush_interval: float = 0.5) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._rows: list[dict[str, Any]] = []
        self._node = secrets.randbelow(1024)
        self._last_us = 0
        self._flusher = FlushThread(self.flush, interval=flush_interval, name="silo-logs")

    def append_for(self, account: str, log_group: str, request_id: str | None, text: str) -> None:
        """Platform-internal: the invoker appends the captured output of an invocation."""
        lines = [line[:MAX_LINE] for line in text.splitlines() if line.strip()]
        if not lines:
            return
        with self._lock:
            for line in lines:
                now_us = max(time.time_ns() // 1000, self._last_us + 1)
                self._last_us = now_us
                self._rows.append(
                    {
                        "account_id": account,
                        "log_group": log_group,
                        "event_id": (now_us << 10) | self._node,
                        "at": datetime.fromtimestamp(now_us / 1e6, UTC),
                        "request_id": request_id,
                        "message": line,
                    }
                )
        self._flusher.notify()

    def flush(self) -> None:
        with self._lock:
            rows, self._rows = self._rows, []
        if rows:
            with self._store.write() as conn:
                insert_rows(conn, log_events, rows)

    def tail(
        self, context: AccountContext, log_group: str, *, after: int | None = None, limit: int = 100
    ) -> list[LogEvent]:
        """The newest ``limit`` events (oldest first), or those after event id ``after``."""
        self.flush()
        query = sa.select(log_events).where(
            log_events.c.account_id == context.account_id, log_events.c.log_group == log_group
        )
        with self._store.read() as conn:
            if after is not None:
                rows = conn.execute(
                    query.where(log_events.c.event_id > after).order_by(log_events.c.event_id).limit(limit)
                ).all()
            else:
                rows = list(
                    reversed(conn.execute(query.order_by(log_events.c.event_id.desc()).limit(limit)).all())
                )
        return [LogEvent(r.event_id, r.at, r.request_id, r.message) for r in rows]

    def close(self) -> None:
        self._flusher.stop()
        self.flush()
