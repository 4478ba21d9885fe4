"""``/v1/account/tables``: tables created, listed, described, given a TTL and a stream, deleted; items
written and read as plain JSON documents (the default) and as DynamoDB's typed JSON (``?format=typed``);
query and scan pages that, followed by ``LastEvaluatedKey``, neither repeat nor skip an item; a failed
condition is a 400 ``ConditionalCheckFailedException`` and a cancelled transaction a 400 with its
reasons; a bad body is a 400 naming the field; a table that does not exist is a 404."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Api
from .functions_helpers import Tenant

TABLES = "/v1/account/tables"
TYPED = {"format": "typed"}


def table_body(name: str = "orders", *, index: bool = False) -> dict[str, Any]:
    """A table keyed by customer (S) and order number (N); with ``index``, a GSI by status and total."""
    attributes = [("customer", "S"), ("order", "N")] + ([("status", "S"), ("total", "N")] if index else [])
    body: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": t} for a, t in attributes],
        "KeySchema": [
            {"AttributeName": "customer", "KeyType": "HASH"},
            {"AttributeName": "order", "KeyType": "RANGE"},
        ],
    }
    if index:
        keys = [
            {"AttributeName": "status", "KeyType": "HASH"},
            {"AttributeName": "total", "KeyType": "RANGE"},
        ]
        body["GlobalSecondaryIndexes"] = [
            {"IndexName": "by-status", "KeySchema": keys, "Projection": {"ProjectionType": "ALL"}}
        ]
    return body


def op(table: str, operation: str) -> str:
    return f"{TABLES}/{table}/{operation}"


@pytest.fixture
def own(api: Api) -> Api:
    shop = Tenant.make(api, "shop").api
    shop.post(TABLES, table_body(index=True), 201)
    return shop


def test_tables_create_list_describe_ttl_stream_delete(own: Api) -> None:
    made = own.post(TABLES, table_body("archive"), 201)["TableDescription"]
    assert (made["TableName"], made["TableStatus"], made["ItemCount"]) == ("archive", "ACTIVE", 0)
    assert made["KeySchema"] == table_body()["KeySchema"]
    again = own.post(TABLES, table_body("archive"), 400)
    assert again["code"] == "ResourceInUseException"

    first = own.get(TABLES, params={"limit": 1})
    assert first == {"TableNames": ["archive"], "LastEvaluatedTableName": "archive"}
    rest = own.get(TABLES, params={"limit": 1, "exclusive_start_table_name": "archive"})
    assert rest == {"TableNames": ["orders"]}  # no LastEvaluatedTableName: the last page
    assert own.get(TABLES) == {"TableNames": ["archive", "orders"]}
    described = own.get(f"{TABLES}/orders")["Table"]
    assert [i["IndexName"] for i in described["GlobalSecondaryIndexes"]] == ["by-status"]

    assert own.get(f"{TABLES}/orders/ttl") == {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}
    spec = {"Enabled": True, "AttributeName": "expires"}
    assert own.put(f"{TABLES}/archive/ttl", {"TimeToLiveSpecification": spec}) == {
        "TimeToLiveSpecification": spec
    }
    assert own.get(f"{TABLES}/archive/ttl")["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expires",
    }
    stream = {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
        "FunctionName": "f",
        "BatchSize": 10,
    }
    assert own.put(f"{TABLES}/archive/stream", stream, 404)["message"] == "function not found: f"
    del stream["FunctionName"], stream["BatchSize"]  # no records are kept until a function reads them
    with_stream = own.put(f"{TABLES}/archive/stream", stream)["Table"]
    assert with_stream["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    without = own.put(f"{TABLES}/archive/stream", {"StreamEnabled": False})["Table"]
    assert "StreamSpecification" not in without

    deleted = own.delete(f"{TABLES}/archive", 200)["TableDescription"]
    assert (deleted["TableName"], deleted["TableStatus"]) == ("archive", "DELETING")
    missing = own.get(f"{TABLES}/archive", 404)
    assert missing["code"] == "ResourceNotFoundException" and "archive" in missing["message"]
    assert own.get(TABLES) == {"TableNames": ["orders"]}


def test_a_changed_table_is_seen_at_once(own: Api) -> None:
    key = {"customer": "a", "order": 1}
    assert own.get(f"{TABLES}/orders/ttl")["TimeToLiveDescription"]["TimeToLiveStatus"] == "DISABLED"
    spec = {"Enabled": True, "AttributeName": "expires"}
    own.put(f"{TABLES}/orders/ttl", {"TimeToLiveSpecification": spec})
    assert own.get(f"{TABLES}/orders/ttl")["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"
    own.post(op("orders", "get-item"), {"Key": key})
    own.delete(f"{TABLES}/orders", 200)
    assert own.post(op("orders", "get-item"), {"Key": key}, 404)["code"] == "ResourceNotFoundException"
    body = table_body()
    body["KeySchema"], body["AttributeDefinitions"] = body["KeySchema"][:1], body["AttributeDefinitions"][:1]
    own.post(TABLES, body, 201)  # the same name, keyed by customer only
    assert own.post(op("orders", "get-item"), {"Key": {"customer": "a"}}) == {}


def test_items_as_documents(own: Api) -> None:
    item = {
        "customer": "ann",
        "order": 1,
        "amount": 12.5,
        "big": 2**70,  # integers stay integers, every digit of them
        "tags": ["a", 2, None, True],
        "address": {"city": "Oslo", "zip": "0150"},
    }
    assert own.post(op("orders", "put-item"), {"Item": item}) == {}
    key = {"customer": "ann", "order": 1}
    assert own.post(op("orders", "get-item"), {"Key": key}) == {"Item": item}
    assert own.post(op("orders", "get-item"), {"Key": {"customer": "bob", "order": 1}}) == {}
    projected = own.post(
        op("orders", "get-item"),
        {"Key": key, "ProjectionExpression": "#a.city", "ExpressionAttributeNames": {"#a": "address"}},
    )
    assert projected == {"Item": {"address": {"city": "Oslo"}}}

    updated = own.post(
        op("orders", "update-item"),
        {
            "Key": key,
            "UpdateExpression": "SET amount = amount + :more, note = :note REMOVE tags",
            "ConditionExpression": "amount < :limit",
            "ExpressionAttributeValues": {":more": 2.5, ":note": {"by": "api"}, ":limit": 100},
            "ReturnValues": "UPDATED_NEW",
        },
    )
    assert updated == {"Attributes": {"amount": 15, "note": {"by": "api"}}}  # 15.0 is the integer 15
    replaced = own.post(op("orders", "put-item"), {"Item": key | {"amount": 1}, "ReturnValues": "ALL_OLD"})
    assert replaced["Attributes"]["amount"] == 15 and replaced["Attributes"]["big"] == 2**70
    gone = own.post(op("orders", "delete-item"), {"Key": key, "ReturnValues": "ALL_OLD"})
    assert gone == {"Attributes": key | {"amount": 1}}
    assert own.post(op("orders", "get-item"), {"Key": key}) == {}


def test_items_as_typed_json(own: Api) -> None:
    exact = "0.1234567890123456789012345678901234567"  # 37 digits: more than a JSON double keeps
    item = {
        "customer": {"S": "ann"},
        "order": {"N": "7"},
        "price": {"N": exact},
        "blob": {"B": "AAEC"},
        "colors": {"SS": ["red", "blue"]},
    }
    assert own.post(op("orders", "put-item"), {"Item": item}, params=TYPED) == {}
    key = {"customer": {"S": "ann"}, "order": {"N": "7"}}
    read = own.post(op("orders", "get-item"), {"Key": key}, params=TYPED)["Item"]
    assert read["price"] == {"N": exact} and read["blob"] == {"B": "AAEC"}
    assert sorted(read["colors"]["SS"]) == ["blue", "red"]
    # The same item as a document: binary as base64 text, sets as lists in DynamoDB order.
    document = own.post(op("orders", "get-item"), {"Key": {"customer": "ann", "order": 7}})["Item"]
    assert document == {
        "customer": "ann",
        "order": 7,
        "price": float(exact),
        "blob": "AAEC",
        "colors": ["blue", "red"],
    }
    page = own.post(
        op("orders", "query"),
        {"KeyConditionExpression": "customer = :c", "ExpressionAttributeValues": {":c": {"S": "ann"}}},
        params=TYPED,
    )
    assert page["Items"] == [read] and page["Count"] == 1
    wrong = own.post(op("orders", "get-item"), {"Key": {"customer": "ann", "order": 7}}, 400, params=TYPED)
    assert wrong["code"] == "ValidationException"
    assert own.post(op("orders", "get-item"), {"Key": key}, 400, params={"format": "xml"})[
        "message"
    ].startswith("query.format")


def _orders(own: Api) -> list[tuple[str, int]]:
    """Three customers' orders (7, 5 and 1 of them), written in one batch; their keys in key order."""
    keys = [(c, n) for c, count in (("ann", 7), ("bob", 5), ("cy", 1)) for n in range(1, count + 1)]
    writes = [
        {
            "PutRequest": {
                "Item": {"customer": c, "order": n, "status": "OPEN" if n % 2 else "PAID", "total": n * 10}
            }
        }
        for c, n in keys
    ]
    assert own.post(f"{TABLES}/batch-write-item", {"RequestItems": {"orders": writes}}) == {
        "UnprocessedItems": {}
    }
    return keys


