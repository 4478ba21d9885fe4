"""The durable queue behind ``Event`` invocations.

An item is a row before the caller hears "accepted". Claiming pushes ``next_attempt_at`` forward by
a lease, so an item claimed by a process that dies becomes due again when the lease runs out and
is never lost; finishing deletes it, retrying sets the next attempt time.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from silo.store import Store, insert_rows, utcnow
from silo.store.bulk import execute_many
from silo.store.due_rows import DueRows
from silo.store.ids import new_id
from silo.store.schema import async_invocations


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


_KEY = (
    async_invocations.c.account_id == sa.bindparam("a"),
    async_invocations.c.invocation_id == sa.bindparam("i"),
)
_DELETE = sa.delete(async_invocations).where(*_KEY)


class AsyncQueue:
    def __init__(self, store: Store) -> None:
        self._store = store
        c = async_invocations.c
        self._rows = DueRows(
            store,
            async_invocations,
            c.next_attempt_at,
            (c.account_id, c.invocation_id),
            leased_until=c.lease_until,
        )
        self._done_lock = threading.Lock()
        self._done: list[dict[str, str]] = []
        self._deleting = False

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
        return [_item(r) for r in self._rows.claim(limit, lease)]

    def release(self, items: list[AsyncItem]) -> None:
        self._rows.release((i.account_id, i.invocation_id) for i in items)

    def next_due(self) -> datetime | None:
        return self._rows.next_due()

    def pending(self) -> int:
        return self._rows.pending()

    def done(self, item: AsyncItem) -> None:
        """``item`` succeeded: delete it, together with others finishing meanwhile (group commit).

        The first caller to find no delete running deletes everything that finished until none is
        left; the others only add theirs. A crash before the delete commits runs the item again when
        its lease runs out, as a crash between running and deleting always did (at least once).
        """
        with self._done_lock:
            self._done.append({"a": item.account_id, "i": item.invocation_id})
            if self._deleting:
                return
            self._deleting = True
        try:
            while True:
                with self._done_lock:
                    batch, self._done = self._done, []
                    if not batch:
                        self._deleting = False
                        return
                with self._store.write() as conn:
                    execute_many(conn, _DELETE, batch)
        except BaseException:
            with self._done_lock:
                self._deleting = False
            raise

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
    leased_for: timedelta | None = None,
) -> dict[str, Any]:
    """A new queue row, to :meth:`AsyncQueue.add` in the accepting transaction: due at once, or,
    with ``leased_for``, leased to the accepting process, which then runs it without a claim."""
    now = utcnow()
    lease_until = None if leased_for is None else now + leased_for
    return {
        "account_id": account,
        "invocation_id": invocation_id or new_id(),
        "function_name": function_name,
        "qualifier": qualifier,
        "payload": payload,
        "source": source,
        "attempts": 0,
        "throttles": 0,
        "received_at": now,
        "next_attempt_at": lease_until or now,
        "lease_until": lease_until,
        "last_error": None,
    }


def _item(row: sa.Row[Any]) -> AsyncItem:
    return item_of(dict(row._mapping))


def item_of(m: Mapping[str, Any]) -> AsyncItem:
    """The item of a queue row (a row read back, or one made by :func:`queued_row`)."""
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
