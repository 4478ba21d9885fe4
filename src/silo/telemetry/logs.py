"""Per-account log events (a function's captured output), written behind, read by tail."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from silo.accounts import AccountContext
from silo.store import Store, insert_rows
from silo.store.schema import log_events
from silo.telemetry.buffer import FlushThread

MAX_EVENT = 256 * 1024


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
        self._pending: list[tuple[str, str, int, str | None, str]] = []
        self._node = secrets.randbelow(1024)
        self._last_us = 0
        self._flusher = FlushThread(self.flush, interval=flush_interval, name="silo-logs")

    def append_for(self, account: str, log_group: str, request_id: str | None, text: str) -> None:
        """Platform-internal: the invoker appends the captured output of an invocation.

        One invocation is one event (its lines, START to REPORT, in one message): a row per line
        would cost the platform more to store than the invocation itself.
        """
        message = text.strip()
        if not message:
            return
        if len(message) > MAX_EVENT:
            message = message[:MAX_EVENT] + "\n[truncated]"
        with self._lock:
            now_us = max(time.time_ns() // 1000, self._last_us + 1)
            self._last_us = now_us
            self._pending.append((account, log_group, (now_us << 10) | self._node, request_id, message))
        self._flusher.notify()

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        if pending:
            rows = [
                {
                    "account_id": account,
                    "log_group": group,
                    "event_id": event_id,
                    "at": datetime.fromtimestamp((event_id >> 10) / 1e6, UTC),
                    "request_id": request_id,
                    "message": message,
                }
                for account, group, event_id, request_id, message in pending
            ]
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
