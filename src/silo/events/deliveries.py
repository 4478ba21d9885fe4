"""The durable queue of event deliveries: one row per (event, matched target).

A row is written in the same transaction that accepts the event (PutEvents, a schedule firing, a
bus-to-bus hop), so an accepted event is never lost. Claiming leases rows in batches (an item
claimed by a process that dies becomes due again when its lease runs out); delivering deletes
them; a failed attempt sets the next attempt time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from silo.store import Store
from silo.store.bulk import execute_many, insert_rows
from silo.store.due_rows import DueRows
from silo.store.ids import new_id
from silo.store.schema import event_deliveries

BATCH = 256


_KEY = (
    event_deliveries.c.account_id == sa.bindparam("a"),
    event_deliveries.c.delivery_id == sa.bindparam("d"),
)
_DELETE = sa.delete(event_deliveries).where(*_KEY)


@dataclass(frozen=True, slots=True)
class Delivery:
    account_id: str
    delivery_id: str
    bus_name: str
    rule_name: str
    target_id: str
    arn: str
    event_id: str
    payload: bytes
    hops: int
    attempts: int
    max_attempts: int
    max_age_s: int
    received_at: datetime


def delivery_row(
    account: str,
    bus: str,
    rule: str,
    target_id: str,
    arn: str,
    event_id: str,
    payload: bytes,
    *,
    hops: int,
    max_attempts: int,
    max_age_s: int,
    now: datetime,
    leased_until: datetime | None = None,
) -> dict[str, Any]:
    """A new delivery, due at once or, with ``leased_until``, leased to the accepting process
    (which hands it to its dispatcher after the commit, with no claim)."""
    return {
        "account_id": account,
        "delivery_id": new_id(),
        "bus_name": bus,
        "rule_name": rule,
        "target_id": target_id,
        "arn": arn,
        "event_id": event_id,
        "payload": payload,
        "hops": hops,
        "attempts": 0,
        "max_attempts": max_attempts,
        "max_age_s": max_age_s,
        "received_at": now,
        "next_attempt_at": leased_until or now,
        "last_error": None,
    }


class DeliveryQueue:
    """A :class:`silo.transport.DueQueue` of batches: each claimed item is up to ``BATCH`` rows."""

    def __init__(self, store: Store, *, batch: int = BATCH) -> None:
        self._store = store
        self._batch = batch
        c = event_deliveries.c
        self._rows = DueRows(store, event_deliveries, c.next_attempt_at, (c.account_id, c.delivery_id))

    def add(self, conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            insert_rows(conn, event_deliveries, rows)

    def claim_due(self, limit: int, lease: timedelta) -> list[list[Delivery]]:
        items = [_delivery(r) for r in self._rows.claim(self._batch * limit, lease)]
        return [items[i : i + self._batch] for i in range(0, len(items), self._batch)]

    def release(self, batches: list[list[Delivery]]) -> None:
        self._rows.release((d.account_id, d.delivery_id) for batch in batches for d in batch)

    def next_due(self) -> datetime | None:
        return self._rows.next_due()

    def pending(self) -> int:
        return self._rows.pending()

    def finish(self, conn: sa.Connection, done: Sequence[Delivery]) -> None:
        execute_many(conn, _DELETE, [{"a": d.account_id, "d": d.delivery_id} for d in done])

    def retry_at(
        self,
        conn: sa.Connection,
        item: Delivery,
        at: datetime,
        *,
        attempts: int,
        error: dict[str, Any] | None,
    ) -> None:
        conn.execute(
            sa.update(event_deliveries)
            .where(
                event_deliveries.c.account_id == item.account_id,
                event_deliveries.c.delivery_id == item.delivery_id,
            )
            .values(next_attempt_at=at, attempts=attempts, last_error=error)
        )


def _delivery(row: sa.Row[Any]) -> Delivery:
    return delivery_of(dict(row._mapping))


def delivery_of(m: Mapping[str, Any]) -> Delivery:
    """The delivery of a row (read back, or made by :func:`delivery_row`)."""
    return Delivery(
        m["account_id"],
        m["delivery_id"],
        m["bus_name"],
        m["rule_name"],
        m["target_id"],
        m["arn"],
        m["event_id"],
        bytes(m["payload"]),
        m["hops"],
        m["attempts"],
        m["max_attempts"],
        m["max_age_s"],
        m["received_at"],
    )
