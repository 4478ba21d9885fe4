"""The central dead-letter queue: one table for the fleet, every entry tagged with its account.

Writers (the async dispatcher, later event delivery) put entries for the account they act for.
Readers are the management plane (every account, filterable) and an account itself (only its own
entries, through its context).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from silo.accounts import AccountContext
from silo.errors import NotFound, ValidationError
from silo.store import Store, utcnow
from silo.store.pages import Page, check_limit, decode_token, encode_token
from silo.store.schema import fleet_dead_letters

_X = {"cross_account": True}


@dataclass(frozen=True, slots=True)
class DeadLetter:
    entry_id: str
    account_id: str
    source: str
    target: dict[str, Any]
    payload: bytes
    reason: str
    error: dict[str, Any] | None
    attempts: int
    first_at: datetime
    last_at: datetime
    redriven_at: datetime | None


@dataclass(frozen=True, slots=True)
class DeadLetterFilter:
    account_id: str | None = None
    source: str | None = None
    reason: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class DeadLetterQueue:
    def __init__(self, store: Store) -> None:
        self._store = store

    def put(
        self,
        conn: sa.Connection,
        account: str,
        *,
        source: str,
        target: dict[str, Any],
        payload: bytes,
        reason: str,
        error: dict[str, Any] | None,
        attempts: int,
        first_at: datetime,
    ) -> str:
        """Record a failure for ``account`` inside the caller's transaction; returns the entry id."""
        entry_id = str(uuid.uuid4())
        conn.execute(
            fleet_dead_letters.insert().values(
                account_id=account,
                entry_id=entry_id,
                source=source,
                target=target,
                payload=payload,
                reason=reason,
                error=error,
                attempts=attempts,
                first_at=first_at,
                last_at=utcnow(),
            )
        )
        return entry_id

    def list_fleet(
        self, filters: DeadLetterFilter, *, limit: int | None = None, next_token: str | None = None
    ) -> Page[DeadLetter]:
        """Management plane: entries of every account (or one), newest first."""
        return self._page(filters, limit, next_token, cross_account=filters.account_id is None)

    def list_own(
        self,
        context: AccountContext,
        filters: DeadLetterFilter,
        *,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> Page[DeadLetter]:
        """An account's own entries only, whatever account the filter names."""
        own = DeadLetterFilter(
            context.account_id, filters.source, filters.reason, filters.since, filters.until
        )
        return self._page(own, limit, next_token, cross_account=False)

    def get_fleet(self, account: str, entry_id: str) -> DeadLetter:
        with self._store.read() as conn:
            return self._get(conn, account, entry_id)

    def get_own(self, context: AccountContext, entry_id: str) -> DeadLetter:
        with self._store.read() as conn:
            return self._get(conn, context.account_id, entry_id)

    def mark_redriven(self, conn: sa.Connection, account: str, entry_id: str) -> None:
        conn.execute(
            sa.update(fleet_dead_letters)
            .where(fleet_dead_letters.c.account_id == account, fleet_dead_letters.c.entry_id == entry_id)
            .values(redriven_at=utcnow())
        )

    def purge(self, filters: DeadLetterFilter) -> int:
        with self._store.write() as conn:
            query = sa.delete(fleet_dead_letters).where(*self._conditions(filters))
            if filters.account_id is None:
                query = query.execution_options(**_X)
            return conn.execute(query).rowcount

    def _page(
        self, filters: DeadLetterFilter, limit: int | None, next_token: str | None, *, cross_account: bool
    ) -> Page[DeadLetter]:
        size = check_limit(limit)
        after = decode_token(next_token)
        query = (
            sa.select(fleet_dead_letters)
            .where(*self._conditions(filters))
            .order_by(fleet_dead_letters.c.last_at.desc(), fleet_dead_letters.c.entry_id.desc())
            .limit(size + 1)
        )
        if after is not None:
            try:
                at, entry = datetime.fromisoformat(after[0]), str(after[1])
            except (TypeError, ValueError, IndexError, KeyError):
                raise ValidationError("next_token: not a token this API issued", field="next_token") from None
            query = query.where(
                sa.or_(
                    fleet_dead_letters.c.last_at < at,
                    sa.and_(fleet_dead_letters.c.last_at == at, fleet_dead_letters.c.entry_id < entry),
                )
            )
        if cross_account:
            query = query.execution_options(**_X)
        with self._store.read() as conn:
            rows = conn.execute(query).all()
        items = [_entry(r) for r in rows[:size]]
        token = (
            encode_token([items[-1].last_at.isoformat(), items[-1].entry_id]) if len(rows) > size else None
        )
        return Page(items, token)

    @staticmethod
    def _conditions(f: DeadLetterFilter) -> list[sa.ColumnElement[bool]]:
        c = fleet_dead_letters.c
        conds: list[sa.ColumnElement[bool]] = []
        if f.account_id is not None:
            conds.append(c.account_id == f.account_id)
        if f.source is not None:
            conds.append(c.source == f.source)
        if f.reason is not None:
            conds.append(c.reason == f.reason)
        if f.since is not None:
            conds.append(c.last_at >= f.since)
        if f.until is not None:
            conds.append(c.last_at < f.until)
        return conds

    def _get(self, conn: sa.Connection, account: str, entry_id: str) -> DeadLetter:
        row = conn.execute(
            sa.select(fleet_dead_letters).where(
                fleet_dead_letters.c.account_id == account, fleet_dead_letters.c.entry_id == entry_id
            )
        ).first()
        if row is None:
            raise NotFound(f"no dead-letter entry {entry_id}", entry_id=entry_id)
        return _entry(row)


def _entry(row: sa.Row[Any]) -> DeadLetter:
    m = row._mapping
    return DeadLetter(
        m["entry_id"],
        m["account_id"],
        m["source"],
        m["target"],
        bytes(m["payload"]),
        m["reason"],
        m["error"],
        m["attempts"],
        m["first_at"],
        m["last_at"],
        m["redriven_at"],
    )
