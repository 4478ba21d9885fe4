"""The central dead-letter queue: one table for the fleet, every entry tagged with its account.

Writers (the async dispatcher, later event delivery) put entries for the account they act for.
Readers are the management plane (every account, filterable) and an account itself (only its own
entries, through its context). The management plane may redrive an entry (send its payload back to
its target, inside the entry's own account: see ``redrive.py``) or purge entries; entries older than
the retention period are expired by the platform's housekeeper, which is woken when the first entry
after an empty queue commits and otherwise sleeps until the oldest entry's expiry.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from silo.accounts import AccountContext
from silo.dlq.models import (
    DeadLetter,
    DeadLetterFilter,
    Redelivery,
    RedriveBatch,
    RedriveFailure,
    Redriven,
)
from silo.dlq.redrive import Redrivers, Scope
from silo.errors import Conflict, NotFound, SiloError, ValidationError
from silo.store import Store, utcnow
from silo.store.ids import new_id
from silo.store.pages import Page, check_limit, decode_token, encode_token, older_than
from silo.store.schema import fleet_dead_letters

_X = {"cross_account": True}
DEFAULT_RETENTION = timedelta(days=14)

RecordRedrive = Callable[[sa.Connection, Redriven], None]
"""Called inside a redrive's transaction (the management plane audits with it)."""
RecordCount = Callable[[sa.Connection, int], None]
"""Called inside a purge's or an expiry's transaction with the number of entries deleted."""


