"""Bad input: every request here gets a 4xx with a clear code and message, never a 500, and writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from silo.api import serve_in_thread
from silo.platform import Initialised
from silo.settings import Settings

from .conftest import Api, TestClient, bearer

UNSET: Any = object()
DENY = {"Statement": [{"Sid": "NoKeys", "Effect": "Deny", "Action": "keys:Create"}]}
JSON = {"content-type": "application/json"}


@dataclass(frozen=True)
class Case:
    """One bad request; ``path`` may name ``{account}``, ``{ou}``, ``{policy}`` and ``{key}``."""

    name: str
    method: str
    path: str
    status: int
    code: str
    says: str = ""  # a part of the message that names the problem
    json: Any = UNSET
    content: bytes | None = None
    params: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    auth: str = "root"  # "root", "account" (an account key), "none", or a raw Authorization value


def _spec(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "owner_email": f"{name}@x.example", **extra}


# fmt: off
CASES = [
    # --- bodies ------------------------------------------------------------------------------
    Case("malformed json", "POST", "/v1/mgmt/accounts", 400, "ValidationError", "not valid JSON",
         content=b'{"name": "x",', headers=JSON),
    Case("json array", "POST", "/v1/mgmt/accounts", 400, "ValidationError", "expected a JSON object",
         json=[_spec("x")]),
    Case("json string", "POST", "/v1/mgmt/ous", 400, "ValidationError", "expected a JSON object", json="x"),
    Case("json null", "POST", "/v1/mgmt/ous", 400, "ValidationError", "body", content=b"null", headers=JSON),
    Case("no body", "POST", "/v1/mgmt/ous", 400, "ValidationError", "a JSON object is required"),
    Case("no content type", "POST", "/v1/mgmt/ous", 400, "ValidationError", "Content-Type",
         content=b'{"name": "x"}'),
    Case("not utf-8", "POST", "/v1/mgmt/ous", 400, "ValidationError", "not UTF-8",
         content=b'{"name": "\xff"}', headers=JSON),
    Case("nested too deeply", "POST", "/v1/mgmt/ous", 400, "ValidationError", "nested too deeply",
         content=b"[" * 100_000 + b"]" * 100_000, headers=JSON),
    Case("unknown field", "POST", "/v1/mgmt/accounts", 400, "ValidationError",
         "body.colour: Extra inputs are not permitted", json=_spec("x", colour="red")),
    Case("unknown field in a batch item", "POST", "/v1/mgmt/accounts/batch", 400, "ValidationError",
         "body.accounts[1].colour", json={"accounts": [_spec("a"), _spec("b", colour="red")]}),
    Case("unknown field on an empty body", "POST", "/v1/mgmt/accounts/purge-expired", 400,
         "ValidationError", "body.force", json={"force": True}),
    Case("missing field", "POST", "/v1/mgmt/accounts", 400, "ValidationError",
         "body.owner_email: Field required", json={"name": "x"}),
    Case("string for a number", "POST", "/v1/mgmt/accounts", 400, "ValidationError",
         "body.concurrency_limit", json=_spec("x", concurrency_limit="5")),
    Case("bool for a number", "PUT", "/v1/mgmt/accounts/{account}/concurrency-limit", 400,
         "ValidationError", "body.limit", json={"limit": True}),
    Case("huge number", "POST", "/v1/mgmt/accounts", 400, "ValidationError", "concurrency_limit",
         json=_spec("x", concurrency_limit=10**30)),
    Case("NUL in a string", "POST", "/v1/mgmt/accounts", 400, "ValidationError", "NUL",
         json=_spec("x", owner_email="a\x00@b.example")),
    Case("bad email", "POST", "/v1/mgmt/accounts", 400, "ValidationError", "owner_email",
         json=_spec("x", owner_email="nobody")),
    Case("bad account name", "POST", "/v1/mgmt/accounts", 400, "ValidationError", "name", json=_spec("-x")),
    Case("reserved tag", "POST", "/v1/mgmt/accounts/{account}/tags", 400, "ValidationError", "silo:",
         json={"tags": {"silo:owner": "me"}}),
    Case("too long a reason", "POST", "/v1/mgmt/accounts/{account}/suspend", 400, "ValidationError",
         "body.reason", json={"reason": "x" * 513}),
    Case("oversized body", "POST", "/v1/mgmt/accounts", 413, "PayloadTooLarge", "larger than",
         content=b" " * (1024 * 1024 + 1), headers=JSON),
    Case("bad content length", "POST", "/v1/mgmt/ous", 400, "ValidationError", "Content-Length",
         content=b"{}", headers={**JSON, "content-length": "lots"}),
    # --- ids --------------------------------------------------------------------------------
    Case("short account id", "GET", "/v1/mgmt/accounts/12345", 400, "ValidationError", "12 digits"),
    Case("long account id", "POST", "/v1/mgmt/accounts/1234567890123/suspend", 400, "ValidationError",
         "12 digits"),
    Case("letters for an account id", "GET", "/v1/mgmt/accounts/abcdefghijkl/keys", 400,
         "ValidationError", "account_id"),
    Case("unknown account", "GET", "/v1/mgmt/accounts/000000000000", 404, "NotFound", "000000000000"),
    Case("bad ou id", "GET", "/v1/mgmt/ous/ou-nope", 400, "ValidationError", "ou_id"),
    Case("bad ou id in a body", "POST", "/v1/mgmt/accounts", 400, "ValidationError", "ou_id",
         json=_spec("x", ou_id="marketing")),
    Case("bad ou id in a query", "GET", "/v1/mgmt/accounts", 400, "ValidationError", "ou_id",
         params={"ou_id": "marketing"}),
    Case("bad parent id", "POST", "/v1/mgmt/ous", 400, "ValidationError", "parent_id",
         json={"name": "x", "parent_id": "nope"}),
    Case("unknown ou", "POST", "/v1/mgmt/accounts/{account}/move", 404, "NotFound", "ou-abcd-abcdefgh",
         json={"ou_id": "ou-abcd-abcdefgh"}),
    Case("bad key id", "POST", "/v1/mgmt/keys/KEY1/revoke", 400, "ValidationError", "key_id"),
    Case("bad policy id", "GET", "/v1/mgmt/guardrails/gr-x", 400, "ValidationError", "policy_id"),
    Case("bad attach target", "POST", "/v1/mgmt/guardrails/{policy}/attach", 400, "ValidationError",
         "target_id", json={"target_id": "everywhere"}),
    # --- conflicts and batches ----------------------------------------------------------------
    Case("duplicate account name", "POST", "/v1/mgmt/accounts", 409, "Conflict", "existing",
         json=_spec("existing")),
    Case("duplicate names in a batch", "POST", "/v1/mgmt/accounts/batch", 400, "ValidationError",
         "twice", json={"accounts": [_spec("new-1"), _spec("new-2"), _spec("new-1")]}),
    Case("taken name in a batch", "POST", "/v1/mgmt/accounts/batch", 409, "Conflict", "existing",
         json={"accounts": [_spec("new-1"), _spec("existing")]}),
    Case("one bad spec in a batch", "POST", "/v1/mgmt/accounts/batch", 400, "ValidationError",
         "accounts[1].owner_email", json={"accounts": [_spec("new-1"), _spec("new-2", owner_email="x")]}),
    Case("empty batch", "POST", "/v1/mgmt/accounts/batch", 400, "ValidationError", "body.accounts",
         json={"accounts": []}),
    Case("batch of 10001", "POST", "/v1/mgmt/accounts/batch", 400, "ValidationError", "10000",
         json={"accounts": [{"name": f"n{i}", "owner_email": "a@b.io"} for i in range(10_001)]}),
    # --- query parameters ---------------------------------------------------------------------
    Case("limit 0", "GET", "/v1/mgmt/accounts", 400, "ValidationError", "query.limit", params={"limit": 0}),
    Case("limit 1001", "GET", "/v1/mgmt/keys", 400, "ValidationError", "query.limit", params={"limit": 1001}),
    Case("limit x", "GET", "/v1/mgmt/audit", 400, "ValidationError", "query.limit", params={"limit": "x"}),
    Case("next_token with bad characters", "GET", "/v1/mgmt/accounts", 400, "ValidationError",
         "next_token", params={"next_token": "!!!"}),
    Case("next_token not issued", "GET", "/v1/mgmt/accounts", 400, "ValidationError", "next_token",
         params={"next_token": "zzzz"}),
    Case("tag filter without a key", "GET", "/v1/mgmt/accounts", 400, "ValidationError", "tag",
         params={"tag": "=prod"}),
    Case("empty tag filter", "GET", "/v1/mgmt/accounts", 400, "ValidationError", "tag", params={"tag": ""}),
    Case("tag filter twice", "GET", "/v1/mgmt/accounts", 400, "ValidationError", "twice",
         params={"tag": ["env=a", "env=b"]}),
    Case("bad status", "GET", "/v1/mgmt/accounts", 400, "ValidationError", "query.status",
         params={"status": "ASLEEP"}),
    Case("bad bool", "GET", "/v1/mgmt/accounts", 400, "ValidationError", "query.recursive",
         params={"recursive": "maybe"}),
    Case("bad audit account", "GET", "/v1/mgmt/audit", 400, "ValidationError", "account_id",
         params={"account_id": "42"}),
    # --- guardrail documents ------------------------------------------------------------------
    Case("document not an object", "POST", "/v1/mgmt/guardrails", 400, "InvalidPolicy",
         "expected a JSON object", json={"name": "g", "document": ["Deny"]}),
    Case("document without statements", "POST", "/v1/mgmt/guardrails", 400, "InvalidPolicy", "Statement",
         json={"name": "g", "document": {"Version": "2026-11-01"}}),
    Case("allow statement", "POST", "/v1/mgmt/guardrails", 400, "InvalidPolicy", "Statement[0].Effect",
         json={"name": "g", "document": {"Statement": [{"Effect": "Allow", "Action": "*"}]}}),
    Case("bad action pattern", "POST", "/v1/mgmt/guardrails", 400, "InvalidPolicy", "Statement[0].Action",
         json={"name": "g", "document": {"Statement": [{"Effect": "Deny", "Action": "nocolon"}]}}),
    Case("unknown statement key", "POST", "/v1/mgmt/guardrails", 400, "InvalidPolicy",
         "Statement[0].Sids",
         json={"name": "g", "document": {"Statement": [{"Effect": "Deny", "Action": "*", "Sids": "*"}]}}),
    Case("bad document on update", "PATCH", "/v1/mgmt/guardrails/{policy}", 400, "InvalidPolicy",
         "Statement", json={"document": {"Statement": "nope"}}),
    Case("missing document", "POST", "/v1/mgmt/guardrails", 400, "ValidationError", "body.document",
         json={"name": "g"}),
    # --- sessions and rotation ----------------------------------------------------------------
    Case("assume without a reason", "POST", "/v1/mgmt/accounts/{account}/assume", 400, "ValidationError",
         "reason", json={"reason": "  "}),
    Case("assume too short", "POST", "/v1/mgmt/accounts/{account}/assume", 400, "ValidationError",
         "duration_seconds", json={"reason": "ticket", "duration_seconds": 10}),
    Case("assume too long", "POST", "/v1/mgmt/accounts/{account}/assume", 400, "ValidationError",
         "duration_seconds", json={"reason": "ticket", "duration_seconds": 10**12}),
    Case("negative grace", "POST", "/v1/mgmt/keys/{key}/rotate", 400, "ValidationError", "grace_seconds",
         json={"grace_seconds": -1}),
    Case("endless grace", "POST", "/v1/mgmt/keys/{key}/rotate", 400, "ValidationError", "grace_seconds",
         json={"grace_seconds": 10**20}),
    # --- authentication and routing -----------------------------------------------------------
    Case("missing auth", "GET", "/v1/mgmt/accounts", 401, "Unauthenticated", "Authorization", auth="none"),
    Case("bearer without a token", "GET", "/v1/whoami", 401, "Unauthenticated", "malformed", auth="Bearer"),
    Case("wrong scheme", "GET", "/v1/whoami", 401, "Unauthenticated", "Basic", auth="Basic dXNlcjpwYXNz"),
    Case("token not KEYID.SECRET", "GET", "/v1/whoami", 401, "Unauthenticated", "KEYID.SECRET",
         auth="Bearer hunter2"),
    Case("unknown key", "GET", "/v1/whoami", 401, "Unauthenticated", "invalid",
         auth="Bearer SKMAAAAAAAAAAAAAAAAA." + "a" * 43),
    Case("account key on the management plane", "POST", "/v1/mgmt/accounts", 403, "AccessDenied",
         "management key", json=_spec("sneaky"), auth="account"),
    Case("unknown path", "GET", "/v1/nothing-here", 404, "NotFound", "/v1/nothing-here"),
    Case("wrong method", "DELETE", "/v1/mgmt/accounts", 405, "MethodNotAllowed", "DELETE"),
]
# fmt: on


@dataclass
class World:
    api: Api
    ids: dict[str, str]
    tokens: dict[str, str]

    def snapshot(self) -> dict[str, Any]:
        """Everything a bad request could have written (keys without their last-used time)."""

        def keys(path: str) -> list[dict[str, Any]]:
            items = self.api.get(path, params={"include_revoked": "true", "limit": 1000})["items"]
            return [{k: v for k, v in key.items() if k != "last_used_at"} for key in items]

        return {
            "accounts": self.api.get("/v1/mgmt/accounts", params={"limit": 1000})["items"],
            "ous": self.api.get("/v1/mgmt/ous", params={"tree": "true"})["items"],
            "guardrails": self.api.get("/v1/mgmt/guardrails")["items"],
            "management keys": keys("/v1/mgmt/keys"),
            "account keys": keys(f"/v1/mgmt/accounts/{self.ids['account']}/keys"),
            "audit": self.api.get("/v1/mgmt/audit", params={"limit": 1000})["items"],
        }


@pytest.fixture
def world(api: Api, init: Initialised) -> World:
    account = api.account("existing", tags={"env": "prod"})
    token = api.account_key(account["account_id"])
    ou = api.ou("apps")
    policy = api.post("/v1/mgmt/guardrails", {"name": "g0", "document": DENY}, 201)
    ids = {
        "account": account["account_id"],
        "ou": ou["ou_id"],
        "policy": policy["policy_id"],
        "key": init.root_key.key.key_id,
    }
    return World(api, ids, {"root": init.root_key.token, "account": token})


def _send(client: TestClient, world: World, case: Case) -> httpx.Response:
    headers = dict(case.headers)
    if case.auth in world.tokens:
        headers.update(bearer(world.tokens[case.auth]))
    elif case.auth != "none":
        headers["Authorization"] = case.auth
    kwargs: dict[str, Any] = {"headers": headers, "params": case.params}
    if case.json is not UNSET:
        kwargs["json"] = case.json
    if case.content is not None:
        kwargs["content"] = case.content
    response: httpx.Response = client.request(case.method, case.path.format(**world.ids), **kwargs)
    return response


def test_bad_requests_get_clear_4xx_and_write_nothing(
    world: World, app: Any, subtests: pytest.Subtests
) -> None:
    assert len({c.name for c in CASES}) == len(CASES)
    client = TestClient(app, raise_server_exceptions=False)
    before = world.snapshot()
    for case in CASES:
        with subtests.test(case.name):
            response = _send(client, world, case)
            assert response.status_code == case.status, response.text
            body = response.json()
            assert body["code"] == case.code, body
            assert case.says in body["message"], body
            assert "Traceback" not in response.text
            if case.method != "GET":
                assert world.snapshot() == before
    assert world.snapshot() == before


def test_chunked_bodies_are_counted(world: World, app: Any) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b" " * 65_536

    before = world.snapshot()
    response = TestClient(app).post(
        "/v1/mgmt/accounts", content=chunks(), headers={**JSON, **bearer(world.tokens["root"])}
    )
    assert response.status_code == 413 and response.json()["code"] == "PayloadTooLarge"
    assert world.snapshot() == before


def test_chunked_bodies_are_counted_by_a_real_server(settings: Settings, world: World) -> None:
    url, stop = serve_in_thread(settings.with_(max_body_bytes=2_000), port=0)
    try:
        with httpx.Client(base_url=url, headers=bearer(world.tokens["root"]), timeout=10) as http:

            def chunks() -> Iterator[bytes]:
                yield b'{"name": "chunked", "owner_email": "a@b.example", "tags": {"pad": "'
                for _ in range(10):
                    yield b"x" * 250
                yield b'"}}'

            streamed = http.post("/v1/mgmt/accounts", content=chunks(), headers=JSON)
            assert streamed.status_code == 413, streamed.text
            assert streamed.json()["code"] == "PayloadTooLarge"
            declared = http.post("/v1/mgmt/accounts", content=b" " * 2_001, headers=JSON)
            assert declared.status_code == 413
            small = http.post("/v1/mgmt/accounts", json={"name": "fits", "owner_email": "a@b.example"})
            assert small.status_code == 201
    finally:
        stop()
    names = {a["name"] for a in world.snapshot()["accounts"]}
    assert "fits" in names and "chunked" not in names


def test_unexpected_errors_are_500_without_a_traceback(
    world: World, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from silo.platform import ManagementHandle

    def broken(self: ManagementHandle, parent_id: str | None = None) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(ManagementHandle, "list_ous", broken)
    response = TestClient(app, raise_server_exceptions=False).get(
        "/v1/mgmt/ous", headers=bearer(world.tokens["root"])
    )
    assert response.status_code == 500
    assert response.json() == {"code": "InternalError", "message": "internal error"}


def test_forged_audit_token_is_a_400(world: World, app: Any) -> None:
    forged = "ImFiYyI"  # base64 of the JSON string "abc": a token that decodes, but not to a position
    response = TestClient(app, raise_server_exceptions=False).get(
        "/v1/mgmt/audit", params={"next_token": forged}, headers=bearer(world.tokens["root"])
    )
    assert response.status_code == 400


def test_wrong_method_says_what_is_allowed(api: Api) -> None:
    response = api.client.request("DELETE", "/v1/mgmt/keys", headers=bearer(api.token or ""))
    assert response.status_code == 405 and response.json()["code"] == "MethodNotAllowed"
    assert "GET" in response.headers["allow"]  # Starlette names the first matching route's methods
