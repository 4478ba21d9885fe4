"""Guardrails over HTTP: CRUD, attachment, inheritance root -> OU -> account, and who may change them."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Api

DENY_KEY_CREATE = {"Statement": [{"Sid": "NoNewKeys", "Effect": "Deny", "Action": "keys:Create"}]}


def _guardrail(api: Api, name: str = "no-keys", document: Any = None) -> dict[str, Any]:
    made: dict[str, Any] = api.post(
        "/v1/mgmt/guardrails", {"name": name, "document": document or DENY_KEY_CREATE}, 201
    )
    return made


def test_create_read_update_delete(api: Api) -> None:
    made = _guardrail(api)
    assert set(made) == {
        "policy_id",
        "name",
        "description",
        "document",
        "targets",
        "created_at",
        "updated_at",
    }
    assert made["document"]["Version"] and made["document"]["Statement"][0]["Sid"] == "NoNewKeys"
    assert made["targets"] == []
    pid = made["policy_id"]
    assert api.get(f"/v1/mgmt/guardrails/{pid}") == made
    assert api.get("/v1/mgmt/guardrails")["items"] == [made]
    assert api.post("/v1/mgmt/guardrails", {"name": "no-keys", "document": DENY_KEY_CREATE}, 409)

    described = api.patch(f"/v1/mgmt/guardrails/{pid}", {"description": "keys come from the pipeline"})
    assert described["description"] == "keys come from the pipeline"
    assert described["document"] == made["document"]
    wider = {"Statement": [{"Sid": "NoKeys", "Effect": "Deny", "Action": "keys:*"}]}
    updated = api.patch(f"/v1/mgmt/guardrails/{pid}", {"document": wider})
    assert updated["document"]["Statement"][0]["Action"] == ["keys:*"]
    bad = api.patch(f"/v1/mgmt/guardrails/{pid}", {"document": {"Statement": []}}, 400)
    assert bad["code"] == "InvalidPolicy" and bad["message"].startswith("Statement")

    root = api.get("/v1/mgmt/ous/root")["ou_id"]
    attached = api.post(f"/v1/mgmt/guardrails/{pid}/attach", {"target_id": root})
    assert attached["targets"] == [root]
    assert api.post(f"/v1/mgmt/guardrails/{pid}/attach", {"target_id": root}, 409)["code"] == "Conflict"
    assert api.delete(f"/v1/mgmt/guardrails/{pid}", 409)["code"] == "Conflict"
    assert api.post(f"/v1/mgmt/guardrails/{pid}/detach", {"target_id": root})["targets"] == []
    api.post(f"/v1/mgmt/guardrails/{pid}/detach", {"target_id": root}, 404)
    api.delete(f"/v1/mgmt/guardrails/{pid}")
    api.get(f"/v1/mgmt/guardrails/{pid}", 404)
    assert api.get("/v1/mgmt/guardrails")["items"] == []


@pytest.mark.parametrize("level", ["root", "parent-ou", "ou", "account"])
def test_denial_is_inherited_and_detaching_restores(api: Api, level: str) -> None:
    parent = api.ou("parent")
    ou = api.ou("child", parent["ou_id"])
    sibling = api.ou("sibling")
    inside = api.account("inside", ou_id=ou["ou_id"])
    outside = api.account("outside", ou_id=sibling["ou_id"])
    tenant = api.as_(api.account_key(inside["account_id"]))
    neighbour = api.as_(api.account_key(outside["account_id"]))
    target = {
        "root": api.get("/v1/mgmt/ous/root")["ou_id"],
        "parent-ou": parent["ou_id"],
        "ou": ou["ou_id"],
        "account": inside["account_id"],
    }[level]
    pid = _guardrail(api)["policy_id"]
    api.post(f"/v1/mgmt/guardrails/{pid}/attach", {"target_id": target})

    denied = tenant.post("/v1/account/keys", {"name": "blocked"}, 403)
    assert denied["code"] == "GuardrailDenied"
    for part in ("no-keys", "NoNewKeys", target, "keys:Create"):
        assert part in denied["message"]
    assert denied["details"]["policy_id"] == pid and denied["details"]["sid"] == "NoNewKeys"
    tenant.get("/v1/account/keys")  # other actions still allowed
    if level != "root":
        neighbour.post("/v1/account/keys", {"name": "fine"}, 201)  # a sibling subtree is unaffected

    effective = tenant.get("/v1/account/guardrails")["items"]
    assert [(g["policy_id"], g["name"], g["target"]) for g in effective] == [(pid, "no-keys", target)]
    assert effective[0]["document"]["Statement"][0]["Sid"] == "NoNewKeys"
    assert api.get(f"/v1/mgmt/accounts/{inside['account_id']}/guardrails")["items"] == effective

    session = api.as_(api.assume(inside["account_id"]))
    assert session.post("/v1/account/keys", {"name": "also-blocked"}, 403)["code"] == "GuardrailDenied"

    api.post(f"/v1/mgmt/guardrails/{pid}/detach", {"target_id": target})
    tenant.post("/v1/account/keys", {"name": "allowed-again"}, 201)
    assert tenant.get("/v1/account/guardrails")["items"] == []


def test_effective_guardrails_are_ordered_root_first(api: Api) -> None:
    ou = api.ou("ou")
    made = api.account("ordered", ou_id=ou["ou_id"])
    on_account = _guardrail(api, "account-level")["policy_id"]
    on_ou = _guardrail(api, "ou-level")["policy_id"]
    api.post(f"/v1/mgmt/guardrails/{on_account}/attach", {"target_id": made["account_id"]})
    api.post(f"/v1/mgmt/guardrails/{on_ou}/attach", {"target_id": ou["ou_id"]})
    listed = api.get(f"/v1/mgmt/accounts/{made['account_id']}/guardrails")["items"]
    assert [g["name"] for g in listed] == ["ou-level", "account-level"]
    tenant = api.as_(api.account_key(made["account_id"]))
    assert "ou-level" in tenant.post("/v1/account/keys", {"name": "x"}, 403)["message"]


def test_conditions_use_the_request_facts(api: Api) -> None:
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
    pid = _guardrail(api, "no-ci", doc)["policy_id"]
    api.post(f"/v1/mgmt/guardrails/{pid}/attach", {"target_id": api.get("/v1/mgmt/ous/root")["ou_id"]})
    tenant = api.as_(api.account_key(api.account("conditional")["account_id"]))
    assert tenant.post("/v1/account/keys", {"name": "ci-2"}, 403)["code"] == "GuardrailDenied"
    tenant.post("/v1/account/keys", {"name": "deploy"}, 201)


def test_guardrails_cannot_be_changed_from_an_account(api: Api) -> None:
    made = api.account("restricted")
    pid = _guardrail(api)["policy_id"]
    api.post(f"/v1/mgmt/guardrails/{pid}/attach", {"target_id": made["account_id"]})
    for token in (api.account_key(made["account_id"]), api.assume(made["account_id"])):
        tenant = api.as_(token)
        attempts = [
            ("GET", "/v1/mgmt/guardrails", None),
            ("POST", "/v1/mgmt/guardrails", {"name": "mine", "document": DENY_KEY_CREATE}),
            ("GET", f"/v1/mgmt/guardrails/{pid}", None),
            ("PATCH", f"/v1/mgmt/guardrails/{pid}", {"description": "loosened"}),
            ("POST", f"/v1/mgmt/guardrails/{pid}/detach", {"target_id": made["account_id"]}),
            ("POST", f"/v1/mgmt/guardrails/{pid}/attach", {"target_id": made["account_id"]}),
            ("DELETE", f"/v1/mgmt/guardrails/{pid}", None),
            ("GET", f"/v1/mgmt/accounts/{made['account_id']}/guardrails", None),
        ]
        for method, path, body in attempts:
            assert tenant.call(method, path, 403, json=body)["code"] == "AccessDenied", (method, path)
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            tenant.call(method, "/v1/account/guardrails", 405, json={})
    after = api.get(f"/v1/mgmt/guardrails/{pid}")
    assert after["targets"] == [made["account_id"]] and after["description"] == ""
    assert [g["name"] for g in api.get("/v1/mgmt/guardrails")["items"]] == ["no-keys"]
