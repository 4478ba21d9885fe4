"""Every table endpoint, seen from tenant A: nothing of tenant B's tables or items can be listed, read or
changed, by B's table name (looked up in A's own account: not there) or by B's table ARN (not a table
name); a table A makes under B's name is A's own; a transaction or batch naming B's table fails whole.

The cases are keyed by (method, path) and checked against ``app.routes`` here, for the routes under
``/v1/account/tables``; ``tests/isolation/test_api_isolation.py`` counts them as covered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI

from silo.platform import Initialised
from tests.e2e.api.conftest import Api, TestClient
from tests.e2e.api.test_tables_api import table_body
from tests.isolation.conftest import api_routes, assert_cases_cover, caller_as, keyed_tenant

TABLES = "/v1/account/tables"
SHARED, MINE = "shared", "mine"  # B has SHARED; A has MINE
KEY = {"customer": "ann", "order": 1}
TYPED_KEY = {"customer": {"S": "ann"}, "order": {"N": "1"}}
TYPED = {"format": "typed"}


def op(table: str, operation: str) -> str:
    return f"{TABLES}/{table}/{operation}"


@dataclass
class Tenants:
    root: Api
    a: dict[str, str]  # account_id, token
    b: dict[str, str]

    def b_state(self) -> dict[str, Any]:
        """B's tables, their TTL and every item, as B sees them (typed: exactly)."""
        own = self.root.as_(self.b["token"])
        names = own.get(TABLES)["TableNames"]
        return {
            "tables": {name: own.get(f"{TABLES}/{name}") for name in names},
            "ttl": {name: own.get(f"{TABLES}/{name}/ttl") for name in names},
            "items": {name: own.post(op(name, "scan"), params=TYPED)["Items"] for name in names},
        }

    @property
    def b_arn(self) -> str:
        return f"arn:silo:dynamodb:local:{self.b['account_id']}:table/{SHARED}"


def not_found(answer: Any, t: Tenants) -> None:
    assert answer["code"] == "ResourceNotFoundException", answer
    assert t.b["account_id"] not in str(answer)


def not_a_name(answer: Any, t: Tenants) -> None:
    """B's ARN where a table name belongs: a 400 about the name, never a look-up in B's account."""
    assert answer["code"] == "ValidationException" and "3-255 characters" in answer["message"], answer


# --- tables -----------------------------------------------------------------------------------------
def list_tables(caller: Api, t: Tenants) -> None:
    assert caller.get(TABLES) == {"TableNames": [MINE]}
    assert caller.get(TABLES, params={"exclusive_start_table_name": "a"}) == {"TableNames": [MINE]}


def create_table(caller: Api, t: Tenants) -> None:
    made = caller.post(TABLES, table_body(SHARED), 201)["TableDescription"]  # B's name: A's own table
    assert made["TableArn"] == f"arn:silo:dynamodb:local:{t.a['account_id']}:table/{SHARED}"
    assert made["ItemCount"] == 0
    caller.delete(f"{TABLES}/{SHARED}", 200)


def describe_table(caller: Api, t: Tenants) -> None:
    not_found(caller.get(f"{TABLES}/{SHARED}", 404), t)
    assert caller.get(f"{TABLES}/{t.b_arn}", 404)["code"] == "NotFound"  # an ARN has '/': no such path


def delete_table(caller: Api, t: Tenants) -> None:
    not_found(caller.delete(f"{TABLES}/{SHARED}", 404), t)


def describe_ttl(caller: Api, t: Tenants) -> None:
    not_found(caller.get(f"{TABLES}/{SHARED}/ttl", 404), t)


def update_ttl(caller: Api, t: Tenants) -> None:
    spec = {"TimeToLiveSpecification": {"Enabled": False, "AttributeName": "expires"}}
    not_found(caller.put(f"{TABLES}/{SHARED}/ttl", spec, 404), t)


def set_stream(caller: Api, t: Tenants) -> None:
    not_found(caller.put(f"{TABLES}/{SHARED}/stream", {"StreamEnabled": False}, 404), t)


# --- items ------------------------------------------------------------------------------------------
def _item_case(operation: str, body: dict[str, Any], typed: dict[str, Any]) -> Callable[[Api, Tenants], None]:
    def case(caller: Api, t: Tenants) -> None:
        not_found(caller.post(op(SHARED, operation), body, 404), t)
        not_found(caller.post(op(SHARED, operation), typed, 404, params=TYPED), t)

    return case


def batch_get(caller: Api, t: Tenants) -> None:
    not_found(caller.post(f"{TABLES}/batch-get-item", {"RequestItems": {SHARED: {"Keys": [KEY]}}}, 404), t)
    both = {MINE: {"Keys": [KEY]}, SHARED: {"Keys": [KEY]}}
    not_found(caller.post(f"{TABLES}/batch-get-item", {"RequestItems": both}, 404), t)
    arn = {t.b_arn: {"Keys": [KEY]}}
    not_a_name(caller.post(f"{TABLES}/batch-get-item", {"RequestItems": arn}, 400), t)


def batch_write(caller: Api, t: Tenants) -> None:
    for table in (SHARED, t.b_arn):
        writes = {
            MINE: [{"PutRequest": {"Item": KEY | {"by": "a"}}}],
            table: [{"DeleteRequest": {"Key": KEY}}],
        }
        answer = caller.post(
            f"{TABLES}/batch-write-item", {"RequestItems": writes}, 404 if table == SHARED else 400
        )
        (not_found if table == SHARED else not_a_name)(answer, t)
    assert "by" not in caller.post(op(MINE, "get-item"), {"Key": KEY})["Item"]  # the batch failed whole


