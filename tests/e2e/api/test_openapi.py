"""The OpenAPI document matches docs/api.md: every endpoint, bearer auth, 400 (not 422) errors."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import silo

from .conftest import Api, TestClient

DOCS = Path(__file__).resolve().parents[3] / "docs" / "api.md"
PUBLIC = {("GET", "/healthz")}
METHODS = {"get", "post", "put", "patch", "delete"}
BODIES = {
    "AccountCreate", "AccountBatch", "Assume", "KeyCreate", "GuardrailCreate", "OuCreate", "Tags",
    "FunctionCreate", "FunctionUpdate", "Code", "AsyncSettings", "OnFailure", "PublishVersion",
    "AliasCreate", "AliasUpdate", "TemplateValidate", "StackDeploy", "ChangeSetCreate", "StackSetCreate",
    "StackSetUpdate", "InstancesCreate", "InstancesUpdate", "InstancesDelete", "TargetsBody", "WaveBody",
    "PreferencesBody", "EventPatternTest", "BusCreate", "RulePut", "TargetsPut", "TargetsRemove", "EventsPut",
    "SchedulePut", "StateMachineCreate", "StateMachineUpdate", "ExecutionStart", "ExecutionStop",
    "TaskSuccess", "TaskFailure", "TaskHeartbeat", "TableCreate", "TimeToLiveUpdate", "TimeToLive",
    "StreamUpdate", "GetItem", "PutItem", "UpdateItem", "DeleteItem", "QueryRequest", "ScanRequest",
    "BatchGetItem", "KeysAndAttributes", "BatchWriteItem", "WriteRequest", "WritePut", "WriteDelete",
    "TransactWriteItems", "TransactItem", "TransactPut", "TransactUpdate", "TransactKeyed",
}  # fmt: skip


def _documented() -> set[tuple[str, str]]:
    rows = re.findall(r"^\| (GET|POST|PUT|PATCH|DELETE) (/\S*) \|", DOCS.read_text(), re.MULTILINE)
    assert len(rows) > 30, "the endpoint table of docs/api.md was not found"
    return set(rows)


def _operations(spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): op
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in METHODS
    }


def test_every_documented_endpoint_exists_and_nothing_else(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "Silo" and spec["info"]["version"] == silo.__version__
    assert set(_operations(spec)) == _documented()


def test_bearer_auth_is_documented_on_every_endpoint_but_health(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert list(schemes.values()) == [
        {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "KEYID.SECRET",
            "description": schemes["HTTPBearer"]["description"],
        }
    ]
    for key, op in _operations(spec).items():
        if key in PUBLIC:
            assert "security" not in op, key
        else:
            assert op.get("security") == [{"HTTPBearer": []}], key


def test_errors_are_documented_as_400_not_422(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for key, op in _operations(spec).items():
        assert "422" not in op["responses"], key
        assert "4XX" in op["responses"], key
    error = spec["components"]["schemas"]["ErrorView"]
    assert set(error["required"]) == {"code", "message"}


def test_request_bodies_refuse_unknown_fields(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    bodies = [schema for name, schema in spec["components"]["schemas"].items() if name in BODIES]
    assert len(bodies) == len(BODIES)
    assert all(schema.get("additionalProperties") is False for schema in bodies)


def test_invoke_documents_its_headers_and_statuses(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    op = spec["paths"]["/v1/account/functions/{name}/invocations"]["post"]
    headers = {p["name"] for p in op["parameters"] if p["in"] == "header"}
    assert headers == {"X-Silo-Invocation-Type", "X-Silo-Log-Type"}
    assert {"qualifier"} == {p["name"] for p in op["parameters"] if p["in"] == "query"}
    assert {"200", "202", "204"} <= set(op["responses"])


def test_docs_are_served_without_a_key(api: Api) -> None:
    anonymous = api.as_(None)
    assert "swagger" in anonymous.client.get("/docs").text.lower()
    assert anonymous.client.get("/openapi.json").status_code == 200
