"""Guardrails inherit root -> OU -> account and deny through every account handle."""

from __future__ import annotations

import pytest

from silo.accounts import AccountSpec
from silo.errors import GuardrailDenied, InvalidPolicy, NotFound, ValidationError
from silo.platform import ManagementHandle, Platform

DENY_KEY_CREATE = {"Statement": [{"Sid": "NoNewKeys", "Effect": "Deny", "Action": "keys:Create"}]}


def _handle_for(platform: Platform, mgmt: ManagementHandle, name: str, ou_id: str | None = None):  # type: ignore[no-untyped-def]
    made = mgmt.create_account(AccountSpec(name, "a@b.example", ou_id=ou_id))
    issued = mgmt.issue_account_key(made.account_id, "ci")
    return made, platform.account(platform.authenticate(issued.token))


@pytest.mark.parametrize("level", ["root", "ou", "parent-ou", "account"])
def test_denial_is_inherited_from_every_level(platform: Platform, mgmt: ManagementHandle, level: str) -> None:
    parent = mgmt.create_ou("parent")
    ou = mgmt.create_ou("child", parent.ou_id)
    sibling = mgmt.create_ou("sibling")
    made, handle = _handle_for(platform, mgmt, "inside", ou.ou_id)
    _, outside = _handle_for(platform, mgmt, "outside", sibling.ou_id)
    target = {
        "root": mgmt.ou_tree()[0].ou_id,
        "ou": ou.ou_id,
        "parent-ou": parent.ou_id,
        "account": made.account_id,
    }[level]
    guardrail = mgmt.create_guardrail("no-keys", DENY_KEY_CREATE)
    mgmt.attach_guardrail(guardrail.policy_id, target)
    with pytest.raises(GuardrailDenied) as denied:
        handle.keys.create("blocked")
    assert "no-keys" in denied.value.message and "NoNewKeys" in denied.value.message
    assert target in denied.value.message
    if level != "root":
        outside.keys.create("fine")  # a sibling subtree is untouched
    handle.keys.list()  # other actions still work
    mgmt.detach_guardrail(guardrail.policy_id, target)
    handle.keys.create("allowed-again")


def test_first_denial_reported_is_the_highest_level(platform: Platform, mgmt: ManagementHandle) -> None:
    ou = mgmt.create_ou("ou")
    made, handle = _handle_for(platform, mgmt, "a", ou.ou_id)
    on_account = mgmt.create_guardrail("account-level", DENY_KEY_CREATE)
    on_ou = mgmt.create_guardrail("ou-level", DENY_KEY_CREATE)
    mgmt.attach_guardrail(on_account.policy_id, made.account_id)
    mgmt.attach_guardrail(on_ou.policy_id, ou.ou_id)
    with pytest.raises(GuardrailDenied, match="ou-level"):
        handle.keys.create("x")
    assert [p.name for p in mgmt.effective_guardrails(made.account_id)] == ["ou-level", "account-level"]


def test_conditions_on_facts(platform: Platform, mgmt: ManagementHandle) -> None:
    _, handle = _handle_for(platform, mgmt, "a")
    doc = {
        "Statement": [
            {
                "Sid": "NoCiKeys",
                "Effect": "Deny",
                "Action": "keys:*",
                "Condition": {"StringLike": {"KeyName": "ci-*"}},
            }
        ]
    }
    mgmt.attach_guardrail(mgmt.create_guardrail("no-ci", doc).policy_id, mgmt.ou_tree()[0].ou_id)
    with pytest.raises(GuardrailDenied):
        handle.keys.create("ci-2")
    handle.keys.create("deploy")


def test_assumed_sessions_are_bound_by_guardrails_too(platform: Platform, mgmt: ManagementHandle) -> None:
    made, _ = _handle_for(platform, mgmt, "a")
    mgmt.attach_guardrail(mgmt.create_guardrail("no-keys", DENY_KEY_CREATE).policy_id, made.account_id)
    session = mgmt.assume(made.account_id, "check guardrails")
    with pytest.raises(GuardrailDenied):
        session.handle.keys.create("x")


def test_bad_documents_and_targets(mgmt: ManagementHandle) -> None:
    with pytest.raises(InvalidPolicy, match=r"Statement\[0\]"):
        mgmt.create_guardrail("bad", {"Statement": [{"Effect": "Deny", "Action": "nocolon"}]})
    good = mgmt.create_guardrail("good", DENY_KEY_CREATE)
    with pytest.raises(NotFound):
        mgmt.attach_guardrail(good.policy_id, "000000000000")
    with pytest.raises(ValidationError, match="target_id"):
        mgmt.attach_guardrail(good.policy_id, "somewhere")
    with pytest.raises(ValidationError):
        mgmt.describe_guardrail("gr-nope")
