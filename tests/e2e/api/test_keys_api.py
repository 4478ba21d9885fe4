"""Keys over HTTP: management keys, account keys issued from above, an account's own keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from silo.platform import Initialised

from .conftest import Api

KEY_FIELDS = {
    "key_id",
    "account_id",
    "kind",
    "name",
    "status",
    "created_by",
    "created_at",
    "expires_at",
    "last_used_at",
    "revoked_at",
}


def _ids(page: dict[str, Any]) -> list[str]:
    return [k["key_id"] for k in page["items"]]


def test_management_keys_create_list_revoke(api: Api, init: Initialised) -> None:
    root_id = init.root_key.key.key_id
    assert _ids(api.get("/v1/mgmt/keys")) == [root_id]
    issued = api.post("/v1/mgmt/keys", {"name": "deploy"}, 201)
    assert set(issued) == {"key", "token"} and set(issued["key"]) == KEY_FIELDS
    key = issued["key"]
    assert key["kind"] == "management" and key["status"] == "ACTIVE" and key["created_by"] == root_id
    assert issued["token"].startswith(key["key_id"] + ".")
    second = api.as_(issued["token"])
    assert second.get("/v1/whoami")["key_id"] == key["key_id"]
    assert sorted(_ids(api.get("/v1/mgmt/keys"))) == sorted([root_id, key["key_id"]])
    assert issued["token"].split(".")[1] not in str(api.get("/v1/mgmt/keys"))  # the secret is shown once

    revoked = second.post(f"/v1/mgmt/keys/{key['key_id']}/revoke")
    assert revoked["status"] == "REVOKED" and revoked["revoked_at"] is not None
    assert second.get("/v1/whoami", 401)["code"] == "Unauthenticated"
    assert _ids(api.get("/v1/mgmt/keys")) == [root_id]
    assert key["key_id"] in _ids(api.get("/v1/mgmt/keys", params={"include_revoked": "true"}))
    last = api.post(f"/v1/mgmt/keys/{root_id}/revoke", expect=409)
    assert last["code"] == "Conflict" and "last" in last["message"]


def test_rotation_without_grace_ends_the_old_key(api: Api) -> None:
    old = api.post("/v1/mgmt/keys", {"name": "rotating"}, 201)
    new = api.post(f"/v1/mgmt/keys/{old['key']['key_id']}/rotate", {}, 201)
    assert new["key"]["name"] == "rotating" and new["key"]["key_id"] != old["key"]["key_id"]
    api.as_(old["token"]).get("/v1/whoami", 401)
    assert api.as_(new["token"]).get("/v1/whoami")["key_id"] == new["key"]["key_id"]


def test_rotation_with_grace_keeps_the_old_key_until_it_expires(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    aid = api.account("graceful")["account_id"]
    token = api.account_key(aid)
    tenant = api.as_(token)
    old_id = tenant.get("/v1/whoami")["key_id"]
    new = tenant.post(f"/v1/account/keys/{old_id}/rotate", {"grace_seconds": 600}, 201)
    assert new["key"]["account_id"] == aid and new["key"]["kind"] == "account"
    assert tenant.get("/v1/whoami")["key_id"] == old_id  # still accepted during the grace period
    assert api.as_(new["token"]).get("/v1/whoami")["key_id"] == new["key"]["key_id"]
    old = api.as_(new["token"]).get(f"/v1/account/keys/{old_id}")
    assert old["status"] == "ACTIVE" and old["expires_at"] is not None
    bad = tenant.post(f"/v1/account/keys/{old_id}/rotate", {"grace_seconds": 10**9}, 400)
    assert "grace_seconds" in bad["message"]

    later = datetime.now(UTC) + timedelta(seconds=601)
    monkeypatch.setattr("silo.credentials.service.utcnow", lambda: later)
    assert tenant.get("/v1/whoami", 401)["message"] == "access key has expired"
    assert api.as_(new["token"]).get("/v1/whoami")["key_id"] == new["key"]["key_id"]


def test_account_keys_from_the_management_plane(api: Api, init: Initialised) -> None:
    made = api.account("tenant")
    aid, owner = made["account_id"], made["credentials"]["key_id"]  # the factory's first key
    issued = api.post(f"/v1/mgmt/accounts/{aid}/keys", {"name": "ci"}, 201)
    key = issued["key"]
    assert key["account_id"] == aid and key["kind"] == "account"
    assert key["created_by"] == init.root_key.key.key_id
    assert _ids(api.get(f"/v1/mgmt/accounts/{aid}/keys")) == sorted([owner, key["key_id"]])
    tenant = api.as_(issued["token"])
    assert tenant.get("/v1/whoami") == {
        "key_id": key["key_id"],
        "account_id": aid,
        "kind": "account",
        "assumed_by": None,
    }
    revoked = api.post(f"/v1/mgmt/accounts/{aid}/keys/{key['key_id']}/revoke")
    assert revoked["status"] == "REVOKED"
    assert tenant.get("/v1/account", 401)["code"] == "Unauthenticated"
    assert _ids(api.get(f"/v1/mgmt/accounts/{aid}/keys")) == [owner]
    listed = api.get(f"/v1/mgmt/accounts/{aid}/keys", params={"include_revoked": "true"})
    assert _ids(listed) == sorted([owner, key["key_id"]])
    api.post(f"/v1/mgmt/accounts/{aid}/keys/SKAAAAAAAAAAAAAAAAAA/revoke", expect=404)


def test_own_keys_on_the_account_plane(api: Api) -> None:
    account = api.account("self-service")
    aid, owner = account["account_id"], account["credentials"]["key_id"]
    tenant = api.as_(api.account_key(aid, "bootstrap"))
    first = tenant.get("/v1/whoami")["key_id"]
    made = tenant.post("/v1/account/keys", {"name": "deploy"}, 201)
    assert made["key"]["account_id"] == aid and made["key"]["created_by"] == first
    assert sorted(_ids(tenant.get("/v1/account/keys"))) == sorted([owner, first, made["key"]["key_id"]])
    assert tenant.get(f"/v1/account/keys/{made['key']['key_id']}")["name"] == "deploy"

    revoked = tenant.post(f"/v1/account/keys/{made['key']['key_id']}/revoke")
    assert revoked["status"] == "REVOKED"
    api.as_(made["token"]).get("/v1/account", 401)
    assert _ids(tenant.get("/v1/account/keys")) == sorted([owner, first])
    tenant.get("/v1/account/keys/SKAAAAAAAAAAAAAAAAAA", 404)
    assert tenant.get("/v1/account/keys/not-a-key", 400)["code"] == "ValidationError"


def test_key_pages_neither_repeat_nor_skip(api: Api) -> None:
    account = api.account("many-keys")
    aid = account["account_id"]
    made = {account["credentials"]["key_id"]} | {
        api.post(f"/v1/mgmt/accounts/{aid}/keys", {"name": f"k{i}"}, 201)["key"]["key_id"] for i in range(5)
    }
    seen: list[str] = []
    token = None
    while True:
        page = api.get(f"/v1/mgmt/accounts/{aid}/keys", params={"limit": 2, "next_token": token or ""})
        seen += _ids(page)
        token = page["next_token"]
        if not token:
            break
    assert sorted(seen) == seen and set(seen) == made and len(seen) == 6


def test_sessions_expire_to_the_minute_and_say_who_assumed(api: Api, init: Initialised) -> None:
    aid = api.account("assumed")["account_id"]
    issued = api.post(f"/v1/mgmt/accounts/{aid}/assume", {"reason": "debug", "duration_seconds": 60}, 201)
    assert issued["key"]["kind"] == "session" and issued["key"]["expires_at"] is not None
    session = api.as_(issued["token"])
    assert session.get("/v1/whoami")["assumed_by"] == init.root_key.key.key_id
    assert session.get("/v1/account")["account_id"] == aid
    assert session.get("/v1/mgmt/accounts", 403)["code"] == "AccessDenied"


@pytest.mark.parametrize(
    "path", ["/v1/account/keys/{key}/revoke", "/v1/mgmt/accounts/{account}/keys/{key}/revoke"]
)
def test_no_endpoint_revokes_the_last_management_key(api: Api, init: Initialised, path: str) -> None:
    target = path.format(key=init.root_key.key.key_id, account=init.management_account_id)
    # Management keys are not account keys: these endpoints do not find them at all.
    assert api.post(target, expect=404)["code"] == "NotFound"
    assert api.get("/v1/whoami")["key_id"] == init.root_key.key.key_id
