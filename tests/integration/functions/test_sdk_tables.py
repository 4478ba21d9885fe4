"""``silo.sdk`` tables: a handler's ``Client().table(name)`` reads and writes its own account's table over
the environment's channel (documents in and out: ``Decimal``, ``set``, ``bytes`` round-trip; failed
conditions and cancelled transactions raise ``SiloClientError`` with DynamoDB's codes), and never another
account's table of the same name; outside a handler the same client works over HTTP with an account key.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from silo.api import serve_in_thread
from silo.functions import InvokeOutcome
from silo.platform import AccountHandle, Platform
from silo.sdk import Client, SiloClientError
from tests.helpers.functions import deploy

KEYED = {
    "AttributeDefinitions": [
        {"AttributeName": "customer", "AttributeType": "S"},
        {"AttributeName": "order", "AttributeType": "N"},
    ],
    "KeySchema": [
        {"AttributeName": "customer", "KeyType": "HASH"},
        {"AttributeName": "order", "KeyType": "RANGE"},
    ],
}
WORKER = """
from decimal import Decimal
from silo.sdk import Client, SiloClientError

def caught(call):
    try:
        call()
    except SiloClientError as exc:
        item = exc.details.get("Item") or {}
        reasons = exc.details.get("cancellation_reasons") or []
        return [exc.code, item.get("owner"), [r["Code"] for r in reasons]]
    return None

def handler(event, context):
    client = Client()
    orders = client.table("orders")
    out = {"before": orders.get_item(Key={"customer": "ann", "order": 1})}
    orders.put_item(Item={"customer": "ann", "order": 1, "price": Decimal("12.50"), "tags": {"x", "y"},
                          "blob": b"\\x00\\x01", "owner": "a", "qty": 3})
    item = orders.get_item(Key={"customer": "ann", "order": 1})["Item"]
    out["types"] = {k: type(v).__name__ for k, v in sorted(item.items())}
    out["price_is_exact"] = item["price"] == Decimal("12.5")
    new = orders.update_item(Key={"customer": "ann", "order": 1}, UpdateExpression="SET qty = qty + :n",
                             ExpressionAttributeValues={":n": 1}, ReturnValues="UPDATED_NEW")
    out["updated"] = new["Attributes"]
    out["condition"] = caught(lambda: orders.put_item(
        Item={"customer": "ann", "order": 1}, ConditionExpression="attribute_not_exists(customer)",
        ReturnValuesOnConditionCheckFailure="ALL_OLD"))
    out["transaction"] = caught(lambda: client.transact_write_items(TransactItems=[
        {"Put": {"TableName": "orders", "Item": {"customer": "bob", "order": 1}}},
        {"ConditionCheck": {"TableName": "orders", "Key": {"customer": "ann", "order": 1},
                            "ConditionExpression": "qty > :q", "ExpressionAttributeValues": {":q": 99}}},
    ]))
    out["transact_get"] = client.transact_get_items(TransactItems=[
        {"Get": {"TableName": "orders", "Key": {"customer": "ann", "order": 1},
                 "ProjectionExpression": "qty"}},
        {"Get": {"TableName": "orders", "Key": {"customer": "bob", "order": 1}}},
    ])["Responses"]
    orders.batch_write([{"customer": "cy", "order": n} for n in range(1, 31)])
    out["batch_get"] = len(orders.batch_get([{"customer": "cy", "order": n} for n in range(1, 31)]))
    page = orders.query(KeyConditionExpression="customer = :c", ExpressionAttributeValues={":c": "cy"},
                        Limit=10, ScanIndexForward=False)
    out["query"] = [page["Items"][0]["order"], page["Count"], "LastEvaluatedKey" in page]
    out["b_only"] = caught(lambda: client.table("b-only").scan())
    out["unknown_arg"] = None
    try:
        orders.get_item(Key={"customer": "ann", "order": 1}, TableName="elsewhere")
    except TypeError as exc:
        out["unknown_arg"] = str(exc)
    return out
