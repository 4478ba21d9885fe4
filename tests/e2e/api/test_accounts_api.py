"""Accounts over HTTP: the factory, listing and filters, the lifecycle, placement, tags and purge."""

from __future__ import annotations

from datetime import UTC, datetime

from silo.api import create_app
from silo.platform import Initialised, Platform
from silo.settings import Settings

from .conftest import Api, TestClient, bearer

ACCOUNT_FIELDS = {
    "account_id",
    "name",
    "owner_email",
    "status",
    "ou_id",
    "concurrency_limit",
    "tags",
    "created_at",
    "updated_at",
    "closed_at",
    "purge_after",
}


def _when(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.utcoffset() is not None and parsed.utcoffset() == UTC.utcoffset(None), value
    return parsed


def test_health_and_whoami(api: Api, init: Initialised) -> None:
    health = api.as_(None).get("/healthz")
    assert health["status"] == "ok" and health["version"]
    assert api.get("/v1/whoami") == {
        "key_id": init.root_key.key.key_id,
        "account_id": init.management_account_id,
        "kind": "management",
        "assumed_by": None,
    }


def test_create_describe_and_render(api: Api) -> None:
    made = api.account("acme", tags={"env": "prod"}, concurrency_limit=7)
    factory = {key: made.pop(key) for key in ("factory_execution_arn", "credentials")}
    assert set(made) == ACCOUNT_FIELDS
    assert ":execution:silo-account-factory:" in factory["factory_execution_arn"]
    owner = api.as_(factory["credentials"]["token"]).get("/v1/whoami")  # the new account's first key
    assert (owner["account_id"], owner["kind"]) == (made["account_id"], "account")
    assert len(made["account_id"]) == 12 and made["account_id"].isdigit()
    assert made["status"] == "ACTIVE" and made["tags"] == {"env": "prod"}
    assert made["concurrency_limit"] == 7 and made["closed_at"] is None
    assert abs((_when(made["created_at"]) - datetime.now(UTC)).total_seconds()) < 60
    root = api.get("/v1/mgmt/ous/root")
    assert made["ou_id"] == root["ou_id"]
    assert api.get(f"/v1/mgmt/accounts/{made['account_id']}") == made
    api.get("/v1/mgmt/accounts/000000000000", 404)


def test_an_account_not_ready_in_time_answers_202_with_its_execution(api: Api) -> None:
    pending = api.client.post(
        "/v1/mgmt/accounts",
        json={"name": "later", "owner_email": "o@later.example", "wait_seconds": 0},
        headers=bearer(api.token or ""),
    )
    assert pending.status_code in (201, 202), pending.text  # 201 if it was ready at once
    body = pending.json()
    assert body["credentials"]["token"] and ":execution:" in body["factory_execution_arn"]
    if pending.status_code == 202:
        assert body["status"] == "PROVISIONING"
    bad = api.post("/v1/mgmt/accounts", {"name": "x", "owner_email": "o@x.example", "wait_seconds": 999}, 400)
    assert "wait_seconds" in str(bad)


def test_batch_and_pagination_neither_repeat_nor_skip(api: Api) -> None:
    specs = [{"name": f"tenant-{i:02d}", "owner_email": f"t{i}@x.example"} for i in range(25)]
    batch = api.post("/v1/mgmt/accounts/batch", {"accounts": specs}, 201)
    assert batch["count"] == 25 and len(batch["items"]) == 25
    made = {a["account_id"] for a in batch["items"]}

    seen: list[str] = []
    token = None
    pages = 0
    while True:
        params = {"limit": 7, **({"next_token": token} if token else {})}
        page = api.get("/v1/mgmt/accounts", params=params)
        assert len(page["items"]) <= 7
        seen.extend(a["account_id"] for a in page["items"])
        pages += 1
        token = page["next_token"]
        if token is None:
            break
    everything = [a["account_id"] for a in api.get("/v1/mgmt/accounts", params={"limit": 1000})["items"]]
    assert seen == everything == sorted(everything)
    assert len(set(seen)) == len(seen) == 26  # the 25 and the management account
    assert made <= set(seen)
    assert pages == 4


def test_filters_by_tag_ou_recursive_and_status(api: Api) -> None:
    parent = api.ou("apps")
    child = api.ou("eu", parent["ou_id"])
    in_parent = api.account("p1", ou_id=parent["ou_id"], tags={"env": "prod", "team": "a"})
    in_child = api.account("c1", ou_id=child["ou_id"], tags={"env": "dev"})
    in_root = api.account("r1", tags={"team": "b"})

    def ids(**params: object) -> set[str]:
        return {a["account_id"] for a in api.get("/v1/mgmt/accounts", params=params)["items"]}

    assert ids(tag="env=prod") == {in_parent["account_id"]}
    assert ids(tag="env") == {in_parent["account_id"], in_child["account_id"]}
    assert ids(tag=["env=prod", "team=a"]) == {in_parent["account_id"]}
    assert ids(tag=["env=prod", "team=b"]) == set()
    assert ids(tag="team=") == set()
    assert ids(ou_id=parent["ou_id"]) == {in_parent["account_id"]}
    assert ids(ou_id=parent["ou_id"], recursive="true") == {in_parent["account_id"], in_child["account_id"]}
    assert in_root["account_id"] in ids(ou_id=in_root["ou_id"])
    api.post(f"/v1/mgmt/accounts/{in_child['account_id']}/suspend")
    assert ids(status="SUSPENDED") == {in_child["account_id"]}
    assert in_child["account_id"] not in ids(status="ACTIVE")


def test_suspend_reactivate_close_lifecycle(api: Api) -> None:
    made = api.account("lifecycle")
    aid = made["account_id"]
    tenant = api.as_(api.account_key(aid))
    assert tenant.get("/v1/account")["account_id"] == aid

    suspended = api.post(f"/v1/mgmt/accounts/{aid}/suspend", {"reason": "unpaid invoice"})
    assert suspended["status"] == "SUSPENDED"
    denied = tenant.get("/v1/account", 403)
    assert denied["code"] == "AccountNotActive"
    assert api.post(f"/v1/mgmt/accounts/{aid}/suspend", expect=409)["code"] == "Conflict"

    assert api.post(f"/v1/mgmt/accounts/{aid}/reactivate")["status"] == "ACTIVE"
    tenant.get("/v1/account")

    closed = api.post(f"/v1/mgmt/accounts/{aid}/close", {"reason": "customer left"})
    assert closed["status"] == "CLOSED"
    assert closed["closed_at"] is not None
    assert _when(closed["purge_after"]) > _when(closed["closed_at"])
    assert tenant.get("/v1/account", 401)["code"] == "Unauthenticated"  # close revokes its keys
    assert api.get(f"/v1/mgmt/accounts/{aid}")["status"] == "CLOSED"  # still readable by management
    assert api.post(f"/v1/mgmt/accounts/{aid}/reactivate", expect=409)["code"] == "Conflict"
    assert api.post(f"/v1/mgmt/accounts/{aid}/keys", {"name": "late"}, 409)["code"] == "Conflict"

    session = api.as_(api.assume(aid, "retention export"))
    assert session.get("/v1/account")["status"] == "CLOSED"
    assert session.get("/v1/account/keys")["items"] == []
    assert session.post("/v1/account/keys", {"name": "x"}, 403)["code"] == "AccountNotActive"
    assert api.get(f"/v1/mgmt/accounts/{aid}/keys", params={"include_revoked": "true"})["items"]


def test_management_account_cannot_be_suspended_or_closed(api: Api, init: Initialised) -> None:
    for verb in ("suspend", "close"):
        body = api.post(f"/v1/mgmt/accounts/{init.management_account_id}/{verb}", expect=409)
        assert body["code"] == "Conflict"
    assert api.get("/v1/whoami")["kind"] == "management"


def test_move_tags_and_concurrency_limit(api: Api) -> None:
    made = api.account("movable", tags={"a": "1", "b": "2"})
    aid = made["account_id"]
    ou = api.ou("target")
    moved = api.post(f"/v1/mgmt/accounts/{aid}/move", {"ou_id": ou["ou_id"]})
    assert moved["ou_id"] == ou["ou_id"]
    assert api.post(f"/v1/mgmt/accounts/{aid}/move", {"ou_id": "ou-zzzz-zzzzzzzz"}, 404)["code"] == "NotFound"

    tagged = api.post(f"/v1/mgmt/accounts/{aid}/tags", {"tags": {"c": "3", "a": "9"}, "remove": ["b"]})
    assert tagged["tags"] == {"a": "9", "c": "3"}
    assert api.get(f"/v1/mgmt/accounts/{aid}")["tags"] == {"a": "9", "c": "3"}

    limited = api.put(f"/v1/mgmt/accounts/{aid}/concurrency-limit", {"limit": 250})
    assert limited["concurrency_limit"] == 250
    bad = api.put(f"/v1/mgmt/accounts/{aid}/concurrency-limit", {"limit": 0}, 400)
    assert "limit" in bad["message"]


def test_purge_expired_removes_closed_accounts_after_retention(settings: Settings, init: Initialised) -> None:
    short = Platform.open(settings.with_(closed_account_retention_days=0))
    try:
        with TestClient(create_app(short)) as client:
            api = Api(client, init.root_key.token)
            keep = api.account("keeper")
            gone = api.account("leaver")
            api.post(f"/v1/mgmt/accounts/{gone['account_id']}/close", {"reason": "done"})
            # Housekeeping purges on its own as soon as retention ends; the explicit call may find
            # the account already gone, never another one.
            purged = api.post("/v1/mgmt/accounts/purge-expired")
            assert purged["purged"] in ([gone["account_id"]], [])
            api.get(f"/v1/mgmt/accounts/{gone['account_id']}", 404)
            assert api.get(f"/v1/mgmt/accounts/{keep['account_id']}")["status"] == "ACTIVE"
            assert api.post("/v1/mgmt/accounts/purge-expired") == {"purged": []}
    finally:
        short.close()


def test_purge_keeps_accounts_inside_retention(api: Api) -> None:
    made = api.account("recent")
    api.post(f"/v1/mgmt/accounts/{made['account_id']}/close")
    assert api.post("/v1/mgmt/accounts/purge-expired") == {"purged": []}
    assert api.get(f"/v1/mgmt/accounts/{made['account_id']}")["status"] == "CLOSED"
