"""``DueRows``: due rows are claimed oldest first and leased (never claimed twice while leased),
released rows are due again at once, and the queue's size and next due time are read back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa

from silo.functions.async_queue import queued_row
from silo.platform import AccountHandle, Platform
from silo.store import insert_rows, utcnow
from silo.store.due_rows import DueRows
from silo.store.schema import async_invocations


def rows_of(platform: Platform) -> DueRows:
    c = async_invocations.c
    return DueRows(
        platform.store,
        async_invocations,
        c.next_attempt_at,
        (c.account_id, c.invocation_id),
        leased_until=c.lease_until,
    )


def test_claim_lease_and_release(platform: Platform, tenant: Callable[[str], AccountHandle]) -> None:
    account = tenant("queue").account_id
    now = utcnow()
    made = [
        queued_row(account, "fn", "$LATEST", b"{}", source="test", invocation_id=f"i{n}") for n in range(5)
    ]
    for n, row in enumerate(made):
        row["next_attempt_at"] = now - timedelta(seconds=10 - n)  # i0 oldest
    made[4]["next_attempt_at"] = now + timedelta(hours=1)  # not due yet
    with platform.store.write() as conn:
        insert_rows(conn, async_invocations, made)
    rows = rows_of(platform)
    assert rows.pending() == 5
    assert rows.next_due() == made[0]["next_attempt_at"]

    first = rows.claim(2, timedelta(minutes=5))
    assert [r.invocation_id for r in first] == ["i0", "i1"]
    second = rows.claim(10, timedelta(minutes=5))
    assert [r.invocation_id for r in second] == ["i2", "i3"]  # leased ones and i4 (not due) stay out
    assert rows.claim(10, timedelta(minutes=5)) == []
    due = rows.next_due()
    assert due is not None and now + timedelta(minutes=4) < due < made[4]["next_attempt_at"]  # a lease ends

    with platform.store.read() as conn:
        leased = dict(
            conn.execute(
                sa.select(
                    async_invocations.c.invocation_id, async_invocations.c.lease_until
                ).execution_options(cross_account=True)
            ).all()
        )
    assert leased["i0"] is not None and leased["i0"] > now + timedelta(minutes=4)
    assert leased["i4"] is None

    rows.release([rows.key_of(r) for r in first])
    again = rows.claim(10, timedelta(minutes=5))
    assert [r.invocation_id for r in again] == ["i0", "i1"]  # due again at once
    rows.release([(account, "i2")])
    with platform.store.read() as conn:
        freed = conn.execute(
            sa.select(async_invocations.c.lease_until)
            .where(async_invocations.c.invocation_id == "i2")
            .execution_options(cross_account=True)
        ).scalar_one()
    assert freed is None
