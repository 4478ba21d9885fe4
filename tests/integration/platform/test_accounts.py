"""Accounts and OUs through the management handle, on every backend."""

from __future__ import annotations

from datetime import timedelta

import pytest

from silo.accounts import AccountSpec, AccountStatus
from silo.errors import Conflict, NotFound, ValidationError
from silo.platform import ManagementHandle, Platform
from silo.settings import Settings
from silo.store import utcnow


def test_create_describe_and_ids_are_twelve_digits(mgmt: ManagementHandle) -> None:
    made = mgmt.create_account(AccountSpec("acme", "ops@acme.example", tags={"tier": "gold"}))
    assert len(made.account_id) == 12 and made.account_id.isdigit()
    found = mgmt.describe_account(made.account_id)
    assert (found.name, found.owner_email, found.status, found.tags) == (
        "acme",
        "ops@acme.example",
        AccountStatus.ACTIVE,
        {"tier": "gold"},
    )


def test_batch_is_all_or_nothing(mgmt: ManagementHandle) -> None:
    mgmt.create_account(AccountSpec("taken", "a@b.example"))
    before = len(mgmt.list_accounts(limit=1000).items)
    with pytest.raises(Conflict, match="taken"):
        mgmt.create_accounts([AccountSpec("fresh-1", "a@b.example"), AccountSpec("taken", "a@b.example")])
    with pytest.raises(ValidationError, match=r"accounts\[1\]\.owner_email"):
        mgmt.create_accounts([AccountSpec("fresh-2", "a@b.example"), AccountSpec("fresh-3", "nope")])
    assert len(mgmt.list_accounts(limit=1000).items) == before


def test_listing_pages_neither_repeat_nor_skip(mgmt: ManagementHandle) -> None:
    mgmt.create_accounts([AccountSpec(f"t-{i:03d}", "a@b.example") for i in range(23)])
    seen: list[str] = []
    token = None
    while True:
        page = mgmt.list_accounts(limit=5, next_token=token)
        seen += [a.account_id for a in page.items]
        token = page.next_token
        if token is None:
            break
    assert len(seen) == len(set(seen)) == 24  # 23 + the management account
    assert seen == sorted(seen)


def test_filters_by_ou_recursively_and_by_tag(mgmt: ManagementHandle) -> None:
    prod = mgmt.create_ou("prod")
    eu = mgmt.create_ou("eu", prod.ou_id)
    a = mgmt.create_account(AccountSpec("a", "a@b.example", ou_id=prod.ou_id, tags={"tier": "gold"}))
    b = mgmt.create_account(AccountSpec("b", "a@b.example", ou_id=eu.ou_id, tags={"tier": "free"}))
    mgmt.create_account(AccountSpec("c", "a@b.example"))
    ids = lambda page: {x.account_id for x in page.items}  # noqa: E731
    assert ids(mgmt.list_accounts(ou_id=prod.ou_id)) == {a.account_id}
    assert ids(mgmt.list_accounts(ou_id=prod.ou_id, recursive=True)) == {a.account_id, b.account_id}
    assert ids(mgmt.list_accounts(tags={"tier": "free"})) == {b.account_id}
    assert ids(mgmt.list_accounts(tags={"tier": None})) == {a.account_id, b.account_id}


def test_lifecycle_suspend_reactivate_close(mgmt: ManagementHandle) -> None:
    made = mgmt.create_account(AccountSpec("life", "a@b.example"))
    assert mgmt.suspend_account(made.account_id).status is AccountStatus.SUSPENDED
    with pytest.raises(Conflict):
        mgmt.suspend_account(made.account_id)
    assert mgmt.reactivate_account(made.account_id).status is AccountStatus.ACTIVE
    closed = mgmt.close_account(made.account_id, "customer left")
    assert closed.status is AccountStatus.CLOSED and closed.purge_after is not None
    with pytest.raises(Conflict):
        mgmt.reactivate_account(made.account_id)
    assert mgmt.describe_account(made.account_id).status is AccountStatus.CLOSED


def test_management_account_cannot_be_suspended_or_closed(mgmt: ManagementHandle) -> None:
    with pytest.raises(Conflict):
        mgmt.suspend_account(mgmt.principal.account_id)
    with pytest.raises(Conflict):
        mgmt.close_account(mgmt.principal.account_id)