def _all_pages(own: Api, operation: str, body: dict[str, Any]) -> tuple[list[Any], int]:
    seen: list[Any] = []
    pages = 0
    while True:
        page = own.post(op("orders", operation), body)
        pages += 1
        seen += page["Items"]
        assert page["Count"] == len(page["Items"])
        if "LastEvaluatedKey" not in page:
            return seen, pages
        body = body | {"ExclusiveStartKey": page["LastEvaluatedKey"]}


def test_query_and_scan_pages_neither_repeat_nor_skip(own: Api) -> None:
    keys = _orders(own)
    ann = {"KeyConditionExpression": "customer = :c", "ExpressionAttributeValues": {":c": "ann"}, "Limit": 3}
    found, pages = _all_pages(own, "query", ann)
    assert [i["order"] for i in found] == [1, 2, 3, 4, 5, 6, 7] and pages == 3
    backwards, _ = _all_pages(own, "query", ann | {"ScanIndexForward": False})
    assert [i["order"] for i in backwards] == [7, 6, 5, 4, 3, 2, 1]
    ranged = own.post(
        op("orders", "query"),
        {
            "KeyConditionExpression": "customer = :c AND #o BETWEEN :lo AND :hi",
            "FilterExpression": "#s = :paid",
            "ExpressionAttributeNames": {"#o": "order", "#s": "status"},
            "ExpressionAttributeValues": {":c": "ann", ":lo": 2, ":hi": 5, ":paid": "PAID"},
        },
    )
    assert ([i["order"] for i in ranged["Items"]], ranged["ScannedCount"]) == ([2, 4], 4)

    scanned, pages = _all_pages(own, "scan", {"Limit": 4})
    assert sorted((i["customer"], i["order"]) for i in scanned) == sorted(keys) and pages == 4
    assert len(scanned) == len(keys)
    by_status = {
        "IndexName": "by-status",
        "KeyConditionExpression": "#s = :s",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {":s": "PAID"},
        "Limit": 2,
    }
    paid, _ = _all_pages(own, "query", by_status)
    assert [i["total"] for i in paid] == [20, 20, 40, 40, 60]  # by total (ties in table key order)
    assert len({(i["customer"], i["order"]) for i in paid}) == 5
    counted = own.post(op("orders", "scan"), {"Select": "COUNT"})
    assert counted == {"Count": len(keys), "ScannedCount": len(keys)}


