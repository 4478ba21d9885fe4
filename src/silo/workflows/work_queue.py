"""The durable queue of workflow work, across accounts: what the workflow dispatcher claims.

Rows are written by executions' steps (:mod:`silo.workflows.driver`); a claim leases due rows by
moving their ``due_at`` forward (a row claimed by a process that dies is due again when the lease
runs out); applying a row deletes it in the step's own transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from silo.store import Store, utcnow
from silo.store.bulk import execute_many
from silo.store.schema import workflow_work

_X = {"cross_account": True}
_LEASE = (
    sa.update(workflow_work)
    .where(
        workflow_work.c.account_id == sa.bindparam("a"),
        workflow_work.c.work_id == sa.bindparam("w"),
    )
    .values(due_at=sa.bindparam("at"))
)


@dataclass(frozen=True, slots=True)
class WorkItem:
    account_id: str
    work_id: str
    root_id: str
    execution_id: str
    kind: str  # "task" to run; "event", "timeout", "heartbeat" to apply
    body: dict[str, Any]
    token: str | None


def work_item(account: str, row: Mapping[str, Any]) -> WorkItem:
    return WorkItem(
        account,
        row["work_id"],
        row["root_id"],
        row["execution_id"],
        row["kind"],
        row["body"],
        row["token"],
    )


class WorkQueue:
    """A :class:`silo.transport.DueQueue` of :class:`WorkItem`."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def claim_due(self, limit: int, lease: timedelta) -> list[WorkItem]:
        now = utcnow()
        with self._store.write() as conn:
            query = (
                sa.select(workflow_work)
                .where(workflow_work.c.due_at <= now)
                .order_by(workflow_work.c.due_at)
                .limit(limit)
                .execution_options(**_X)
            )
            if conn.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = conn.execute(query).all()
            execute_many(conn, _LEASE, [{"a": r.account_id, "w": r.work_id, "at": now + lease} for r in rows])
        return [work_item(r.account_id, dict(r._mapping)) for r in rows]

    def release(self, items: list[WorkItem]) -> None:
        now = utcnow()
        with self._store.write() as conn:
            execute_many(conn, _LEASE, [{"a": i.account_id, "w": i.work_id, "at": now} for i in items])

    def next_due(self) -> datetime | None:
        with self._store.read() as conn:
            return conn.execute(
                sa.select(sa.func.min(workflow_work.c.due_at)).execution_options(**_X)
            ).scalar()

    def pending(self) -> int:
        with self._store.read() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count()).select_from(workflow_work).execution_options(**_X)
                ).scalar_one()
            )
