"""Redrive: a dead letter goes back to its function as a new ``Event`` invocation (the account boundary
is tested in ``tests/isolation/test_redrive_isolation.py``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from silo.dlq import DeadLetterFilter
from silo.errors import AccountNotActive, Conflict, NotFound
from silo.functions import FunctionSettings
from silo.platform import AccountHandle, ManagementHandle, Platform
from tests.helpers.dead_letters import deploy_job, failed_once, put_dead_letter, runs
from tests.helpers.functions import wait_until


@pytest.fixture
def job(
    tenant: Callable[..., AccountHandle], code: Callable[[str], bytes], outbox: Path
) -> Callable[[str], AccountHandle]:
    """An account with the function "job" (see ``deploy_job``)."""
    return lambda name: deploy_job(tenant(name), code, outbox)


def test_a_redrive_runs_the_function_again_in_its_account(
    job: Callable[[str], AccountHandle], mgmt: ManagementHandle, outbox: Path
) -> None:
    a = job("a")
    entry = failed_once(a, "job", {"fail": True, "n": 1})
    assert runs(outbox) == [{"account": a.account_id, "event": {"fail": True, "n": 1}}]

    redriven = mgmt.redrive_dead_letter(a.account_id, entry.entry_id)
    assert redriven.entry.entry_id == entry.entry_id and redriven.entry.redriven_at is not None
    assert set(redriven.detail) == {"invocation_id"} and not redriven.forced
    wait_until(lambda: len(runs(outbox)) == 2, timeout=30)
    assert runs(outbox)[1] == {"account": a.account_id, "event": {"fail": True, "n": 1}}

    # it failed again: a new entry, while the redriven one keeps its mark
    wait_until(lambda: len(a.dead_letters().items) == 2, timeout=30)
    newest, original = a.dead_letters().items
    assert original.entry_id == entry.entry_id and original.redriven_at == redriven.entry.redriven_at
    assert newest.redriven_at is None and json.loads(newest.payload) == {"fail": True, "n": 1}

    audit = mgmt.audit_log(action="dlq:Redrive").items
    assert len(audit) == 1 and audit[0].account_id == a.account_id
    assert audit[0].details == {
        "entry_id": entry.entry_id,
        "target": {"type": "function", "function": "job", "qualifier": "$LATEST"},
        "invocation_id": redriven.detail["invocation_id"],
    }


def test_a_redrive_after_a_fix_succeeds(
    job: Callable[[str], AccountHandle], mgmt: ManagementHandle, outbox: Path
) -> None:
    a = job("a")
    entry = failed_once(a, "job", {"fail": True})
    a.functions.update("job", FunctionSettings(environment={"OUT": str(outbox), "FIXED": "1"}))
    mgmt.redrive_dead_letter(a.account_id, entry.entry_id)
    wait_until(lambda: len(runs(outbox)) == 2, timeout=30)
    wait_until(lambda: "Invocations" in a.functions.metrics("job"), timeout=30)
    wait_until(lambda: a.functions.metrics("job")["Invocations"].sum == 2, timeout=30)
    assert [e.entry_id for e in a.dead_letters().items] == [entry.entry_id]  # no new failure


def test_a_second_redrive_is_refused_unless_forced(
    job: Callable[[str], AccountHandle], mgmt: ManagementHandle, outbox: Path
) -> None:
    a = job("a")
    entry = failed_once(a, "job", {"fail": True})
    first = mgmt.redrive_dead_letter(a.account_id, entry.entry_id)
    with pytest.raises(Conflict, match="already redriven"):
        mgmt.redrive_dead_letter(a.account_id, entry.entry_id)
    assert mgmt.dead_letter(a.account_id, entry.entry_id).redriven_at == first.entry.redriven_at

    again = mgmt.redrive_dead_letter(a.account_id, entry.entry_id, force=True)
    assert again.forced and again.detail["invocation_id"] != first.detail["invocation_id"]
    wait_until(lambda: len(runs(outbox)) == 3, timeout=30)
    audit = mgmt.audit_log(action="dlq:Redrive").items
    assert [e.details.get("force", False) for e in audit] == [True, False]


def test_target_types_without_a_redriver_are_refused(
    platform: Platform, tenant: Callable[..., AccountHandle], mgmt: ManagementHandle
) -> None:
    a = tenant("a")
    entry_id = put_dead_letter(platform, a.account_id, {"type": "queue", "queue": "jobs"})
    with pytest.raises(Conflict, match="entries with target type queue cannot be redriven yet"):
        mgmt.redrive_dead_letter(a.account_id, entry_id)
    assert mgmt.dead_letter(a.account_id, entry_id).redriven_at is None
    assert mgmt.audit_log(action="dlq:Redrive").items == []


def test_a_redrive_that_cannot_deliver_changes_nothing(
    platform: Platform, job: Callable[[str], AccountHandle], mgmt: ManagementHandle
) -> None:
    a = job("a")
    entry = failed_once(a, "job", {"fail": True})
    a.functions.delete("job")
    with pytest.raises(NotFound, match="job"):
        mgmt.redrive_dead_letter(a.account_id, entry.entry_id)
    mgmt.suspend_account(a.account_id)
    with pytest.raises(AccountNotActive):
        mgmt.redrive_dead_letter(a.account_id, entry.entry_id)
    assert mgmt.dead_letter(a.account_id, entry.entry_id).redriven_at is None
    assert platform.functions.queue.pending() == 0
    assert mgmt.audit_log(action="dlq:Redrive").items == []


def test_a_batch_redrives_matching_new_entries_and_reports_the_rest(
    platform: Platform, job: Callable[[str], AccountHandle], mgmt: ManagementHandle, outbox: Path
) -> None:
    a, b = job("a"), job("b")
    done = failed_once(a, "job", {"fail": True, "n": 0})
    mgmt.redrive_dead_letter(a.account_id, done.entry_id)
    wait_until(lambda: len(a.dead_letters().items) == 2, timeout=30)  # the redrive failed again
    again = a.dead_letters().items[0]
    other = failed_once(a, "job", {"fail": True, "n": 1})
    stuck = put_dead_letter(platform, a.account_id, {"type": "queue"})
    elsewhere = put_dead_letter(
        platform, b.account_id, {"type": "function", "function": "job", "qualifier": "$LATEST"}
    )

    batch = mgmt.redrive_dead_letters(DeadLetterFilter(account_id=a.account_id), limit=10)
    assert [r.entry.entry_id for r in batch.redriven] == [again.entry_id, other.entry_id]  # oldest first
    assert [(f.entry_id, f.error.code) for f in batch.failed] == [(stuck, "Conflict")]
    assert mgmt.dead_letter(b.account_id, elsewhere).redriven_at is None
    assert mgmt.dead_letter(a.account_id, stuck).redriven_at is None

    wait_until(lambda: len(a.dead_letters().items) == 6, timeout=30)  # both failed again
    assert {r["account"] for r in runs(outbox)} == {a.account_id}
    filtered = DeadLetterFilter(account_id=a.account_id, reason="EventAgeExceeded")
    assert mgmt.redrive_dead_letters(filtered).redriven == []
