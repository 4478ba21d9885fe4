"""Per-account log events (a function's captured output), written behind, read by tail."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import sqlalchemy as sa

from silo.accounts import AccountContext
from silo.store import Store, insert_rows
from silo.store.schema import log_events
from silo.telemetry.buffer import FlushThread

MAX_EVENT = 256 * 1024
_COLUMNS = ("account_id", "log_group", "event_id", "at", "request_id", "message")


@dataclass(frozen=True, slots=True)
class LogEvent:
    event_id: int
    at: datetime
    request_id: str | None
    message: str


class _HasLogs(Protocol):
    @property
    def logs(self) -> str: ...


class Logs:
    """Event ids are microseconds << 10 | a per-process node tag: ordered, unique across nodes."""

    def __init__(self, store: Store, *, flush_interval: float = 0.5) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._pending: list[tuple[str, str, int, str | None, str | _HasLogs]] = []
        self._node = secrets.randbelow(1024)
        self._last_us = 0
        self._flusher = FlushThread(self.flush, interval=flush_interval, name="silo-logs")
        self._inserts: dict[str, tuple[str, Callable[[Any], Any] | None]] = {}

    def append_for(self, account: str, log_group: str, request_id: str | None, text: str) -> None:
        """Platform-internal: append one event (the captured output of an invocation).

        One invocation is one event (its lines, START to REPORT, in one message): a row per line
        would cost the platform more to store than the invocation itself.
        """
        self._append(account, log_group, request_id, text)

    def append_result(self, account: str, log_group: str, request_id: str | None, result: _HasLogs) -> None:
        """Like ``append_for`` with an invocation result whose ``logs`` text is composed (by the
        flusher) only when it is written, off the invocation's path."""
        self._append(account, log_group, request_id, result)

    def _append(self, account: str, log_group: str, request_id: str | None, source: str | _HasLogs) -> None:
        with self._lock:
            now_us = time.time_ns() // 1000
            if now_us <= self._last_us:
                now_us = self._last_us + 1
            self._last_us = now_us
            self._pending.append((account, log_group, (now_us << 10) | self._node, request_id, source))
        self._flusher.notify()

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        rows = []
        for account, group, event_id, request_id, source in pending:
            message = (source if isinstance(source, str) else source.logs).strip()
            if not message:
                continue
            if len(message) > MAX_EVENT:
                message = message[:MAX_EVENT] + "\n[truncated]"
            rows.append((account, group, event_id, request_id, message))
        if rows:
            with self._store.write() as conn:
                self._insert(conn, rows)

    def _insert(self, conn: sa.Connection, rows: list[tuple[str, str, int, str | None, str]]) -> None:
        """One ``executemany`` on the driver (no statement compilation, no per-row dicts)."""
        dialect = conn.dialect
        prepared = self._inserts.get(dialect.name)
        if prepared is None:
            mark = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(dialect.paramstyle)
            if mark is None:  # another driver: the generic path
                insert_rows(
                    conn, log_events, [dict(zip(_COLUMNS, _with_at(r, None), strict=True)) for r in rows]
                )
                return
            columns = ", ".join(f'"{c}"' for c in _COLUMNS)
            sql = f'INSERT INTO "{log_events.name}" ({columns}) VALUES ({", ".join([mark] * len(_COLUMNS))})'
            prepared = self._inserts[dialect.name] = (sql, log_events.c.at.type.bind_processor(dialect))
        sql, convert = prepared
        conn.exec_driver_sql(sql, [_with_at(row, convert) for row in rows])

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


def _with_at(
    row: tuple[str, str, int, str | None, str], convert: Callable[[Any], Any] | None
) -> tuple[Any, ...]:
    account, group, event_id, request_id, message = row
    at = datetime.fromtimestamp((event_id >> 10) / 1e6, UTC)
    return (account, group, event_id, at if convert is None else convert(at), request_id, message)
