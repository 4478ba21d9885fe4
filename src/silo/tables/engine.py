"""``TablesEngine``: the platform-wide parts of the tables service, shared by every account.

It keeps a short-lived cache of table definitions for reads, the stream queue and its dispatcher,
and the time-to-live sweep (a housekeeping job, due at the earliest expiry). The platform binds
how to act inside an account (``scope_for``) and who receives stream batches (``deliver``).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from silo.dlq import DeadLetterQueue
from silo.store import Store, utcnow
from silo.store.schema import kv_items, kv_tables
from silo.tables.models import TableInfo
from silo.tables.streams import StreamBatch, StreamQueue
from silo.tables.writes import expires_at
from silo.transport import Dispatcher

if TYPE_CHECKING:
    from silo.tables.service import Tables
    from silo.tables.writes import TableChanges

_X = {"cross_account": True}
DLQ_SOURCE = "tables:stream"
SWEEP = 1000


class TableCache:
    """Table definitions for reads, kept ``ttl`` seconds (changes elsewhere show up after that)."""

    def __init__(self, ttl: float = 1.0) -> None:
        self._ttl = ttl
        self._entries: dict[tuple[str, str], tuple[float, TableInfo]] = {}
        self._lock = threading.Lock()

    def get(self, account: str, name: str) -> TableInfo | None:
        with self._lock:
            hit = self._entries.get((account, name))
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def put(self, table: TableInfo) -> TableInfo:
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[(table.account_id, table.name)] = (time.monotonic() + self._ttl, table)
        return table

    def invalidate(self, account: str, name: str) -> None:
        with self._lock:
            self._entries.pop((account, name), None)


class TablesEngine:
    def __init__(
        self,
        store: Store,
        dlq: DeadLetterQueue,
        *,
        retry_base: timedelta = timedelta(seconds=1),
        workers: int = 2,
        lease: timedelta = timedelta(minutes=16),
    ) -> None:
        self.store = store
        self.dlq = dlq
        self.tables = TableCache()
        self.retry_base = retry_base
        self.streams = StreamQueue(store)
        self.dispatcher: Dispatcher[StreamBatch] = Dispatcher(
            self.streams, self.deliver_batch, workers=workers, lease=lease, name="silo-streams"
        )
        self._scope_for: Callable[[str], Tables] | None = None
        self._deliver: Callable[[str, str, dict[str, Any]], None] | None = None
        self._poke_sweeper: Callable[[], None] = lambda: None
        self._check_function: Callable[[str, str], None] = lambda account, name: None
        self._next_expiry: float | None = None

    def bind(
        self,
        scope_for: Callable[[str], Tables],
        deliver: Callable[[str, str, dict[str, Any]], None],
        poke_sweeper: Callable[[], None],
        check_function: Callable[[str, str], None],
    ) -> None:
        """``deliver(account, function, event)`` runs the stream's function synchronously and raises
        when it fails; ``check_function(account, name)`` raises ``NotFound`` for a missing function."""
        self._scope_for = scope_for
        self._deliver = deliver
        self._poke_sweeper = poke_sweeper
        self._check_function = check_function

    def check_function(self, account: str, name: str) -> None:
        self._check_function(account, name)

    def resume(self) -> None:
        if self.streams.pending():
            self.dispatcher.wake()

    def close(self) -> None:
        self.dispatcher.stop()

    # --- hooks of the write path ----------------------------------------------------------------
    def written(self, conn: sa.Connection, changes: TableChanges) -> None:
        table = changes.table
        self.tables.invalidate(table.account_id, table.name)
        if table.stream is not None and table.stream.function is not None:
            self.store.after_commit(conn, self.dispatcher.wake)
        if table.ttl_attribute is not None:
            soonest = min(
                (
                    at
                    for item in changes.new.values()
                    if item is not None
                    for at in [expires_at(item, table.ttl_attribute)]
                    if at is not None
                ),
                default=None,
            )
            if soonest is not None and (self._next_expiry is None or soonest < self._next_expiry):
                self._next_expiry = soonest
                self.store.after_commit(conn, self._poke_sweeper)

    def ttl_changed(self, conn: sa.Connection) -> None:
        self._next_expiry = None
        self.store.after_commit(conn, self._poke_sweeper)

    def stream_changed(self, conn: sa.Connection) -> None:
        self.store.after_commit(conn, self.dispatcher.wake)

    # --- time to live ---------------------------------------------------------------------------
    def next_expiry_at(self) -> datetime | None:
        """When the earliest item of a table with a TTL expires (the sweep's due time)."""
        with self.store.read() as conn:
            at = conn.execute(
                sa.select(sa.func.min(kv_items.c.expires_at))
                .join(
                    kv_tables,
                    sa.and_(
                        kv_tables.c.account_id == kv_items.c.account_id,
                        kv_tables.c.name == kv_items.c.table_name,
                    ),
                )
                .where(kv_tables.c.ttl_attribute.is_not(None))
                .execution_options(**_X)
            ).scalar()
        self._next_expiry = None if at is None else float(at)
        return None if at is None else datetime.fromtimestamp(int(at), UTC)

    def sweep_expired(self) -> int:
        """Delete up to ``SWEEP`` expired items (with their index entries and stream records)."""
        assert self._scope_for is not None, "bind was not called"
        now = int(utcnow().timestamp())
        with self.store.read() as conn:
            rows = conn.execute(
                sa.select(kv_items.c.account_id, kv_items.c.table_name, kv_items.c.pk, kv_items.c.sk)
                .where(kv_items.c.expires_at <= now)
                .limit(SWEEP)
                .execution_options(**_X)
            ).all()
        by_table: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for row in rows:
            by_table.setdefault((row.account_id, row.table_name), []).append((row.pk, row.sk))
        for (account, table), keys in by_table.items():
            self._scope_for(account).sweep_expired(table, keys)
        return len(rows)

    # --- streams --------------------------------------------------------------------------------
    def deliver_batch(self, batch: StreamBatch) -> None:
        assert self._deliver is not None, "bind was not called"
        error: str | None = None
        if batch.function is None:
            error = "the stream has no function"
        else:
            try:
                self._deliver(batch.account_id, batch.function, {"Records": list(batch.records)})
            except Exception as exc:  # the function failed or could not be invoked
                error = f"{type(exc).__name__}: {exc}"
        now = utcnow()
        with self.store.write() as conn:
            if error is None:
                self.streams.done(conn, batch)
                return
            if batch.attempts + 1 >= batch.max_attempts:
                for record in batch.records:
                    self.dlq.put(
                        conn,
                        batch.account_id,
                        source=DLQ_SOURCE,
                        target={"type": "table-stream", "table": batch.table, "function": batch.function},
                        payload=_json_bytes(record),
                        reason="RetriesExhausted",
                        error={"errorMessage": error},
                        attempts=batch.attempts + 1,
                        first_at=datetime.fromtimestamp(
                            int(record["dynamodb"]["ApproximateCreationDateTime"]), UTC
                        ),
                    )
                self.streams.done(conn, batch)
                return
            delay = self.retry_base * (2**batch.attempts)
            self.streams.retry_at(conn, batch, now + delay)
            self.store.after_commit(conn, self.dispatcher.wake)


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()