"""


def _payload(outcome: Any) -> Any:
    assert isinstance(outcome, InvokeOutcome), outcome
    assert outcome.error is None, outcome.error
    return json.loads(outcome.payload or b"null")


def _scan(handle: AccountHandle, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = handle.tables.scan({"TableName": table})["Items"]
    return items


def test_a_handler_uses_its_own_account_tables_only(
    tenant: Callable[..., AccountHandle], code: Callable[[str], bytes]
) -> None:
    a, b = tenant("a"), tenant("b")
    for handle in (a, b):
        handle.tables.create_table({"TableName": "orders", **KEYED})
    b.tables.create_table({"TableName": "b-only", **KEYED})
    b_item = {"customer": {"S": "ann"}, "order": {"N": "1"}, "owner": {"S": "b"}}
    b.tables.put_item({"TableName": "orders", "Item": b_item})
    deploy(a, "worker", code(WORKER))

    out = _payload(a.functions.invoke("worker"))
    assert out["before"] == {}  # B's item of the same key, in B's table of the same name, is not seen
    assert out["types"] == {
        "blob": "bytes",
        "customer": "str",
        "order": "int",
        "owner": "str",
        "price": "Decimal",
        "qty": "int",
        "tags": "set",
    }
    assert out["price_is_exact"] is True
    assert out["updated"] == {"qty": 4}
    assert out["condition"] == ["ConditionalCheckFailedException", "a", []]
    assert out["transaction"] == ["TransactionCanceledException", None, ["None", "ConditionalCheckFailed"]]
    assert out["batch_get"] == 30
    assert out["transact_get"] == [{"Item": {"qty": 4}}, {}]
    assert out["query"] == [30, 10, True]
    assert out["b_only"][0] == "ResourceNotFoundException"
    assert "TableName" in out["unknown_arg"]

    assert _scan(b, "orders") == [b_item]  # B's table is as B left it
    mine = a.tables.get_item({"TableName": "orders", "Key": {"customer": {"S": "ann"}, "order": {"N": "1"}}})
    assert mine["Item"]["price"] == {"N": "12.5"} and mine["Item"]["tags"]["SS"] in (["x", "y"], ["y", "x"])
    assert mine["Item"]["blob"] == {"B": "AAE="}
    assert len(_scan(a, "orders")) == 31  # ann's and cy's 30 (the cancelled transaction wrote no bob)


@pytest.fixture
def served(platform: Platform) -> Iterator[str]:
    url, stop = serve_in_thread(platform.settings, port=0, platform=platform)
    yield url
    stop()


def test_outside_a_handler_the_client_uses_http_with_the_key(
    platform: Platform, tenant: Callable[..., AccountHandle], served: str, mgmt: Any
) -> None:
    a = tenant("a")
    a.tables.create_table({"TableName": "orders", **KEYED})
    key = mgmt.issue_account_key(a.account_id, "script").token
    with Client(endpoint=served, key=key) as client:
        orders = client.table("orders")
        orders.put_item(Item={"customer": "ann", "order": 1, "price": Decimal("0.1"), "tags": {1, 2}})
        assert orders.get_item(Key={"customer": "ann", "order": 1}) == {
            "Item": {"customer": "ann", "order": 1, "price": Decimal("0.1"), "tags": {1, 2}}
        }
        with pytest.raises(SiloClientError) as failed:
            orders.put_item(
                Item={"customer": "ann", "order": 1}, ConditionExpression="attribute_not_exists(customer)"
            )
        assert failed.value.code == "ConditionalCheckFailedException"
        with pytest.raises(SiloClientError) as missing:
            client.table("nope").scan()
        assert missing.value.code == "ResourceNotFoundException"
        with pytest.raises(SiloClientError) as bad:
            orders.put_item(Item={"customer": "ann", "order": 1, "n": float("nan")})
        assert bad.value.code == "ValidationException" and "Item.n" in bad.value.message
