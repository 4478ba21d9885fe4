"""The durable queue behind ``Event`` invocations.

An item is a row before the caller hears "accepted". Claiming pushes ``next_attempt_at`` forward by
a lease, so an item claimed by a process that dies becomes due again when the lease runs out and
is never lost; finishing deletes it, retrying sets the next attempt time.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from silo.store import Store, insert_rows, utcnow
from silo.store.schema import async_invocations

_X = {"cross_account": True}


@dataclass(frozen=True, slots=True)
class AsyncItem:
    account_id: str
    invocation_id: str
    function_name: str
    qualifier: str
    payload: bytes
    source: str
    attempts: int
    throttles: int
    received_at: datetime
    last_error: dict[str, Any] | None


class AsyncQueue:
    def __init__(self, store: Store) -> None:
        self._store = store

    def enqueue(
        self,
        conn: sa.Connection,
        account: str,
        function_name: str,
        qualifier: str,
        payload: bytes,
        *,
        source: str,
        invocation_id: str | None = None,
    ) -> str:
        row = queued_row(
            account, function_name, qualifier, payload, source=source, invocation_id=invocation_id
        )
        self.add(conn, [row])
        return str(row["invocation_id"])

    def add(self, conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> None:
        """Queue rows made by :func:`queued_row`, in one statement."""
        if rows:
            insert_rows(conn, async_invocations, rows)

    def claim_due(self, limit: int, lease: timedelta) -> list[AsyncItem]:
        """Take up to ``limit`` due items of any account (the dispatcher serves the whole fleet)."""
        now = utcnow()
        with self._store.write() as conn:
            query = (
                sa.select(async_invocations)
                .where(async_invocations.c.next_attempt_at <= now)
                .order_by(async_invocations.c.next_attempt_at)
                .limit(limit)
                .execution_options(**_X)
            )
            if conn.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = conn.execute(query).all()
            for row in rows:
                conn.execute(
                    sa.update(async_invocations)
                    .where(
                        async_invocations.c.account_id == row.account_id,
                        async_invocations.c.invocation_id == row.invocation_id,
                    )
                    .values(next_attempt_at=now + lease, lease_until=now + lease)
                )
        return [_item(r) for r in rows]

    def next_due(self) -> datetime | None:
        with self._store.read() as conn:
            return conn.execute(
                sa.select(sa.func.min(async_invocations.c.next_attempt_at)).execution_options(**_X)
            ).scalar()

    def pending(self) -> int:
        with self._store.read() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count()).select_from(async_invocations).execution_options(**_X)
                ).scalar_one()
            )

    def finish(self, conn: sa.Connection, item: AsyncItem) -> None:
        conn.execute(
            sa.delete(async_invocations).where(
                async_invocations.c.account_id == item.account_id,
                async_invocations.c.invocation_id == item.invocation_id,
            )
        )

    def retry_at(
        self, item: AsyncItem, at: datetime, *, attempts: int, throttles: int, error: dict[str, Any] | None
    ) -> None:
        with self._store.write() as conn:
            conn.execute(
                sa.update(async_invocations)
                .where(
                    async_invocations.c.account_id == item.account_id,
                    async_invocations.c.invocation_id == item.invocation_id,
                )
                .values(
                    next_attempt_at=at,
                    lease_until=None,
                    attempts=attempts,
                    throttles=throttles,
                    last_error=error,
                )
            )


def queued_row(
    account: str,
    function_name: str,
    qualifier: str,
    payload: bytes,
    *,
    source: str,
    invocation_id: str | None = None,
) -> dict[str, Any]:
    """A new queue row (attempted at once), to :meth:`AsyncQueue.add` in the accepting transaction."""
    now = utcnow()
    return {
        "account_id": account,
        "invocation_id": invocation_id or str(uuid.uuid4()),
        "function_name": function_name,
        "qualifier": qualifier,
        "payload": payload,
        "source": source,
        "attempts": 0,
        "throttles": 0,
        "received_at": now,
        "next_attempt_at": now,
        "lease_until": None,
        "last_error": None,
    }


def _item(row: sa.Row[Any]) -> AsyncItem:
    m = row._mapping
    return AsyncItem(
        m["account_id"],
        m["invocation_id"],
        m["function_name"],
        m["qualifier"],
        bytes(m["payload"]),
        m["source"],
        m["attempts"],
        m["throttles"],
        m["received_at"],
        m["last_error"],
    )
