"""Bulk inserts take the executemany path and, on PostgreSQL, COPY, with the same results."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from silo.platform import Platform
from silo.store import bulk, insert_rows
from silo.store.schema import fleet_audit_log


@pytest.mark.parametrize("count", [3, bulk.COPY_THRESHOLD + 5])
def test_insert_rows_round_trips_types(platform: Platform, count: int) -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    rows = [
        {"at": at, "principal": "p", "action": f"a{i}", "account_id": None, "reason": "", "details": {"i": i}}
        for i in range(count)
    ]
    with platform.store.write() as conn:
        assert insert_rows(conn, fleet_audit_log, rows) == count
    with platform.store.read() as conn:
        got = conn.execute(
            sa.select(fleet_audit_log)
            .where(fleet_audit_log.c.principal == "p")
            .order_by(fleet_audit_log.c.seq)
        ).all()
    assert len(got) == count
    assert got[-1].at == at
    assert got[-1].details == {"i": count - 1}
