"""Dead letters expire after ``dlq_retention_days``: the housekeeper deletes them when the oldest is due,
is woken by the first entry after an empty queue (or at start), and never runs on an idle platform."""

from __future__ import annotations

from datetime import timedelta

from silo.accounts import AccountSpec
from silo.platform import ManagementHandle, Platform
from silo.settings import Settings
from tests.helpers.dead_letters import put_dead_letter
from tests.helpers.functions import wait_until


def test_expiry_removes_only_entries_older_than_the_retention(
    platform: Platform, mgmt: ManagementHandle
) -> None:
    platform.services.housekeeper.stop()  # expire by hand here (it would expire the old ones at once)
    a = mgmt.create_account(AccountSpec("a", "a@a.example")).account_id
    b = mgmt.create_account(AccountSpec("b", "b@b.example")).account_id
    old, young = (
        put_dead_letter(platform, a, age=timedelta(days=15)),
        put_dead_letter(platform, a, age=timedelta(days=13)),
    )
    put_dead_letter(platform, b, age=timedelta(days=14, minutes=1))
    oldest = mgmt.dead_letter(a, old).last_at
    assert platform.dlq.next_expiry_at() == oldest + timedelta(days=14)

    assert mgmt.expire_dead_letters() == 2
    assert [e.entry_id for e in mgmt.dead_letters().items] == [young]
    assert platform.dlq.next_expiry_at() == mgmt.dead_letter(a, young).last_at + timedelta(days=14)
    (audit,) = mgmt.audit_log(action="dlq:PurgeExpired").items
    assert audit.details == {"count": 2, "retention_days": 14} and audit.account_id is None

    assert mgmt.expire_dead_letters() == 0  # nothing due: nothing deleted, nothing audited
    assert len(mgmt.audit_log(action="dlq:PurgeExpired").items) == 1


def test_the_housekeeper_expires_entries_when_due_and_sleeps_otherwise(settings: Settings) -> None:
    platform = Platform.open(settings.with_(dlq_retention_days=0))
    try:
        init = platform.initialise()
        assert init is not None
        mgmt = platform.management(platform.authenticate(init.root_key.token))
        account = mgmt.create_account(AccountSpec("a", "a@a.example")).account_id
        assert platform.services.housekeeper.runs == 0  # an empty queue: the thread never ran
        put_dead_letter(
            platform, account
        )  # the first entry wakes it once committed; with 0 days it is due at once
        wait_until(lambda: mgmt.dead_letters().items == [], timeout=15)
        (audit,) = mgmt.audit_log(action="dlq:PurgeExpired").items  # same transaction as the delete
        assert (audit.principal, audit.details["count"]) == ("silo:housekeeping", 1)
        put_dead_letter(platform, account)  # the queue was empty again: the next first entry wakes it too
        wait_until(lambda: mgmt.dead_letters().items == [], timeout=15)
    finally:
        platform.close()


def test_entries_waiting_at_start_are_expired(settings: Settings) -> None:
    first = Platform.open(settings)
    init = first.initialise()
    assert init is not None
    mgmt = first.management(first.authenticate(init.root_key.token))
    account = mgmt.create_account(AccountSpec("a", "a@a.example")).account_id
    put_dead_letter(first, account)
    put_dead_letter(first, account, age=timedelta(days=1))
    first.close()

    second = Platform.open(settings.with_(dlq_retention_days=1))
    try:
        mgmt = second.management(second.authenticate(init.root_key.token))
        wait_until(lambda: len(mgmt.dead_letters().items) == 1, timeout=15)
        assert second.dlq.next_expiry_at() is not None  # the young one: the thread sleeps until then
        assert mgmt.audit_log(action="dlq:PurgeExpired").items[0].principal == "silo:housekeeping"
    finally:
        second.close()