def test_purge_removes_every_row_after_retention(platform: Platform, mgmt: ManagementHandle) -> None:
    made = mgmt.create_account(AccountSpec("gone", "a@b.example", tags={"k": "v"}))
    kept = mgmt.create_account(AccountSpec("kept", "a@b.example", tags={"k": "v"}))
    mgmt.issue_account_key(made.account_id, "ci")
    mgmt.close_account(made.account_id)
    assert mgmt.purge_expired_accounts() == []
    purged = mgmt.purge_expired_accounts(utcnow() + timedelta(days=91))
    assert purged == [made.account_id]
    with pytest.raises(NotFound):
        mgmt.describe_account(made.account_id)
    assert mgmt.describe_account(kept.account_id).tags == {"k": "v"}
    assert mgmt.audit_log(account=made.account_id, action="accounts:Purge").items


def test_ou_tree_moves_and_rules(mgmt: ManagementHandle) -> None:
    prod = mgmt.create_ou("prod")
    with pytest.raises(Conflict):
        mgmt.create_ou("prod")
    child = mgmt.create_ou("canary", prod.ou_id)
    assert child.ancestry[-2:] == [prod.ou_id, child.ou_id]
    made = mgmt.create_account(AccountSpec("m", "a@b.example"))
    moved = mgmt.move_account(made.account_id, child.ou_id)
    assert moved.ou_id == child.ou_id
    with pytest.raises(Conflict, match="accounts"):
        mgmt.delete_ou(child.ou_id)
    with pytest.raises(Conflict, match="child"):
        mgmt.delete_ou(prod.ou_id)
    mgmt.move_account(made.account_id, mgmt.ou_tree()[0].ou_id)
    mgmt.delete_ou(child.ou_id)
    assert [o.name for o in mgmt.list_ous(prod.ou_id)] == []
    assert mgmt.rename_ou(prod.ou_id, "production").name == "production"


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (AccountSpec("", "a@b.example"), "name"),
        (AccountSpec("x" * 65, "a@b.example"), "name"),
        (AccountSpec("ok", "not-an-email"), "owner_email"),
        (AccountSpec("ok", "a@b.example", tags={"silo:reserved": "x"}), "tags"),
        (AccountSpec("ok", "a@b.example", concurrency_limit=0), "concurrency_limit"),
    ],
)
def test_bad_specs_name_the_field(mgmt: ManagementHandle, spec: AccountSpec, field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        mgmt.create_account(spec)


def test_bad_ids_are_validation_errors(mgmt: ManagementHandle) -> None:
    with pytest.raises(ValidationError, match="12 digits"):
        mgmt.describe_account("12345")
    with pytest.raises(ValidationError, match="OU"):
        mgmt.create_account(AccountSpec("x", "a@b.example", ou_id="nope"))


def test_concurrent_creates_of_one_name_give_one_account_and_conflicts(mgmt: ManagementHandle) -> None:
    import threading

    results: list[str] = []

    def create() -> None:
        try:
            mgmt.create_account(AccountSpec("racy", "a@b.example"))
            results.append("made")
        except Conflict:
            results.append("conflict")

    threads = [threading.Thread(target=create) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("made") == 1 and results.count("conflict") == 5


def test_names_are_unique_ignoring_case(mgmt: ManagementHandle) -> None:
    mgmt.create_account(AccountSpec("Acme", "a@b.example"))
    with pytest.raises(Conflict):
        mgmt.create_account(AccountSpec("acme", "a@b.example"))


def test_closed_accounts_are_purged_automatically_after_retention(settings: Settings) -> None:
    from tests.helpers.functions import wait_until

    platform = Platform.open(settings.with_(closed_account_retention_days=0))
    try:
        init = platform.initialise()
        assert init is not None
        mgmt = platform.management(platform.authenticate(init.root_key.token))
        made = mgmt.create_account(AccountSpec("short-lived", "a@b.example"))
        assert platform.services.housekeeper.runs == 0  # nothing closed: the thread never ran
        mgmt.close_account(made.account_id)

        def purged() -> bool:
            try:
                mgmt.describe_account(made.account_id)
            except NotFound:
                return True
            return False

        wait_until(purged, timeout=15)
        (entry,) = mgmt.audit_log(action="accounts:Purge").items  # written in the purge's transaction
        assert (entry.account_id, entry.principal) == (made.account_id, "silo:housekeeping")
    finally:
        platform.close()
