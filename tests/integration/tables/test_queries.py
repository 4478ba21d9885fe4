"""Query and Scan: key conditions, order, filters, projections, pagination, indexes, segments."""

from __future__ import annotations

from typing import Any

import pytest

from silo.platform import AccountHandle
from silo.tables.errors import ValidationException
from tests.integration.tables.conftest import order


def _fill(shop: AccountHandle) -> None:
    rows = [order("ann", n, status="OPEN" if n % 2 else "SHIPPED", amount=n * 10) for n in range(1, 31)]
    rows += [order("bob", n, amount=n) for n in range(1, 6)]
    for first in range(0, len(rows), 25):
        batch = [{"PutRequest": {"Item": item}} for item in rows[first : first + 25]]
        shop.tables.batch_write_item({"RequestItems": {"orders": batch}})


def _numbers(items: list[dict[str, Any]]) -> list[int]:
    return [int(i["order"]["N"]) for i in items]


def test_key_conditions_and_order(shop: AccountHandle) -> None:
    _fill(shop)

    def q(condition: str, forward: bool = True, **values: Any) -> list[int]:
        request = {
            "TableName": "orders",
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": {":c": {"S": "ann"}, **values},
            "ScanIndexForward": forward,
        }
        return _numbers(shop.tables.query(request)["Items"])

    assert q("customer = :c") == list(range(1, 31))  # numeric order, not text order
    assert q("customer = :c", forward=False)[:3] == [30, 29, 28]
    between = {
        "TableName": "orders",
        "KeyConditionExpression": "customer = :c AND #o BETWEEN :a AND :b",
        "ExpressionAttributeNames": {"#o": "order"},
        "ExpressionAttributeValues": {":c": {"S": "ann"}, ":a": {"N": "9"}, ":b": {"N": "12"}},
    }
    assert _numbers(shop.tables.query(between)["Items"]) == [9, 10, 11, 12]
    less = dict(between, KeyConditionExpression="customer = :c AND #o < :a")
    less["ExpressionAttributeValues"] = {":c": {"S": "ann"}, ":a": {"N": "3"}}
    assert _numbers(shop.tables.query(less)["Items"]) == [1, 2]


def test_pages_neither_repeat_nor_skip_with_filters_counting_against_limit(shop: AccountHandle) -> None:
    _fill(shop)
    request: dict[str, Any] = {
        "TableName": "orders",
        "KeyConditionExpression": "customer = :c",
        "FilterExpression": "#s = :open",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {":c": {"S": "ann"}, ":open": {"S": "OPEN"}},
        "Limit": 7,
    }
    seen: list[int] = []
    pages = 0
    while True:
        page = shop.tables.query(request)
        pages += 1
        assert page["ScannedCount"] <= 7
        seen += _numbers(page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert seen == list(range(1, 31, 2)) and pages == 5


def test_the_global_secondary_index_follows_updates(shop: AccountHandle) -> None:
    _fill(shop)
    by_status: dict[str, Any] = {
        "TableName": "orders",
        "IndexName": "by-status",
        "KeyConditionExpression": "#s = :s AND amount > :t",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {":s": {"S": "SHIPPED"}, ":t": {"N": "250"}},
    }
    assert [int(i["amount"]["N"]) for i in shop.tables.query(by_status)["Items"]] == [260, 280, 300]
    shop.tables.update_item(
        {
            "TableName": "orders",
            "Key": {"customer": {"S": "ann"}, "order": {"N": "28"}},
            "UpdateExpression": "SET #s = :open",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":open": {"S": "OPEN"}},
        }
    )
    shop.tables.delete_item({"TableName": "orders", "Key": {"customer": {"S": "ann"}, "order": {"N": "30"}}})
    assert [int(i["amount"]["N"]) for i in shop.tables.query(by_status)["Items"]] == [260]
    with pytest.raises(ValidationException, match="index"):
        shop.tables.query(dict(by_status, IndexName="nope"))


def test_parallel_scan_segments_cover_the_table_once(shop: AccountHandle) -> None:
    _fill(shop)
    seen: list[tuple[str, int]] = []
    for segment in range(4):
        request: dict[str, Any] = {"TableName": "orders", "Segment": segment, "TotalSegments": 4, "Limit": 4}
        while True:
            page = shop.tables.scan(request)
            seen += [(i["customer"]["S"], int(i["order"]["N"])) for i in page["Items"]]
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert sorted(seen) == sorted({*seen}) and len(seen) == 35


def test_query_needs_an_equality_on_the_partition_key(shop: AccountHandle) -> None:
    with pytest.raises(ValidationException):
        shop.tables.query(
            {
                "TableName": "orders",
                "KeyConditionExpression": "customer > :c",
                "ExpressionAttributeValues": {":c": {"S": "a"}},
            }
        )


def test_begins_with_on_a_string_sort_key_in_both_directions(shop: AccountHandle) -> None:
    tables = shop.tables
    tables.create_table(
        {
            "TableName": "events",
            "AttributeDefinitions": [
                {"AttributeName": "device", "AttributeType": "S"},
                {"AttributeName": "at", "AttributeType": "S"},
            ],
            "KeySchema": [
                {"AttributeName": "device", "KeyType": "HASH"},
                {"AttributeName": "at", "KeyType": "RANGE"},
            ],
        }
    )
    stamps = ["2026-10-31T23:59", "2026-11-01T00:00", "2026-11-15T12:00", "2026-11-30T23:59", "2026-12-01"]
    stamps += ["2026-11", "2026-11\x00x", "2026-11\U0001f600"]  # the prefix itself, NUL, beyond the BMP
    batch = [{"PutRequest": {"Item": {"device": {"S": "d1"}, "at": {"S": s}}}} for s in stamps]
    tables.batch_write_item({"RequestItems": {"events": batch}})
    request: dict[str, Any] = {
        "TableName": "events",
        "KeyConditionExpression": "device = :d AND begins_with(#at, :month)",
        "ExpressionAttributeNames": {"#at": "at"},
        "ExpressionAttributeValues": {":d": {"S": "d1"}, ":month": {"S": "2026-11"}},
    }
    wanted = sorted((s for s in stamps if s.startswith("2026-11")), key=lambda s: s.encode())
    found = [i["at"]["S"] for i in tables.query(request)["Items"]]
    assert found == wanted
    backwards = [i["at"]["S"] for i in tables.query(dict(request, ScanIndexForward=False))["Items"]]
    assert backwards == wanted[::-1]