def test_failed_conditions_are_400_with_the_code(own: Api) -> None:
    key = {"customer": "ann", "order": 1}
    own.post(op("orders", "put-item"), {"Item": key | {"amount": 5}})
    new_only = {"Item": key | {"amount": 6}, "ConditionExpression": "attribute_not_exists(customer)"}
    failed = own.post(op("orders", "put-item"), new_only, 400)
    assert failed == {"code": "ConditionalCheckFailedException", "message": "The conditional request failed"}
    with_old = own.post(
        op("orders", "put-item"), new_only | {"ReturnValuesOnConditionCheckFailure": "ALL_OLD"}, 400
    )
    assert with_old["details"] == {"Item": key | {"amount": 5}}  # the current item, as a document
    typed = own.post(
        op("orders", "delete-item"),
        {
            "Key": {"customer": {"S": "ann"}, "order": {"N": "1"}},
            "ConditionExpression": "amount > :t",
            "ExpressionAttributeValues": {":t": {"N": "5"}},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        },
        400,
        params=TYPED,
    )
    assert typed["code"] == "ConditionalCheckFailedException"
    assert typed["details"]["Item"]["amount"] == {"N": "5"}
    update = {"Key": key, "UpdateExpression": "SET amount = :t", "ConditionExpression": "amount = :old"}
    failed = own.post(
        op("orders", "update-item"), update | {"ExpressionAttributeValues": {":t": 1, ":old": 4}}, 400
    )
    assert failed["code"] == "ConditionalCheckFailedException"
    assert own.post(op("orders", "get-item"), {"Key": key})["Item"]["amount"] == 5


