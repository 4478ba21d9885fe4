"""Keys: issue, rotate, revoke, authenticate; assume is audited and time-limited."""

from __future__ import annotations

from datetime import timedelta

import pytest

from silo.accounts import AccountSpec, KeyKind
from silo.errors import AccessDenied, AccountNotActive, AuthenticationError, Conflict, ValidationError
from silo.platform import Initialised, ManagementHandle, Platform
from silo.store.schema import access_keys


def test_secrets_are_stored_hashed(platform: Platform, init: Initialised) -> None:
    secret = init.root_key.token.split(".", 1)[1]
    with platform.store.read() as conn:
        stored = conn.execute(
            access_keys.select().where(
                access_keys.c.account_id == init.management_account_id,
                access_keys.c.key_id == init.root_key.key.key_id,
            )
        ).one()
    assert secret not in stored.secret_hash and len(stored.secret_hash) == 64


def test_root_key_file_is_private(init: Initialised) -> None:
    assert init.root_key_path.read_text().strip() == init.root_key.token
    assert init.root_key_path.stat().st_mode & 0o777 == 0o600


def test_revoked_and_tampered_keys_are_refused(platform: Platform, mgmt: ManagementHandle) -> None:
    made = mgmt.create_account(AccountSpec("k", "a@b.example"))
    issued = mgmt.issue_account_key(made.account_id, "ci")
    assert platform.authenticate(issued.token).account_id == made.account_id
    with pytest.raises(AuthenticationError):
        platform.authenticate(issued.token[:-1] + ("A" if issued.token[-1] != "A" else "B"))
    mgmt.revoke_account_key(made.account_id, issued.key.key_id)
    with pytest.raises(AuthenticationError, match="revoked"):
        platform.authenticate(issued.token)


def test_rotation_with_and_without_grace(platform: Platform, mgmt: ManagementHandle) -> None:
    made = mgmt.create_account(AccountSpec("r", "a@b.example"))
    first = mgmt.issue_account_key(made.account_id, "ci")
    handle = platform.account(platform.authenticate(first.token))
    second = handle.keys.rotate(first.key.key_id)
    with pytest.raises(AuthenticationError):
        platform.authenticate(first.token)
    assert platform.authenticate(second.token).key_id == second.key.key_id
    handle = platform.account(platform.authenticate(second.token))
    third = handle.keys.rotate(second.key.key_id, grace_seconds=600)
    assert platform.authenticate(second.token).key_id == second.key.key_id  # still inside its grace
    assert platform.authenticate(third.token).key_id == third.key.key_id
    with pytest.raises(ValidationError):
        handle.keys.rotate(third.key.key_id, grace_seconds=-1)


def test_last_management_key_cannot_be_revoked(mgmt: ManagementHandle) -> None:
    with pytest.raises(Conflict, match="last"):
        mgmt.revoke_management_key(mgmt.principal.key_id)
    extra = mgmt.create_management_key("second")
    mgmt.revoke_management_key(mgmt.principal.key_id)
    assert extra.key.kind is KeyKind.MANAGEMENT


def test_account_keys_cannot_reach_the_management_plane(platform: Platform, mgmt: ManagementHandle) -> None:
    made = mgmt.create_account(AccountSpec("a", "a@b.example"))
    issued = mgmt.issue_account_key(made.account_id, "ci")
    with pytest.raises(AccessDenied):
        platform.management(platform.authenticate(issued.token))


def test_suspended_account_keys_are_refused_and_reactivation_restores(
    platform: Platform, mgmt: ManagementHandle
) -> None:
    made = mgmt.create_account(AccountSpec("s", "a@b.example"))
    issued = mgmt.issue_account_key(made.account_id, "ci")
    mgmt.suspend_account(made.account_id)
    with pytest.raises(AccountNotActive):
        platform.authenticate(issued.token)
    mgmt.reactivate_account(made.account_id)
    assert platform.authenticate(issued.token).account_id == made.account_id


