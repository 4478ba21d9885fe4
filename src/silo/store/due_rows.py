"""``DueRows``: the storage half of a durable due queue (a :class:`silo.transport.DueQueue`).

A queue is a table whose rows carry the time they are due. Claiming leases the due rows of every
account (the dispatcher serves the whole platform) by moving their due time to the end of the lease,
in the claiming transaction (on PostgreSQL, ``FOR UPDATE SKIP LOCKED``, so nodes claim different
rows); a node that dies hands its rows on when the lease runs out, and releasing makes rows due at
once. Each queue keeps what is its own: which rows belong together, and what a row becomes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from silo.store.bulk import execute_many
from silo.store.engine import Store
from silo.store.types import utcnow

_X = {"cross_account": True}


class DueRows:
    """``table``'s rows keyed by ``key`` (columns, account first) and due at ``due``; with
    ``leased_until``, that column also says until when a claimed row is leased (None once free)."""

    def __init__(
        self,
        store: Store,
        table: sa.Table,
        due: sa.Column[Any],
        key: Sequence[sa.Column[Any]],
        *,
        leased_until: sa.Column[Any] | None = None,
    ) -> None:
        self._store = store
        self._table = table
        self._due = due
        self._names = [column.name for column in key]
        where = [column == sa.bindparam(f"k{i}") for i, column in enumerate(key)]
        moved: dict[str, Any] = {due.name: sa.bindparam("at")}
        freed: dict[str, Any] = {due.name: sa.bindparam("at")}
        if leased_until is not None:
            moved[leased_until.name] = sa.bindparam("at")
            freed[leased_until.name] = sa.null()  # a literal: execute_many binds only the keys it is given
        self._lease = sa.update(table).where(*where).values(moved)
        self._free = sa.update(table).where(*where).values(freed)

    def take(self, conn: sa.Connection, limit: int, *, now: datetime, until: datetime) -> list[sa.Row[Any]]:
        """(In the caller's transaction.) Up to ``limit`` due rows, oldest first, leased ``until``."""
        query = (
            sa.select(self._table)
            .where(self._due <= now)
            .order_by(self._due)
            .limit(limit)
            .execution_options(**_X)
        )
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = conn.execute(query).all()
        self.lease(conn, [self.key_of(row) for row in rows], until)
        return list(rows)

    def claim(self, limit: int, lease: timedelta) -> list[sa.Row[Any]]:
        """``take`` in a transaction of its own, leased for ``lease`` from now."""
        now = utcnow()
        with self._store.write() as conn:
            return self.take(conn, limit, now=now, until=now + lease)

    def key_of(self, row: Any) -> tuple[Any, ...]:
        return tuple(getattr(row, name) for name in self._names)

    def lease(self, conn: sa.Connection, keys: Iterable[tuple[Any, ...]], until: datetime) -> None:
        execute_many(conn, self._lease, [self._params(key, until) for key in keys])

    def release(self, keys: Iterable[tuple[Any, ...]]) -> None:
        """Claimed rows not worked on: due again now."""
        now = utcnow()
        params = [self._params(key, now) for key in keys]
        with self._store.write() as conn:
            execute_many(conn, self._free, params)

    def next_due(self) -> datetime | None:
        with self._store.read() as conn:
            due: datetime | None = conn.execute(
                sa.select(sa.func.min(self._due)).execution_options(**_X)
            ).scalar()
            return due

    def pending(self) -> int:
        with self._store.read() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count()).select_from(self._table).execution_options(**_X)
                ).scalar_one()
            )

    @staticmethod
    def _params(key: tuple[Any, ...], at: datetime) -> dict[str, Any]:
        params: dict[str, Any] = {f"k{i}": value for i, value in enumerate(key)}
        params["at"] = at
        return params
