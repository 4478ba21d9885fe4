"""``DeadLetterAdmin``: the management plane's audited changes to the central dead-letter queue."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import sqlalchemy as sa

from silo.accounts import AccountId, account_id
from silo.dlq import DeadLetterFilter, RedriveBatch, Redriven
from silo.platform.management_audit import AuditTrail, account_or_none
from silo.platform.services import Services


class DeadLetterAdmin:
    """Each change is audited in the transaction that makes it."""

    def __init__(self, services: Services, trail: AuditTrail) -> None:
        self._dlq = services.dlq
        self._trail = trail

    def purge(self, filters: DeadLetterFilter) -> int:
        account = account_or_none(filters.account_id or "")
        return self._dlq.purge(
            filters,
            record=lambda conn, count: self._trail.record(
                conn, "dlq:Purge", account, details={"count": count}
            ),
        )

    def expire(self, now: datetime | None) -> int:
        def record(conn: sa.Connection, count: int) -> None:
            if count:
                days = self._dlq.retention.days
                self._trail.record(
                    conn, "dlq:PurgeExpired", None, details={"count": count, "retention_days": days}
                )

        return self._dlq.expire(now, record=record)

    def redrive(self, account: str, entry_id: str, force: bool) -> Redriven:
        return self._dlq.redrive(account_id(account), entry_id, force=force, record=self._record_redrive)

    def redrive_many(self, filters: DeadLetterFilter, limit: int | None) -> RedriveBatch:
        if filters.account_id is not None:
            filters = replace(filters, account_id=account_id(filters.account_id))
        return self._dlq.redrive_many(filters, limit=limit, record=self._record_redrive)

    def _record_redrive(self, conn: sa.Connection, redriven: Redriven) -> None:
        entry = redriven.entry
        details = {"entry_id": entry.entry_id, "target": entry.target, **redriven.detail}
        if redriven.forced:
            details["force"] = True
        self._trail.record(conn, "dlq:Redrive", AccountId(entry.account_id), details=details)