def transact(caller: Api, t: Tenants) -> None:
    for table in (SHARED, t.b_arn):
        actions = [
            {"Put": {"TableName": MINE, "Item": KEY | {"by": "a"}}},
            {"Delete": {"TableName": table, "Key": KEY}},
        ]
        answer = caller.post(
            f"{TABLES}/transact-write-items", {"TransactItems": actions}, 404 if table == SHARED else 400
        )
        (not_found if table == SHARED else not_a_name)(answer, t)
    assert "by" not in caller.post(op(MINE, "get-item"), {"Key": KEY})["Item"]


def transact_get(caller: Api, t: Tenants) -> None:
    for table in (SHARED, t.b_arn):
        gets = [{"Get": {"TableName": MINE, "Key": KEY}}, {"Get": {"TableName": table, "Key": KEY}}]
        answer = caller.post(
            f"{TABLES}/transact-get-items", {"TransactItems": gets}, 404 if table == SHARED else 400
        )
        (not_found if table == SHARED else not_a_name)(answer, t)
    mine = caller.post(
        f"{TABLES}/transact-get-items", {"TransactItems": [{"Get": {"TableName": MINE, "Key": KEY}}]}
    )
    assert mine["Responses"][0]["Item"]["owner"] == "a"


READ = {"KeyConditionExpression": "customer = :c", "ExpressionAttributeValues": {":c": "ann"}}
TYPED_READ = {"KeyConditionExpression": "customer = :c", "ExpressionAttributeValues": {":c": {"S": "ann"}}}
Check = Callable[[Api, Tenants], None]
CASES: dict[tuple[str, str], Check] = {
    ("GET", TABLES): list_tables,
    ("POST", TABLES): create_table,
    ("GET", f"{TABLES}/{{table}}"): describe_table,
    ("DELETE", f"{TABLES}/{{table}}"): delete_table,
    ("GET", f"{TABLES}/{{table}}/ttl"): describe_ttl,
    ("PUT", f"{TABLES}/{{table}}/ttl"): update_ttl,
    ("PUT", f"{TABLES}/{{table}}/stream"): set_stream,
    ("POST", f"{TABLES}/{{table}}/get-item"): _item_case("get-item", {"Key": KEY}, {"Key": TYPED_KEY}),
    ("POST", f"{TABLES}/{{table}}/put-item"): _item_case("put-item", {"Item": KEY}, {"Item": TYPED_KEY}),
    ("POST", f"{TABLES}/{{table}}/update-item"): _item_case(
        "update-item",
        {"Key": KEY, "UpdateExpression": "SET note = :n", "ExpressionAttributeValues": {":n": "a"}},
        {
            "Key": TYPED_KEY,
            "UpdateExpression": "SET note = :n",
            "ExpressionAttributeValues": {":n": {"S": "a"}},
        },
    ),
    ("POST", f"{TABLES}/{{table}}/delete-item"): _item_case("delete-item", {"Key": KEY}, {"Key": TYPED_KEY}),
    ("POST", f"{TABLES}/{{table}}/query"): _item_case("query", READ, TYPED_READ),
    ("POST", f"{TABLES}/{{table}}/scan"): _item_case("scan", {}, {}),
    ("POST", f"{TABLES}/batch-get-item"): batch_get,
    ("POST", f"{TABLES}/batch-write-item"): batch_write,
    ("POST", f"{TABLES}/transact-write-items"): transact,
    ("POST", f"{TABLES}/transact-get-items"): transact_get,
}


@pytest.fixture
def tenants(client: TestClient, init: Initialised) -> Tenants:
    root = Api(client, init.root_key.token)
    a, b = keyed_tenant(root, "tenant-a"), keyed_tenant(root, "tenant-b")
    own_a, own_b = root.as_(a["token"]), root.as_(b["token"])
    own_a.post(TABLES, table_body(MINE), 201)
    own_a.post(op(MINE, "put-item"), {"Item": KEY | {"owner": "a"}})
    own_b.post(TABLES, table_body(SHARED), 201)
    own_b.put(
        f"{TABLES}/{SHARED}/ttl", {"TimeToLiveSpecification": {"Enabled": True, "AttributeName": "expires"}}
    )
    own_b.put(f"{TABLES}/{SHARED}/stream", {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    writes = [{"PutRequest": {"Item": KEY | {"order": n, "owner": "b"}}} for n in range(1, 4)]
    own_b.post(f"{TABLES}/batch-write-item", {"RequestItems": {SHARED: writes}})
    return Tenants(root, a, b)


def test_every_table_endpoint_has_an_isolation_case(app: FastAPI) -> None:
    assert_cases_cover(api_routes(app, TABLES), CASES, "table ")


@pytest.mark.parametrize("as_", ["account key", "assumed session"])
def test_a_cannot_see_or_touch_b_tables_through_any_endpoint(
    tenants: Tenants, client: TestClient, as_: str, subtests: pytest.Subtests
) -> None:
    t = tenants
    caller = caller_as(t.root, client, t.a, as_)
    before = t.b_state()
    assert [i["owner"] for i in before["items"][SHARED]] == [{"S": "b"}] * 3
    for (method, path), case in CASES.items():
        with subtests.test(f"{method} {path}"):
            case(caller, t)
            if method != "GET":
                assert t.b_state() == before
    assert t.b_state() == before
    assert caller.post(op(MINE, "get-item"), {"Key": KEY})["Item"]["owner"] == "a"
