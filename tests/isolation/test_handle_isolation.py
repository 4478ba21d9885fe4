"""An account handle is bound to one account by construction: made in A, invisible from B."""

from __future__ import annotations

import inspect

import pytest

from silo.accounts import AccountContext, AccountId, AccountSpec, KeyKind, Principal
from silo.errors import NotFound
from silo.platform import AccountHandle, AccountKeys, ManagementHandle, Platform


def _pair(platform: Platform, mgmt: ManagementHandle) -> tuple[AccountHandle, AccountHandle, str, str]:
    a = mgmt.create_account(AccountSpec("tenant-a", "a@a.example"))
    b = mgmt.create_account(AccountSpec("tenant-b", "b@b.example"))
    key_a = mgmt.issue_account_key(a.account_id, "a")
    key_b = mgmt.issue_account_key(b.account_id, "b")
    handle_a = platform.account(platform.authenticate(key_a.token))
    handle_b = platform.account(platform.authenticate(key_b.token))
    return handle_a, handle_b, key_a.key.key_id, key_b.key.key_id


def test_keys_of_b_are_invisible_and_untouchable_from_a(platform: Platform, mgmt: ManagementHandle) -> None:
    handle_a, handle_b, key_a, key_b = _pair(platform, mgmt)
    assert {k.key_id for k in handle_a.keys.list().items} == {key_a}
    for attempt in (handle_a.keys.get, handle_a.keys.revoke, handle_a.keys.rotate):
        with pytest.raises(NotFound):
            attempt(key_b)
    assert handle_b.keys.get(key_b).status.value == "ACTIVE"
    assert handle_a.describe().name == "tenant-a"
    assert handle_b.describe().name == "tenant-b"


def test_a_session_assumed_into_a_sees_only_a(platform: Platform, mgmt: ManagementHandle) -> None:
    handle_a, _, key_a, key_b = _pair(platform, mgmt)
    session = mgmt.assume(handle_a.account_id, "support ticket")
    assert {k.key_id for k in session.handle.keys.list().items} == {key_a}
    with pytest.raises(NotFound):
        session.handle.keys.revoke(key_b)


def test_contexts_cannot_be_forged() -> None:
    principal = Principal("SKAAAAAAAAAAAAAAAAAA", AccountId("000000000001"), KeyKind.ACCOUNT)
    with pytest.raises(TypeError, match="issued by the platform"):
        AccountContext(AccountId("000000000002"), principal, read_only=False)


@pytest.mark.parametrize("cls", [AccountHandle, AccountKeys])
def test_no_account_plane_method_takes_an_account_id(cls: type) -> None:
    for name, member in inspect.getmembers(cls, inspect.isfunction):
        if name.startswith("_"):
            continue
        params = set(inspect.signature(member).parameters)
        assert not {p for p in params if "account" in p}, f"{cls.__name__}.{name} takes {params}"