def test_transactions_and_batches(own: Api) -> None:
    own.post(TABLES, table_body("stock"), 201)
    key = {"customer": "ann", "order": 1}
    done = own.post(
        f"{TABLES}/transact-write-items",
        {
            "TransactItems": [
                {"Put": {"TableName": "orders", "Item": key | {"amount": 5}}},
                {"Put": {"TableName": "stock", "Item": {"customer": "shop", "order": 1, "qty": 9}}},
            ]
        },
    )
    assert done == {}
    stock_key = {"customer": "shop", "order": 1}
    zero = {"TableName": "orders", "Key": key, "UpdateExpression": "SET amount = :z"}
    enough = {"TableName": "stock", "Key": stock_key, "ConditionExpression": "qty > :n"}
    actions = [
        {"Update": zero | {"ExpressionAttributeValues": {":z": 0}}},
        {
            "ConditionCheck": enough
            | {"ExpressionAttributeValues": {":n": 10}, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
        },
    ]
    cancelled = own.post(f"{TABLES}/transact-write-items", {"TransactItems": actions}, 400)
    assert cancelled["code"] == "TransactionCanceledException"
    assert cancelled["details"]["cancellation_reasons"] == [
        {"Code": "None"},
        {
            "Code": "ConditionalCheckFailed",
            "Message": "The conditional request failed",
            "Item": {"customer": "shop", "order": 1, "qty": 9},
        },
    ]
    assert own.post(op("orders", "get-item"), {"Key": key})["Item"]["amount"] == 5  # nothing was written

    wanted = {
        "orders": {"Keys": [key, {"customer": "bob", "order": 1}]},
        "stock": {"Keys": [stock_key], "ProjectionExpression": "qty"},
    }
    got = own.post(f"{TABLES}/batch-get-item", {"RequestItems": wanted})
    assert got == {
        "Responses": {"orders": [key | {"amount": 5}], "stock": [{"qty": 9}]},
        "UnprocessedKeys": {},
    }
    gets = [
        {"Get": {"TableName": "stock", "Key": stock_key, "ProjectionExpression": "qty"}},
        {"Get": {"TableName": "orders", "Key": {"customer": "bob", "order": 1}}},
        {"Get": {"TableName": "orders", "Key": key}},
    ]
    read = own.post(f"{TABLES}/transact-get-items", {"TransactItems": gets})
    assert read == {"Responses": [{"Item": {"qty": 9}}, {}, {"Item": key | {"amount": 5}}]}
    typed_get = {"TableName": "stock", "Key": {"customer": {"S": "shop"}, "order": {"N": "1"}}}
    typed_get["ProjectionExpression"] = "qty"
    typed = own.post(f"{TABLES}/transact-get-items", {"TransactItems": [{"Get": typed_get}]}, params=TYPED)
    assert typed == {"Responses": [{"Item": {"qty": {"N": "9"}}}]}
    bad = own.post(f"{TABLES}/transact-get-items", {"TransactItems": [{"Get": {"TableName": "orders"}}]}, 400)
    assert bad["details"]["errors"][0]["field"] == "body.TransactItems[0].Get.Key"
    too_many = [{"PutRequest": {"Item": {"customer": "x", "order": n}}} for n in range(26)]
    refused = own.post(f"{TABLES}/batch-write-item", {"RequestItems": {"orders": too_many}}, 400)
    assert refused["code"] == "ValidationException" and "25" in refused["message"]
    deletes = {
        "orders": [{"DeleteRequest": {"Key": key}}],
        "stock": [{"DeleteRequest": {"Key": stock_key}}],
    }
    own.post(f"{TABLES}/batch-write-item", {"RequestItems": deletes})
    assert own.post(op("stock", "scan"))["Count"] == 0 and own.post(op("orders", "scan"))["Count"] == 0


def test_a_400_kb_item_fits_and_a_bigger_one_is_refused(own: Api) -> None:
    key = {"customer": "ann", "order": 1}
    big = key | {"text": "\x01" * (400 * 1024 - 40)}  # JSON writes each of these as 6 characters
    assert own.post(op("orders", "put-item"), {"Item": big}) == {}
    assert own.post(op("orders", "get-item"), {"Key": key})["Item"] == big
    too_big = key | {"text": "x" * (400 * 1024)}
    refused = own.post(op("orders", "put-item"), {"Item": too_big}, 400)
    assert refused["code"] == "ValidationException" and "size" in refused["message"].lower()


KEY = {"customer": "a", "order": 1}
BAD_BODIES = [
    (op("orders", "put-item"), {"Item": KEY, "Expected": {}}, "body.Expected"),
    (op("orders", "put-item"), {"Item": ["not", "an", "object"]}, "body.Item"),
    (op("orders", "get-item"), {}, "body.Key"),
    (op("orders", "query"), {"KeyConditionExpression": "customer = :c", "Limit": "10"}, "body.Limit"),
    (op("orders", "scan"), {"Segment": 0, "TotalSegment": 2}, "body.TotalSegment"),
    (
        f"{TABLES}/transact-write-items",
        {"TransactItems": [{"Put": {"TableName": "orders", "Item": KEY, "Conditon": "x"}}]},
        "body.TransactItems[0].Put.Conditon",
    ),
    (
        f"{TABLES}/batch-write-item",
        {"RequestItems": {"orders": [{"PutRequest": {}}]}},
        "body.RequestItems.orders[0].PutRequest.Item",
    ),
    (
        TABLES,
        {"TableName": "ttt", "KeySchema": [], "AttributeDefinitions": [], "Billing": "x"},
        "body.Billing",
    ),
]


@pytest.mark.parametrize(("path", "body", "field"), BAD_BODIES)
def test_bad_bodies_are_400_naming_the_field(own: Api, path: str, body: Any, field: str) -> None:
    answer = own.post(path, body, 400)
    assert answer["code"] == "ValidationError" and field in [
        e["field"] for e in answer["details"]["errors"]
    ], answer


def test_bad_values_are_refused_by_the_service_with_where(own: Api) -> None:
    huge = own.post(op("orders", "put-item"), {"Item": {"customer": "a", "order": 1, "n": 1e300}}, 400)
    assert huge["code"] == "ValidationException" and huge["message"].startswith("Item.n: Number overflow")
    keyless = own.post(op("orders", "put-item"), {"Item": {"customer": "a"}}, 400)
    assert keyless["code"] == "ValidationException" and "Missing the key order" in keyless["message"]
    stream = own.put(f"{TABLES}/orders/stream", {"StreamEnabled": True}, 400)
    assert "StreamViewType: required" in stream["message"]
    syntax = own.post(
        op("orders", "update-item"), {"Key": {"customer": "a", "order": 1}, "UpdateExpression": "SET"}, 400
    )
    assert syntax["code"] == "ValidationException" and "UpdateExpression" in syntax["message"]


def test_tables_that_do_not_exist_are_404(own: Api) -> None:
    key = {"customer": "a", "order": 1}
    for path, body in [
        (op("nope", "put-item"), {"Item": key}),
        (op("nope", "get-item"), {"Key": key}),
        (op("nope", "update-item"), {"Key": key}),
        (op("nope", "delete-item"), {"Key": key}),
        (
            op("nope", "query"),
            {"KeyConditionExpression": "customer = :c", "ExpressionAttributeValues": {":c": "a"}},
        ),
        (op("nope", "scan"), {}),
        (f"{TABLES}/batch-get-item", {"RequestItems": {"nope": {"Keys": [key]}}}),
        (f"{TABLES}/batch-write-item", {"RequestItems": {"nope": [{"PutRequest": {"Item": key}}]}}),
        (f"{TABLES}/transact-write-items", {"TransactItems": [{"Put": {"TableName": "nope", "Item": key}}]}),
    ]:
        assert own.post(path, body, 404)["code"] == "ResourceNotFoundException", path
    for method in ("GET", "DELETE"):
        assert own.call(method, f"{TABLES}/nope", 404)["code"] == "ResourceNotFoundException"
    assert own.get(f"{TABLES}/nope/ttl", 404)["code"] == "ResourceNotFoundException"
    spec = {"TimeToLiveSpecification": {"Enabled": True, "AttributeName": "x"}}
    assert own.put(f"{TABLES}/nope/ttl", spec, 404)["code"] == "ResourceNotFoundException"
    assert (
        own.put(f"{TABLES}/nope/stream", {"StreamEnabled": False}, 404)["code"] == "ResourceNotFoundException"
    )
    own.as_(None).get(TABLES, 401)
