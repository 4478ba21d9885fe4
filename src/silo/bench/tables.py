"""``silo bench tables``: items per second on the embedded default, one client, in process.

A throwaway embedded platform, one account, one table (partition key ``pk``, sort key ``sk``).
``put_items_per_s`` writes ITEMS items with BatchWriteItem (25 a call); ``get_items_per_s`` reads
them back with BatchGetItem (100 keys a call); ``query_items_per_s`` pages through partitions of
100 items each with Query; ``conditional_update_per_s`` runs UpdateItem with a ConditionExpression
(``attribute_exists(pk) AND version = :v``, then ``SET version = version + :one``), one a call.
Items are ~200 bytes of document: a few strings and numbers and a nested map.
"""

from __future__ import annotations

import time
from typing import Any

from silo.bench.runtime import _tenant
from silo.bench.stats import scratch_settings
from silo.platform import AccountHandle, Platform

PER_PARTITION = 100


def run(*, items: int = 20_000, updates: int = 2_000) -> dict[str, Any]:
    with scratch_settings() as settings:
        platform = Platform.open(settings)
        try:
            handle, _ = _tenant(platform, limit=10)
            return _measure(handle, items, updates)
        finally:
            platform.close()


def _item(n: int) -> dict[str, Any]:
    return {
        "pk": {"S": f"customer-{n // PER_PARTITION:06d}"},
        "sk": {"N": str(n % PER_PARTITION)},
        "name": {"S": f"order {n}"},
        "status": {"S": "OPEN"},
        "total": {"N": str(n * 3 % 1000)},
        "version": {"N": "1"},
        "address": {"M": {"city": {"S": "Lyon"}, "zip": {"S": "69001"}}},
    }


def _measure(handle: AccountHandle, count: int, updates: int) -> dict[str, Any]:
    tables = handle.tables
    tables.create_table(
        {
            "TableName": "orders",
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"},
            ],
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
        }
    )
    started = time.perf_counter()
    for first in range(0, count, 25):
        batch = [{"PutRequest": {"Item": _item(n)}} for n in range(first, min(first + 25, count))]
        tables.batch_write_item({"RequestItems": {"orders": batch}})
    put_s = time.perf_counter() - started

    started = time.perf_counter()
    got = 0
    for first in range(0, count, 100):
        keys = [{"pk": _item(n)["pk"], "sk": _item(n)["sk"]} for n in range(first, min(first + 100, count))]
        got += len(tables.batch_get_item({"RequestItems": {"orders": {"Keys": keys}}})["Responses"]["orders"])
    get_s = time.perf_counter() - started

    started = time.perf_counter()
    queried = 0
    for partition in range((count + PER_PARTITION - 1) // PER_PARTITION):
        request: dict[str, Any] = {
            "TableName": "orders",
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": f"customer-{partition:06d}"}},
        }
        queried += tables.query(request)["Count"]
    query_s = time.perf_counter() - started

    started = time.perf_counter()
    for n in range(updates):
        tables.update_item(
            {
                "TableName": "orders",
                "Key": {"pk": _item(n)["pk"], "sk": _item(n)["sk"]},
                "UpdateExpression": "SET version = version + :one",
                "ConditionExpression": "attribute_exists(pk) AND version = :v",
                "ExpressionAttributeValues": {":one": {"N": "1"}, ":v": {"N": "1"}},
            }
        )
    update_s = time.perf_counter() - started
    if got != count or queried != count:
        raise RuntimeError(f"read back {got} and queried {queried} of {count} items")
    return {
        "items": count,
        "put_items_per_s": round(count / put_s, 1),
        "get_items_per_s": round(count / get_s, 1),
        "query_items_per_s": round(count / query_s, 1),
        "conditional_updates": updates,
        "conditional_update_per_s": round(updates / update_s, 1),
        "storage_bytes": tables.storage_bytes(),
    }