class DeadLetterQueue:
    def __init__(self, store: Store, *, retention: timedelta = DEFAULT_RETENTION) -> None:
        self._store = store
        self.retention = retention
        self._redrivers = Redrivers()
        self._wake: Callable[[], None] | None = None
        self._watch_lock = threading.Lock()
        self._watched = False  # the housekeeper knows of an entry to expire (it last saw one)

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
        entry_id = new_id()
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
        if self._wake is not None:  # after the commit: a wake-up before it could miss the entry
            Store.after_commit(conn, self._entry_committed)
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
        return self._page(
            replace(filters, account_id=context.account_id), limit, next_token, cross_account=False
        )

    def get_fleet(self, account: str, entry_id: str) -> DeadLetter:
        with self._store.read() as conn:
            return self._get(conn, account, entry_id)

    def get_own(self, context: AccountContext, entry_id: str) -> DeadLetter:
        with self._store.read() as conn:
            return self._get(conn, context.account_id, entry_id)

    # --- redrive -------------------------------------------------------------------------------
    def register_redriver(
        self,
        target_type: str,
        scope_for: Callable[[str], Scope],
        redrive: Callable[[Scope, sa.Connection, DeadLetter], Redelivery],
    ) -> None:
        """Entries with ``target["type"] == target_type`` are redriven by ``redrive``, called with
        ``scope_for(account of the entry)``, the redrive's transaction and the entry."""
        self._redrivers.register(target_type, scope_for, redrive)

    def redrive(
        self, account: str, entry_id: str, *, force: bool = False, record: RecordRedrive | None = None
    ) -> Redriven:
        """Send one entry's payload back to its target in the entry's account, and mark it redriven,
        in one transaction. An entry already redriven is refused (``Conflict``) unless ``force``."""
        with self._store.write() as conn:
            entry = self._get(conn, account, entry_id)
            if entry.redriven_at is not None and not force:
                raise _already_redriven(entry)
            redriver = self._redrivers.for_entry(entry)
            now = utcnow()
            if not self._mark_redriven(conn, entry, now, force=force):  # a concurrent redrive won
                raise _already_redriven(entry)
            delivery = redriver(conn, entry)
            redriven = Redriven(replace(entry, redriven_at=now), dict(delivery.detail), forced=force)
            if record is not None:
                record(conn, redriven)
        if delivery.after_commit is not None:
            delivery.after_commit()
        return redriven

    def redrive_many(
        self, filters: DeadLetterFilter, *, limit: int | None = None, record: RecordRedrive | None = None
    ) -> RedriveBatch:
        """Redrive up to ``limit`` matching entries not redriven yet, oldest first, each in its own
        transaction; entries that cannot be redriven are reported and stay as they were."""
        size = check_limit(limit)
        query = (
            sa.select(fleet_dead_letters.c.account_id, fleet_dead_letters.c.entry_id)
            .where(*self._conditions(filters), fleet_dead_letters.c.redriven_at.is_(None))
            .order_by(fleet_dead_letters.c.last_at, fleet_dead_letters.c.entry_id)
            .limit(size)
        )
        if filters.account_id is None:
            query = query.execution_options(**_X)
        with self._store.read() as conn:
            chosen = [(str(r[0]), str(r[1])) for r in conn.execute(query)]
        batch = RedriveBatch()
        for account, entry_id in chosen:
            try:
                batch.redriven.append(self.redrive(account, entry_id, record=record))
            except SiloError as exc:
                batch.failed.append(RedriveFailure(account, entry_id, exc))
        return batch

    # --- deletion: purge and retention ---------------------------------------------------------
    def purge(self, filters: DeadLetterFilter, *, record: RecordCount | None = None) -> int:
        """Delete the matching entries; ``record`` runs in the same transaction."""
        with self._store.write() as conn:
            query = sa.delete(fleet_dead_letters).where(*self._conditions(filters))
            if filters.account_id is None:
                query = query.execution_options(**_X)
            purged = conn.execute(query).rowcount
            if record is not None:
                record(conn, purged)
        return purged

    def expire(self, now: datetime | None = None, *, record: RecordCount | None = None) -> int:
        """Delete every entry that entered the queue a retention period ago or earlier (any account)."""
        cutoff = (now or utcnow()) - self.retention
        with self._store.write() as conn:
            expired = conn.execute(
                sa.delete(fleet_dead_letters)
                .where(fleet_dead_letters.c.last_at <= cutoff)
                .execution_options(**_X)
            ).rowcount
            if record is not None:
                record(conn, expired)
        return expired

    def next_expiry_at(self) -> datetime | None:
        """When the oldest entry's retention runs out (``None`` for an empty queue)."""
        with self._watch_lock:  # so that a commit seen after this read always wakes the housekeeper
            with self._store.read() as conn:
                oldest = conn.execute(
                    sa.select(sa.func.min(fleet_dead_letters.c.last_at)).execution_options(**_X)
                ).scalar()
            self._watched = oldest is not None
        return None if oldest is None else oldest + self.retention

    def watch_expiry(self, wake: Callable[[], None]) -> None:
        """``wake`` (the housekeeper's poke) is called when an entry commits while the last
        ``next_expiry_at`` found none: later entries expire after the oldest, so only the first counts."""
        self._wake = wake

    # --- helpers -------------------------------------------------------------------------------
    def _entry_committed(self) -> None:
        with self._watch_lock:
            if self._watched:
                return
            self._watched = True
        if self._wake is not None:
            self._wake()

    def _mark_redriven(self, conn: sa.Connection, entry: DeadLetter, at: datetime, *, force: bool) -> bool:
        query = sa.update(fleet_dead_letters).where(
            fleet_dead_letters.c.account_id == entry.account_id,
            fleet_dead_letters.c.entry_id == entry.entry_id,
        )
        if not force:
            query = query.where(fleet_dead_letters.c.redriven_at.is_(None))
        return bool(conn.execute(query.values(redriven_at=at)).rowcount)

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
            query = query.where(
                older_than(fleet_dead_letters.c.last_at, fleet_dead_letters.c.entry_id, after)
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
            conds.append(c.last_at >= _aware(f.since, "since"))
        if f.until is not None:
            conds.append(c.last_at < _aware(f.until, "until"))
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


def _already_redriven(entry: DeadLetter) -> Conflict:
    at = entry.redriven_at.isoformat() if entry.redriven_at else "just now"
    return Conflict(
        f"dead-letter entry {entry.entry_id} was already redriven ({at}); force to send it again",
        entry_id=entry.entry_id,
        redriven_at=at,
    )


def _aware(value: datetime, field: str) -> datetime:
    if value.tzinfo is None:
        raise ValidationError(f"{field}: a time with its UTC offset, e.g. 2026-01-31T12:00:00Z", field=field)
    return value


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