def test_closing_revokes_keys_but_management_can_still_read(
    platform: Platform, mgmt: ManagementHandle
) -> None:
    made = mgmt.create_account(AccountSpec("c", "a@b.example"))
    issued = mgmt.issue_account_key(made.account_id, "ci")
    mgmt.close_account(made.account_id)
    with pytest.raises(AuthenticationError):
        platform.authenticate(issued.token)
    session = mgmt.assume(made.account_id, "retention review")
    assert session.handle.describe().name == "c"
    with pytest.raises(AccountNotActive):
        session.handle.keys.create("new")


def test_assume_is_audited_and_expires(platform: Platform, mgmt: ManagementHandle) -> None:
    made = mgmt.create_account(AccountSpec("t", "a@b.example"))
    session = mgmt.assume(made.account_id, "ticket 42", duration=timedelta(minutes=5))
    entry = mgmt.audit_log(action="accounts:Assume").items[0]
    assert (entry.principal, entry.account_id, entry.reason) == (
        mgmt.principal.key_id,
        made.account_id,
        "ticket 42",
    )
    assert entry.details["session_key_id"] == session.key.key.key_id
    principal = platform.authenticate(session.key.token)
    assert (principal.kind, principal.account_id, principal.assumed_by) == (
        KeyKind.SESSION,
        made.account_id,
        mgmt.principal.key_id,
    )
    assert session.handle.context.account_id == made.account_id
    with pytest.raises(ValidationError, match="reason"):
        mgmt.assume(made.account_id, "")
    with pytest.raises(ValidationError, match="duration"):
        mgmt.assume(made.account_id, "too long", duration=timedelta(days=2))


def test_sessions_end_when_the_key_that_assumed_them_is_revoked(
    platform: Platform, mgmt: ManagementHandle
) -> None:
    made = mgmt.create_account(AccountSpec("t", "a@b.example"))
    operator = mgmt.create_management_key("operator")
    as_operator = platform.management(platform.authenticate(operator.token))
    session = as_operator.assume(made.account_id, "on call")
    assert platform.authenticate(session.key.token).account_id == made.account_id
    mgmt.revoke_management_key(operator.key.key_id)
    with pytest.raises(AuthenticationError, match="assumed"):
        platform.authenticate(session.key.token)


def test_account_handles_never_touch_management_keys(
    platform: Platform, mgmt: ManagementHandle, init: Initialised
) -> None:
    from silo.errors import NotFound

    handle = platform.account(platform.authenticate(init.root_key.token))  # acts in the management account
    with pytest.raises(NotFound):
        handle.keys.revoke(init.root_key.key.key_id)
    with pytest.raises(NotFound):
        mgmt.revoke_account_key(init.management_account_id, init.root_key.key.key_id)
    assert platform.authenticate(init.root_key.token).kind is KeyKind.MANAGEMENT


def test_management_changes_are_audited(mgmt: ManagementHandle) -> None:
    ou = mgmt.create_ou("audited")
    made = mgmt.create_account(AccountSpec("aud", "a@b.example", ou_id=ou.ou_id))
    mgmt.tag_account(made.account_id, {"k": "v"})
    mgmt.suspend_account(made.account_id, "unpaid")
    mgmt.reactivate_account(made.account_id)
    key = mgmt.create_management_key("second")
    mgmt.rotate_management_key(key.key.key_id)
    actions = [e.action for e in mgmt.audit_log(limit=100).items]
    for expected in (
        "ous:Create",
        "accounts:Create",
        "accounts:Tag",
        "accounts:Suspend",
        "accounts:Reactivate",
        "keys:CreateManagementKey",
        "keys:RotateManagementKey",
    ):
        assert expected in actions
    suspend = mgmt.audit_log(action="accounts:Suspend").items[0]
    assert (suspend.account_id, suspend.reason) == (made.account_id, "unpaid")
