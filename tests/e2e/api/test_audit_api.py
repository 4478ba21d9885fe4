"""The audit log over HTTP: assume is recorded (who, which account, when, why); newest first; paged."""

from __future__ import annotations

from datetime import UTC, datetime

from silo.platform import Initialised

from .conftest import Api


def test_assume_is_audited_with_who_where_when_and_why(api: Api, init: Initialised) -> None:
    aid = api.account("audited")["account_id"]
    before = datetime.now(UTC)
    issued = api.post(
        f"/v1/mgmt/accounts/{aid}/assume", {"reason": "ticket 1234", "duration_seconds": 900}, 201
    )
    entries = api.get("/v1/mgmt/audit", params={"action": "accounts:Assume"})["items"]
    assert len(entries) == 1
    entry = entries[0]
    assert set(entry) == {"seq", "at", "principal", "action", "account_id", "reason", "details"}
    assert entry["principal"] == init.root_key.key.key_id
    assert entry["account_id"] == aid
    assert entry["reason"] == "ticket 1234"
    assert entry["details"] == {"session_key_id": issued["key"]["key_id"], "duration_seconds": 900}
    at = datetime.fromisoformat(entry["at"])
    assert before.replace(microsecond=0) <= at <= datetime.now(UTC)

    by_account = api.get("/v1/mgmt/audit", params={"account_id": aid})["items"]
    # the account factory's steps, then the assume
    assert [e["action"] for e in by_account] == [
        "accounts:Assume",
        "accounts:Ready",
        "keys:Create",
        "accounts:Create",
    ]
    assert {e["principal"] for e in by_account[1:]} == {"silo:account-factory"}
    assert api.post(f"/v1/mgmt/accounts/{aid}/assume", {"reason": ""}, 400)["code"] == "ValidationError"
    api.post(f"/v1/mgmt/accounts/{aid}/assume", {}, 400)


def test_lifecycle_actions_are_audited_with_their_reason(api: Api) -> None:
    aid = api.account("watched")["account_id"]
    api.post(f"/v1/mgmt/accounts/{aid}/suspend", {"reason": "abuse report"})
    api.post(f"/v1/mgmt/accounts/{aid}/reactivate", {"reason": "resolved"})
    entries = api.get("/v1/mgmt/audit", params={"account_id": aid})["items"]
    assert [e["reason"] for e in entries[:2]] == ["resolved", "abuse report"]
    assert [e["action"] for e in entries[:2]] == ["accounts:Reactivate", "accounts:Suspend"]


def test_pages_are_newest_first_and_neither_repeat_nor_skip(api: Api) -> None:
    specs = [{"name": f"a{i}", "owner_email": "a@b.example"} for i in range(9)]
    api.post("/v1/mgmt/accounts/batch", {"accounts": specs}, 201)
    everything = [e["seq"] for e in api.get("/v1/mgmt/audit", params={"limit": 1000})["items"]]
    assert everything == sorted(everything, reverse=True) and len(everything) == 10
    seen: list[int] = []
    params: dict[str, object] = {"limit": 3}
    while True:
        page = api.get("/v1/mgmt/audit", params=params)
        seen += [e["seq"] for e in page["items"]]
        if page["next_token"] is None:
            break
        params["next_token"] = page["next_token"]
    assert seen == everything


def test_only_the_management_plane_reads_the_audit_log(api: Api) -> None:
    aid = api.account("curious")["account_id"]
    for token in (api.account_key(aid), api.assume(aid)):
        assert api.as_(token).get("/v1/mgmt/audit", 403)["code"] == "AccessDenied"
    assert api.get("/v1/mgmt/audit", params={"account_id": "123"}, expect=400)["code"] == "ValidationError"
