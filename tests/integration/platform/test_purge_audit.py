"""A purge and its audit record are one transaction: if the record cannot be written, nothing is purged."""

from __future__ import annotations

import pytest

from silo.accounts import AccountSpec
from silo.dlq import DeadLetterFilter
from silo.platform import ManagementHandle, Platform
from silo.store import utcnow
from tests.helpers.dead_letters import put_dead_letter


class AuditDown(Exception):
    pass


def _close(mgmt: ManagementHandle) -> str:
    made = mgmt.create_account(AccountSpec("closing", "c@c.example"))
    mgmt.close_account(made.account_id)
    return made.account_id


def test_an_account_purge_is_rolled_back_with_its_audit_record(
    platform: Platform, mgmt: ManagementHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = _close(mgmt)
    later = utcnow().replace(year=utcnow().year + 1)
    with monkeypatch.context() as patched:
        patched.setattr(platform.audit, "record", _fail)
        with pytest.raises(AuditDown):
            mgmt.purge_expired_accounts(now=later)
    assert mgmt.describe_account(account).status.value == "CLOSED"  # still there, not half-purged

    assert mgmt.purge_expired_accounts(now=later) == [account]
    (entry,) = mgmt.audit_log(action="accounts:Purge").items
    assert entry.account_id == account


def test_a_dead_letter_purge_is_rolled_back_with_its_audit_record(
    platform: Platform, mgmt: ManagementHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = mgmt.create_account(AccountSpec("a", "a@a.example")).account_id
    put_dead_letter(platform, account)
    everything = DeadLetterFilter(account_id=account)
    with monkeypatch.context() as patched:
        patched.setattr(platform.audit, "record", _fail)
        with pytest.raises(AuditDown):
            mgmt.purge_dead_letters(everything)
        with pytest.raises(AuditDown):
            mgmt.expire_dead_letters(now=utcnow().replace(year=utcnow().year + 1))
    assert len(mgmt.dead_letters(everything).items) == 1

    assert mgmt.purge_dead_letters(everything) == 1
    (entry,) = mgmt.audit_log(action="dlq:Purge").items
    assert (entry.account_id, entry.details) == (account, {"count": 1})


def _fail(*args: object, **kwargs: object) -> None:
    raise AuditDown
