"""Table streams: change records to the table's function, batched, in order per partition key.

Records are written in the transaction that changes the items (:mod:`silo.tables.writes`). A claim
takes, per table, the due records whose partition key has no earlier record still waiting, leases
them, and hands them over as one batch; a batch that fails is retried with backoff (its records
keep their place, so later changes of the same keys wait behind them) and, after the stream's
``max_attempts``, goes to the central dead-letter queue with its account.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from silo.store import Store, utcnow
from silo.store.bulk import execute_many
from silo.store.due_rows import DueRows
from silo.store.schema import kv_stream_records, kv_tables

_X = {"cross_account": True}
R, T = kv_stream_records, kv_tables
_KEY = (
    R.c.account_id == sa.bindparam("a"),
    R.c.table_name == sa.bindparam("t"),
    R.c.seq == sa.bindparam("s"),
)
_DONE = sa.delete(R).where(*_KEY)


@dataclass(frozen=True, slots=True)
class StreamBatch:
    account_id: str
    table: str
    seqs: tuple[int, ...]
    records: tuple[dict[str, Any], ...]
    attempts: int
    function: str | None
    max_attempts: int


class StreamQueue:
    """A :class:`silo.transport.DueQueue` of :class:`StreamBatch`."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._rows = DueRows(store, R, R.c.due_at, (R.c.account_id, R.c.table_name, R.c.seq))

    def claim_due(self, limit: int, lease: timedelta) -> list[StreamBatch]:
        now = utcnow()
        earlier = sa.alias(R, "earlier")
        blocked = (
            sa.select(earlier.c.seq)
            .where(
                earlier.c.account_id == R.c.account_id,
                earlier.c.table_name == R.c.table_name,
                earlier.c.pk == R.c.pk,
                earlier.c.seq < R.c.seq,
            )
            .exists()
        )
        query = (
            sa.select(R.c.account_id, R.c.table_name, R.c.seq, R.c.record, R.c.attempts, T.c.stream)
            .join(T, sa.and_(T.c.account_id == R.c.account_id, T.c.name == R.c.table_name))
            .where(R.c.due_at <= now, ~blocked)
            .order_by(R.c.account_id, R.c.table_name, R.c.seq)
            .limit(1000)
            .execution_options(**_X)
        )
        with self._store.write() as conn:  # its own claim: a key's records wait for the earlier ones
            if conn.dialect.name == "postgresql":  # nodes claim different records (and so keys)
                query = query.with_for_update(skip_locked=True, of=R)
            batches = _batches(conn.execute(query).all(), limit)
            self._rows.lease(conn, _keys(batches), now + lease)
        return batches

    def release(self, items: list[StreamBatch]) -> None:
        self._rows.release(_keys(items))

    def next_due(self) -> datetime | None:
        return self._rows.next_due()

    def pending(self) -> int:
        return self._rows.pending()

    def done(self, conn: sa.Connection, batch: StreamBatch) -> None:
        execute_many(conn, _DONE, [{"a": batch.account_id, "t": batch.table, "s": s} for s in batch.seqs])

    def retry_at(self, conn: sa.Connection, batch: StreamBatch, at: datetime) -> None:
        conn.execute(
            sa.update(R)
            .where(R.c.account_id == batch.account_id, R.c.table_name == batch.table, R.c.seq.in_(batch.seqs))
            .values(due_at=at, attempts=batch.attempts + 1)
        )


def _keys(batches: Sequence[StreamBatch]) -> list[tuple[str, str, int]]:
    return [(b.account_id, b.table, s) for b in batches for s in b.seqs]


def _batches(rows: Sequence[Any], limit: int) -> list[StreamBatch]:
    """At most ``limit`` batches, one per table, each of up to the stream's batch size, in order."""
    grouped: dict[tuple[str, str], list[Any]] = {}
    for row in rows:
        grouped.setdefault((row.account_id, row.table_name), []).append(row)
    batches = []
    for (account, table), members in list(grouped.items())[:limit]:
        stream = members[0].stream or {}
        size = int(stream.get("batch_size") or 100)
        chosen = members[:size]
        batches.append(
            StreamBatch(
                account,
                table,
                tuple(r.seq for r in chosen),
                tuple(r.record for r in chosen),
                max(r.attempts for r in chosen),
                stream.get("function"),
                int(stream.get("max_attempts") or 3),
            )
        )
    return batches
