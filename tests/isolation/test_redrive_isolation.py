"""Redrive stays inside the entry's account: the account is the stored entry's, and the target names
a resource of that account only, so a payload can never be redriven into another account."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from silo.dlq import DeadLetter, Redelivery
from silo.errors import NotFound
from silo.platform import AccountHandle, ManagementHandle, Platform
from tests.helpers.dead_letters import deploy_job, failed_once, put_dead_letter, runs
from tests.helpers.functions import wait_until


@pytest.fixture
def job(
    tenant: Callable[..., AccountHandle], code: Callable[[str], bytes], outbox: Path
) -> Callable[[str], AccountHandle]:
    return lambda name: deploy_job(tenant(name), code, outbox)


def test_a_redrive_never_reaches_another_account(
    job: Callable[[str], AccountHandle], mgmt: ManagementHandle, outbox: Path
) -> None:
    a, b = job("a"), job("b")  # the same function name in both
    entry = failed_once(a, "job", {"fail": True, "from": "a"})
    with pytest.raises(NotFound):  # the path's account only finds the entry: B has no such entry
        mgmt.redrive_dead_letter(b.account_id, entry.entry_id)
    assert mgmt.dead_letter(a.account_id, entry.entry_id).redriven_at is None

    mgmt.redrive_dead_letter(a.account_id, entry.entry_id)
    wait_until(lambda: len(runs(outbox)) == 2, timeout=30)
    wait_until(lambda: len(a.dead_letters().items) == 2, timeout=30)
    assert {r["account"] for r in runs(outbox)} == {a.account_id}
    assert b.dead_letters().items == []
    assert "Invocations" not in b.functions.metrics("job")


def test_the_scope_comes_from_the_stored_entry_whatever_its_target_says(
    platform: Platform, tenant: Callable[..., AccountHandle], mgmt: ManagementHandle
) -> None:
    a, b = tenant("a"), tenant("b")
    seen: list[tuple[str, str]] = []

    def probe(scope: str, conn: sa.Connection, entry: DeadLetter) -> Redelivery:
        seen.append((scope, entry.account_id))
        return Redelivery({"probed": True})

    platform.dlq.register_redriver("probe", lambda account: account, probe)
    entry_id = put_dead_letter(platform, a.account_id, {"type": "probe", "account": b.account_id})
    redriven = mgmt.redrive_dead_letter(a.account_id, entry_id)
    assert seen == [(a.account_id, a.account_id)] and redriven.detail == {"probed": True}
