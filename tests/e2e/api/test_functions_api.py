"""``/v1/account/functions``: every endpoint's happy path and status, invoke headers, throttling,
and bad input (a clear 4xx, never a 500, nothing written)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from silo.api import create_app
from silo.platform import Initialised, Platform
from silo.settings import Settings
from tests.helpers.functions import wait_until

from .conftest import Api, TestClient, bearer
from .functions_helpers import FUNCTIONS, Tenant, code_of

Code = Callable[[str], bytes]


@pytest.fixture
def member(api: Api) -> Tenant:
    return Tenant.make(api, "member")


def test_create_get_list_update_code_delete(member: Tenant, code: Code) -> None:
    zipped = code("echo")
    made = member.create(
        "echo", zipped, memory_size=256, environment={"A": "1"}, tags={"team": "core"}, description="d"
    )
    assert (made["name"], made["version"], made["handler"]) == ("echo", "$LATEST", "app.handler")
    assert (made["memory_size"], made["timeout"], made["runtime"]) == (256, 3, "python3.11")
    assert made["code_sha256"] == hashlib.sha256(zipped).hexdigest() and made["code_size"] == len(zipped)
    assert made["async_config"] == {"max_retry_attempts": 2, "max_event_age": 21600, "on_failure": None}
    assert (made["reserved_concurrency"], made["last_version"]) == (None, 0)
    assert set(made) == {
        "name", "version", "handler", "runtime", "memory_size", "timeout", "environment", "description",
        "code_sha256", "code_size", "revision", "last_modified", "reserved_concurrency", "tags",
        "async_config", "created_at", "last_version",
    }  # fmt: skip
    assert member.api.get(f"{FUNCTIONS}/echo") == made

    member.create("second", code("boom"))
    page = member.api.get(FUNCTIONS, params={"limit": 1})
    assert [f["name"] for f in page["items"]] == ["echo"] and page["next_token"]
    rest = member.api.get(FUNCTIONS, params={"limit": 1, "next_token": page["next_token"]})
    assert [f["name"] for f in rest["items"]] == ["second"] and rest["next_token"] is None

    patched = member.api.patch(
        f"{FUNCTIONS}/echo",
        {"timeout": 30, "reserved_concurrency": 5, "async_config": {"max_retry_attempts": 0}},
    )
    assert (patched["timeout"], patched["memory_size"], patched["reserved_concurrency"]) == (30, 256, 5)
    assert patched["async_config"]["max_retry_attempts"] == 0
    assert patched["revision"] != made["revision"]
    cleared = member.api.patch(f"{FUNCTIONS}/echo", {"clear_reserved_concurrency": True})
    assert cleared["reserved_concurrency"] is None

    new_zip = code("printer")
    recoded = member.api.put(f"{FUNCTIONS}/echo/code", code_of(new_zip))
    assert recoded["code_sha256"] == hashlib.sha256(new_zip).hexdigest()
    assert recoded["timeout"] == 30  # settings are kept

    assert member.api.delete(f"{FUNCTIONS}/echo") is None
    assert member.api.get(f"{FUNCTIONS}/echo", 404)["code"] == "NotFound"
    assert [f["name"] for f in member.api.get(FUNCTIONS)["items"]] == ["second"]


def test_versions_and_aliases(member: Tenant, code: Code) -> None:
    member.create("f", code("def handler(e, c):\n    return 'one'\n"))
    v1 = member.api.post(f"{FUNCTIONS}/f/versions", {"description": "first"}, 201)
    assert (v1["name"], v1["version"], v1["description"]) == ("f", "1", "first")
    assert "tags" not in v1 and "async_config" not in v1  # a version has the config fields only
    same = member.api.call("POST", f"{FUNCTIONS}/f/versions", 201)  # no body at all
    assert same["version"] == "1"  # nothing changed: the existing newest version
    member.api.put(f"{FUNCTIONS}/f/code", code_of(code("def handler(e, c):\n    return 'two'\n")))
    assert member.api.post(f"{FUNCTIONS}/f/versions", {}, 201)["version"] == "2"
    versions = member.api.get(f"{FUNCTIONS}/f/versions")["items"]
    assert [v["version"] for v in versions] == ["$LATEST", "1", "2"]
    assert member.api.get(f"{FUNCTIONS}/f")["last_version"] == 2

    alias = member.api.post(f"{FUNCTIONS}/f/aliases", {"name": "live", "version": "1"}, 201)
    assert (alias["function_name"], alias["name"], alias["version"], alias["description"]) == (
        "f", "live", "1", "",
    )  # fmt: skip
    assert member.api.post(f"{FUNCTIONS}/f/aliases", {"name": "live", "version": "2"}, 409)["code"] == (
        "Conflict"
    )
    pinned = member.invoke("f", qualifier="live")
    assert pinned.json() == "one" and pinned.headers["X-Silo-Executed-Version"] == "1"
    moved = member.api.put(f"{FUNCTIONS}/f/aliases/live", {"version": "2", "description": "now two"})
    assert (moved["version"], moved["description"]) == ("2", "now two")
    assert member.invoke("f", qualifier="live").json() == "two"
    assert member.invoke("f", qualifier="1").json() == "one"
    assert member.invoke("f", qualifier="$LATEST").headers["X-Silo-Executed-Version"] == "$LATEST"
    assert [a["name"] for a in member.api.get(f"{FUNCTIONS}/f/aliases")["items"]] == ["live"]
    assert member.api.delete(f"{FUNCTIONS}/f/aliases/live") is None
    assert member.api.get(f"{FUNCTIONS}/f/aliases")["items"] == []
    assert member.invoke("f", qualifier="live").status_code == 404


def test_invoke_sync_result_and_headers(member: Tenant, code: Code) -> None:
    member.create("echo", code("echo"))
    response = member.invoke("echo", b'{"x": [1, 2]}')
    assert response.status_code == 200 and response.json() == {"x": [1, 2]}
    assert response.headers["content-type"] == "application/json"
    assert response.headers["X-Silo-Executed-Version"] == "$LATEST"
    assert response.headers["X-Silo-Request-Id"]
    assert "X-Silo-Function-Error" not in response.headers
    assert "X-Silo-Log-Result" not in response.headers
    assert member.invoke("echo", None).json() == {}  # an empty body is the event {}
    explicit = member.invoke("echo", b"[3]", kind="RequestResponse")
    assert explicit.status_code == 200 and explicit.json() == [3]


def test_invoke_log_tail(member: Tenant, code: Code) -> None:
    member.create("printer", code("printer"))
    response = member.invoke("printer", b'{"n": 9}', headers={"X-Silo-Log-Type": "Tail"})
    assert response.status_code == 200
    log = base64.b64decode(response.headers["X-Silo-Log-Result"]).decode()
    assert "hello from printer" in log and "logged 9" in log
    assert response.json() == response.headers["X-Silo-Request-Id"]


def test_invoke_function_error(member: Tenant, code: Code) -> None:
    member.create("boom", code("boom"))
    response = member.invoke("boom", b'{"n": 4}')
    assert response.status_code == 200
    assert response.headers["X-Silo-Function-Error"] == "Unhandled"
    assert response.headers["X-Silo-Executed-Version"] == "$LATEST"
    error = response.json()
    assert set(error) == {"errorType", "errorMessage", "stackTrace"}
    assert (error["errorType"], error["errorMessage"]) == ("ValueError", "boom: 4")


def test_invoke_event_and_dry_run(member: Tenant, code: Code) -> None:
    member.create("echo", code("echo"))
    queued = member.invoke("echo", b'{"a": 1}', kind="Event")
    assert queued.status_code == 202 and set(queued.json()) == {"invocation_id"}
    dry = member.invoke("echo", kind="DryRun")
    assert dry.status_code == 204 and dry.content == b""
    assert member.invoke("nothing", kind="DryRun").status_code == 404


def test_logs_and_metrics(member: Tenant, code: Code) -> None:
    member.create("printer", code("printer"))
    request_id = member.invoke("printer", b'{"n": 1}').json()
    member.invoke("printer", b'{"n": 2}')
    logs = member.api.get(f"{FUNCTIONS}/printer/logs")["items"]
    assert all(set(e) == {"event_id", "at", "request_id", "message"} for e in logs)
    assert [e["event_id"] for e in logs] == sorted(e["event_id"] for e in logs)  # oldest first
    assert any(e["request_id"] == request_id and "hello from printer" in e["message"] for e in logs)
    newest = member.api.get(f"{FUNCTIONS}/printer/logs", params={"limit": 1})["items"]
    assert newest == logs[-1:]
    after = member.api.get(f"{FUNCTIONS}/printer/logs", params={"after": logs[0]["event_id"]})["items"]
    assert after == logs[1:]

    wait_until(lambda: "Invocations" in member.api.get(f"{FUNCTIONS}/printer/metrics")["metrics"])
    data = member.api.get(f"{FUNCTIONS}/printer/metrics", params={"minutes": 5})
    assert (data["function_name"], data["minutes"]) == ("printer", 5)
    invocations = data["metrics"]["Invocations"]
    assert set(invocations) == {"sum", "count", "min", "max", "average"}
    assert invocations["sum"] == 2
    assert member.api.get(f"{FUNCTIONS}/printer/metrics")["minutes"] == 60


def test_over_the_account_limit_is_429(api: Api, platform: Platform, code: Code) -> None:
    busy = Tenant.make(api, "busy", concurrency_limit=1)
    busy.create("sleepy", code("sleepy"))
    held: list[httpx.Response] = []
    thread = threading.Thread(target=lambda: held.append(busy.invoke("sleepy", b'{"s": 1.5}')))
    thread.start()
    try:
        wait_until(lambda: platform.functions.invoker.quotas.in_flight(busy.account_id) == 1)
        throttled = busy.invoke("sleepy", b'{"s": 0}')
        assert throttled.status_code == 429, throttled.text
        assert throttled.json()["code"] == "TooManyRequestsException"
        assert busy.invoke("sleepy", b'{"s": 0}', kind="Event").status_code == 202  # queued, not refused
    finally:
        thread.join()
    assert held[0].status_code == 200 and held[0].json() == "slept"


# --- bad input ---------------------------------------------------------------------------------
UNSET: Any = object()
ZIP = "@zip"  # replaced by a valid zip's base64


def _create(**fields: Any) -> dict[str, Any]:
    return {"name": "new", "handler": "app.handler", "code": {"zip_base64": ZIP}, **fields}


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: str
    status: int
    code: str
    says: str = ""
    json: Any = UNSET
    content: bytes | None = None
    params: Any = None
    headers: dict[str, str] = field(default_factory=dict)


F = FUNCTIONS
# fmt: off
CASES = [
    Case("create without handler", "POST", F, 400, "ValidationError", "body.handler",
         json={"name": "new", "code": {"zip_base64": ZIP}}),
    Case("create without code", "POST", F, 400, "ValidationError", "body.code",
         json={"name": "new", "handler": "app.handler"}),
    Case("bad base64", "POST", F, 400, "ValidationError", "zip_base64",
         json=_create(code={"zip_base64": "not base64!"})),
    Case("not a zip", "POST", F, 400, "ValidationError", "not a zip",
         json=_create(code={"zip_base64": base64.b64encode(b"just text").decode()})),
    Case("empty code", "POST", F, 400, "ValidationError", "code", json=_create(code={"zip_base64": ""})),
    Case("unknown field", "POST", F, 400, "ValidationError", "body.colour", json=_create(colour="red")),
    Case("unknown code field", "POST", F, 400, "ValidationError", "body.code.path",
         json=_create(code={"zip_base64": ZIP, "path": "/x"})),
    Case("memory 64", "POST", F, 400, "ValidationError", "memory_size", json=_create(memory_size=64)),
    Case("timeout 0", "POST", F, 400, "ValidationError", "timeout", json=_create(timeout=0)),
    Case("bad runtime", "POST", F, 400, "ValidationError", "runtime", json=_create(runtime="node20")),
    Case("bad handler", "POST", F, 400, "ValidationError", "handler", json=_create(handler="nodot")),
    Case("bad name", "POST", F, 400, "ValidationError", "name", json=_create(name="no spaces")),
    Case("reserved env", "POST", F, 400, "ValidationError", "environment",
         json=_create(environment={"SILO_KEY": "x"})),
    Case("too much reserved", "POST", F, 400, "ValidationError", "reserved_concurrency",
         json=_create(reserved_concurrency=100)),
    Case("negative retries", "POST", F, 400, "ValidationError", "max_retry_attempts",
         json=_create(async_config={"max_retry_attempts": -1})),
    Case("event age 0", "POST", F, 400, "ValidationError", "max_event_age",
         json=_create(async_config={"max_event_age": 0})),
    Case("unknown async field", "POST", F, 400, "ValidationError", "body.async_config.retries",
         json=_create(async_config={"retries": 1})),
    Case("negative reservation", "POST", F, 400, "ValidationError", "reserved_concurrency",
         json=_create(reserved_concurrency=-1)),
    Case("env value not a string", "POST", F, 400, "ValidationError", "environment",
         json=_create(environment={"A": 1})),
    Case("code as a string", "POST", F, 400, "ValidationError", "body.code",
         json=_create(code=ZIP)),
    Case("duplicate name", "POST", F, 409, "Conflict", "echo", json=_create(name="echo")),
    Case("unknown field on update", "PATCH", F + "/echo", 400, "ValidationError", "body.name",
         json={"name": "renamed"}),
    Case("memory 64 on update", "PATCH", F + "/echo", 400, "ValidationError", "memory_size",
         json={"memory_size": 64}),
    Case("bad base64 on code", "PUT", F + "/echo/code", 400, "ValidationError", "zip_base64",
         json={"zip_base64": "%%%"}),
    Case("not a zip on code", "PUT", F + "/echo/code", 400, "ValidationError", "not a zip",
         json={"zip_base64": base64.b64encode(b"PK but not really").decode()}),
    Case("non-JSON payload", "POST", F + "/echo/invocations", 400, "ValidationError", "JSON",
         content=b"{not json", headers={"Content-Type": "application/json"}),
    Case("unknown invocation type", "POST", F + "/echo/invocations", 400, "ValidationError",
         "invocation_type", content=b"{}", headers={"X-Silo-Invocation-Type": "Later"}),
    Case("event payload over 256 KB", "POST", F + "/echo/invocations", 413, "RequestTooLargeException",
         "Event", content=b'"' + b"x" * 262_144 + b'"', headers={"X-Silo-Invocation-Type": "Event"}),
    Case("invocation body over 6 MiB", "POST", F + "/echo/invocations", 413, "PayloadTooLarge",
         "larger than", content=b" " * (6 * 1024 * 1024 + 1025)),
    Case("bad qualifier", "POST", F + "/echo/invocations", 400, "ValidationError", "qualifier",
         content=b"{}", params={"qualifier": "no spaces"}),
    Case("unknown version", "POST", F + "/echo/invocations", 404, "NotFound", "9",
         content=b"{}", params={"qualifier": "9"}),
    Case("alias to an unknown version", "POST", F + "/echo/aliases", 404, "NotFound", "7",
         json={"name": "live", "version": "7"}),
    Case("alias without version", "POST", F + "/echo/aliases", 400, "ValidationError", "body.version",
         json={"name": "live"}),
    Case("numeric alias name", "POST", F + "/echo/aliases", 400, "ValidationError", "alias",
         json={"name": "12", "version": "$LATEST"}),
    Case("update unknown alias", "PUT", F + "/echo/aliases/nope", 404, "NotFound", "nope",
         json={"version": "$LATEST"}),
    Case("delete unknown alias", "DELETE", F + "/echo/aliases/nope", 404, "NotFound", "nope"),
    Case("unknown field on publish", "POST", F + "/echo/versions", 400, "ValidationError", "body.tag",
         json={"tag": "v1"}),
    Case("logs limit 0", "GET", F + "/echo/logs", 400, "ValidationError", "limit", params={"limit": 0}),
    Case("logs after -1", "GET", F + "/echo/logs", 400, "ValidationError", "after", params={"after": -1}),
    Case("metrics minutes 0", "GET", F + "/echo/metrics", 400, "ValidationError", "minutes",
         params={"minutes": 0}),
    Case("metrics minutes 1441", "GET", F + "/echo/metrics", 400, "ValidationError", "minutes",
         params={"minutes": 1441}),
    Case("list limit 0", "GET", F, 400, "ValidationError", "limit", params={"limit": 0}),
    Case("bad function name in the path", "GET", F + "/bad.name", 400, "ValidationError", "name"),
    # --- unknown functions: 404 everywhere ------------------------------------------------------
    Case("get unknown", "GET", F + "/ghost", 404, "NotFound", "ghost"),
    Case("update unknown", "PATCH", F + "/ghost", 404, "NotFound", "ghost", json={"timeout": 5}),
    Case("code of unknown", "PUT", F + "/ghost/code", 404, "NotFound", "ghost", json={"zip_base64": ZIP}),
    Case("delete unknown", "DELETE", F + "/ghost", 404, "NotFound", "ghost"),
    Case("invoke unknown", "POST", F + "/ghost/invocations", 404, "NotFound", "ghost", content=b"{}"),
    Case("event to unknown", "POST", F + "/ghost/invocations", 404, "NotFound", "ghost", content=b"{}",
         headers={"X-Silo-Invocation-Type": "Event"}),
    Case("versions of unknown", "GET", F + "/ghost/versions", 404, "NotFound", "ghost"),
    Case("publish unknown", "POST", F + "/ghost/versions", 404, "NotFound", "ghost", json={}),
    Case("aliases of unknown", "GET", F + "/ghost/aliases", 404, "NotFound", "ghost"),
    Case("alias of unknown", "POST", F + "/ghost/aliases", 404, "NotFound", "ghost",
         json={"name": "live", "version": "$LATEST"}),
]
# fmt: on


@dataclass
class World:
    root: Api
    member: Tenant

    def snapshot(self) -> dict[str, Any]:
        """Everything a bad request could have written."""
        own = self.member.api
        return {
            "functions": own.get(FUNCTIONS, params={"limit": 1000})["items"],
            "versions": own.get(f"{FUNCTIONS}/echo/versions")["items"],
            "aliases": own.get(f"{FUNCTIONS}/echo/aliases")["items"],
            "metrics": own.get(f"{FUNCTIONS}/echo/metrics")["metrics"],
            "logs": own.get(f"{FUNCTIONS}/echo/logs")["items"],
            "dead letters": self.root.get("/v1/mgmt/dead-letters", params={"limit": 1000})["items"],
            "accounts": self.root.get("/v1/mgmt/accounts", params={"limit": 1000})["items"],
            "audit": self.root.get("/v1/mgmt/audit", params={"limit": 1000})["items"],
        }


@pytest.fixture
def world(api: Api, member: Tenant, code: Code) -> World:
    member.create("echo", code("echo"))
    return World(api, member)


def _send(client: TestClient, token: str, case: Case, zipped: str) -> httpx.Response:
    kwargs: dict[str, Any] = {"headers": {**bearer(token), **case.headers}, "params": case.params}
    if case.json is not UNSET:
        kwargs["json"] = json.loads(json.dumps(case.json).replace(ZIP, zipped))
    if case.content is not None:
        kwargs["content"] = case.content
    response: httpx.Response = client.request(case.method, case.path, **kwargs)
    return response


def test_bad_requests_get_clear_4xx_and_write_nothing(
    world: World, app: Any, code: Code, subtests: pytest.Subtests
) -> None:
    assert len({c.name for c in CASES}) == len(CASES)
    zipped = base64.b64encode(code("printer")).decode()
    client = TestClient(app, raise_server_exceptions=False)
    before = world.snapshot()
    for case in CASES:
        with subtests.test(case.name):
            response = _send(client, world.member.api.token or "", case, zipped)
            assert response.status_code == case.status, response.text
            body = response.json()
            assert body["code"] == case.code, body
            assert case.says in body["message"], body
            assert "Traceback" not in response.text
            if case.method != "GET":
                assert world.snapshot() == before
    assert world.snapshot() == before


@pytest.fixture
def small_code_limit(settings: Settings) -> Iterator[tuple[TestClient, str]]:
    platform = Platform.open(settings.with_(max_code_body_bytes=2048))
    try:
        init: Initialised | None = platform.initialise()
        assert init is not None
        with TestClient(create_app(platform)) as client:
            root = Api(client, init.root_key.token)
            yield client, Tenant.make(root, "small").api.token or ""
    finally:
        platform.close()


def test_code_bodies_over_the_code_limit_are_413(
    small_code_limit: tuple[TestClient, str], code: Code
) -> None:
    client, token = small_code_limit
    own = Api(client, token)
    big = code("import os\n# " + os.urandom(3000).hex() + "\ndef handler(e, c):\n    return 1\n")
    small = code("echo")
    assert len(code_of(small)["zip_base64"]) < 1500 and len(code_of(big)["zip_base64"]) > 2048
    body = {"name": "big", "handler": "app.handler", "code": code_of(big)}
    refused = own.post(FUNCTIONS, body, 413)
    assert refused["code"] == "PayloadTooLarge" and refused["details"] == {"max_body_bytes": 2048}
    assert own.get(FUNCTIONS)["items"] == []
    own.post(FUNCTIONS, {"name": "small", "handler": "app.handler", "code": code_of(small)}, 201)
    assert own.put(f"{FUNCTIONS}/small/code", code_of(big), 413)["code"] == "PayloadTooLarge"
    assert own.get(f"{FUNCTIONS}/small")["code_sha256"] == hashlib.sha256(small).hexdigest()
    # only code uploads have that limit: a 3 KB settings update still fits the default 1 MiB
    assert own.patch(f"{FUNCTIONS}/small", {"environment": {"BIG": "x" * 3000}})["environment"]["BIG"]


@pytest.mark.parametrize(
    ("path", "content", "params"),
    [
        ("/echo/invocations", b"[" * 100_000 + b"]" * 100_000, None),
        ("/echo/logs", None, {"after": 10**30}),
        ("/echo/invocations", b'{"x": NaN}', None),
    ],
    ids=["deeply nested payload", "after beyond 64 bits", "NaN is not JSON"],
)
def test_pathological_input_is_a_400_not_a_500(
    world: World, app: Any, path: str, content: bytes | None, params: dict[str, Any] | None
) -> None:
    client = TestClient(app, raise_server_exceptions=False)
    headers = {**bearer(world.member.api.token or ""), "X-Silo-Invocation-Type": "Event"}
    method = "GET" if content is None else "POST"
    response = client.request(method, FUNCTIONS + path, content=content, params=params, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "ValidationError"
