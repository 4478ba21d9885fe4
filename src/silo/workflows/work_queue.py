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

from silo.store import Store
from silo.store.due_rows import DueRows
from silo.store.schema import workflow_work


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
        c = workflow_work.c
        self._rows = DueRows(store, workflow_work, c.due_at, (c.account_id, c.work_id))

    def claim_due(self, limit: int, lease: timedelta) -> list[WorkItem]:
        return [work_item(r.account_id, dict(r._mapping)) for r in self._rows.claim(limit, lease)]

    def release(self, items: list[WorkItem]) -> None:
        self._rows.release((i.account_id, i.work_id) for i in items)

    def next_due(self) -> datetime | None:
        return self._rows.next_due()

    def pending(self) -> int:
        return self._rows.pending()
