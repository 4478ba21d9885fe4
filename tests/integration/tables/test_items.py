"""Items: put, get, update, delete with conditions and ReturnValues; batches; transactions; TTL."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from silo.platform import AccountHandle, Platform
from silo.store import utcnow
from silo.store.schema import kv_transaction_tokens
from silo.tables.errors import (
    ConditionalCheckFailed,
    IdempotentParameterMismatch,
    ResourceInUse,
    ResourceNotFound,
    TransactionCanceled,
    ValidationException,
)
from tests.helpers.functions import wait_until
from tests.integration.tables.conftest import order, orders_table

KEY = {"customer": {"S": "ann"}, "order": {"N": "1"}}


def test_put_get_and_replace(shop: AccountHandle) -> None:
    tables = shop.tables
    assert tables.put_item({"TableName": "orders", "Item": order("ann", 1)}) == {}
    assert tables.get_item({"TableName": "orders", "Key": KEY})["Item"] == order("ann", 1)
    old = tables.put_item(
        {"TableName": "orders", "Item": order("ann", 1, amount=20), "ReturnValues": "ALL_OLD"}
    )
    assert old["Attributes"] == order("ann", 1)
    projected = tables.get_item(
        {
            "TableName": "orders",
            "Key": KEY,
            "ProjectionExpression": "amount, #s",
            "ExpressionAttributeNames": {"#s": "status"},
        }
    )
    assert projected["Item"] == {"amount": {"N": "20"}, "status": {"S": "OPEN"}}
    assert (
        tables.get_item({"TableName": "orders", "Key": {"customer": {"S": "bob"}, "order": {"N": "1"}}}) == {}
    )


def test_conditions_guard_writes_and_return_the_old_item_on_request(shop: AccountHandle) -> None:
    tables = shop.tables
    create_only = {"ConditionExpression": "attribute_not_exists(customer)"}
    tables.put_item({"TableName": "orders", "Item": order("ann", 1), **create_only})
    with pytest.raises(ConditionalCheckFailed) as failed:
        tables.put_item(
            {
                "TableName": "orders",
                "Item": order("ann", 1, amount=99),
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                **create_only,
            }
        )
    assert failed.value.code == "ConditionalCheckFailedException"
    assert failed.value.details["Item"] == order("ann", 1)
    with pytest.raises(ConditionalCheckFailed):
        tables.delete_item(
            {
                "TableName": "orders",
                "Key": KEY,
                "ConditionExpression": "amount > :t",
                "ExpressionAttributeValues": {":t": {"N": "50"}},
            }
        )
    gone = tables.delete_item({"TableName": "orders", "Key": KEY, "ReturnValues": "ALL_OLD"})
    assert gone["Attributes"] == order("ann", 1)


def test_update_expressions_and_return_values(shop: AccountHandle) -> None:
    tables = shop.tables
    created = tables.update_item(
        {
            "TableName": "orders",
            "Key": KEY,
            "UpdateExpression": "SET #s = :open, amount = if_not_exists(amount, :zero) + :five, tags = :tags",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {
                ":open": {"S": "OPEN"},
                ":zero": {"N": "0"},
                ":five": {"N": "5"},
                ":tags": {"SS": ["a"]},
            },
            "ReturnValues": "ALL_NEW",
        }
    )
    assert created["Attributes"]["amount"] == {"N": "5"}
    updated = tables.update_item(
        {
            "TableName": "orders",
            "Key": KEY,
            "UpdateExpression": "ADD tags :more REMOVE #s",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":more": {"SS": ["b"]}},
            "ReturnValues": "UPDATED_OLD",
        }
    )
    assert updated["Attributes"] == {"status": {"S": "OPEN"}, "tags": {"SS": ["a"]}}
    item = tables.get_item({"TableName": "orders", "Key": KEY})["Item"]
    assert sorted(item["tags"]["SS"]) == ["a", "b"] and "status" not in item
    with pytest.raises(ValidationException, match="part of the key"):
        tables.update_item(
            {
                "TableName": "orders",
                "Key": KEY,
                "UpdateExpression": "SET customer = :c",
                "ExpressionAttributeValues": {":c": {"S": "x"}},
            }
        )


def test_bad_requests_are_refused_with_what_is_wrong(shop: AccountHandle) -> None:
    tables = shop.tables
    with pytest.raises(ValidationException, match="Missing the key order"):
        tables.put_item({"TableName": "orders", "Item": {"customer": {"S": "ann"}}})
    with pytest.raises(ValidationException, match="Type mismatch"):
        tables.put_item({"TableName": "orders", "Item": {"customer": {"S": "ann"}, "order": {"S": "one"}}})
    with pytest.raises(ValidationException, match="unused"):
        tables.get_item({"TableName": "orders", "Key": KEY, "ExpressionAttributeNames": {"#x": "x"}})
    with pytest.raises(ValidationException, match="maximum allowed size"):
        tables.put_item({"TableName": "orders", "Item": order("ann", 1, blob={"S": "x" * 410_000})})
    with pytest.raises(ResourceNotFound):
        tables.get_item({"TableName": "nope", "Key": KEY})
    with pytest.raises(ResourceInUse):
        tables.create_table(orders_table())
    with pytest.raises(ValidationException, match="not used"):
        tables.create_table(orders_table(TableName="other", GlobalSecondaryIndexes=[]))


def test_batches(shop: AccountHandle) -> None:
    tables = shop.tables
    puts = [{"PutRequest": {"Item": order("ann", n)}} for n in range(20)]
    assert tables.batch_write_item({"RequestItems": {"orders": puts}}) == {"UnprocessedItems": {}}
    keys = [{"customer": {"S": "ann"}, "order": {"N": str(n)}} for n in (3, 7, 42)]
    found = tables.batch_get_item({"RequestItems": {"orders": {"Keys": keys}}})["Responses"]["orders"]
    assert sorted(int(i["order"]["N"]) for i in found) == [3, 7]
    deletes = [
        {"DeleteRequest": {"Key": {"customer": {"S": "ann"}, "order": {"N": str(n)}}}} for n in range(10)
    ]
    tables.batch_write_item({"RequestItems": {"orders": deletes}})
    assert tables.scan({"TableName": "orders", "Select": "COUNT"})["Count"] == 10
    with pytest.raises(ValidationException, match="duplicates"):
        tables.batch_write_item({"RequestItems": {"orders": [puts[0], puts[0]]}})
    with pytest.raises(ValidationException, match="Too many"):
        tables.batch_write_item({"RequestItems": {"orders": puts + puts[:6]}})


def test_a_transaction_with_one_failed_condition_writes_nothing(shop: AccountHandle) -> None:
    tables = shop.tables
    tables.put_item({"TableName": "orders", "Item": order("ann", 1, amount=10)})
    request: dict[str, Any] = {
        "TransactItems": [
            {"Put": {"TableName": "orders", "Item": order("bob", 1)}},
            {
                "Update": {
                    "TableName": "orders",
                    "Key": KEY,
                    "UpdateExpression": "SET amount = amount - :t",
                    "ConditionExpression": "amount >= :t",
                    "ExpressionAttributeValues": {":t": {"N": "50"}},
                }
            },
        ]
    }
    with pytest.raises(TransactionCanceled) as cancelled:
        tables.transact_write_items(request)
    assert [r["Code"] for r in cancelled.value.details["cancellation_reasons"]] == [
        "None",
        "ConditionalCheckFailed",
    ]
    assert tables.scan({"TableName": "orders"})["Count"] == 1  # bob was not written
    request["TransactItems"][1]["Update"]["ExpressionAttributeValues"] = {":t": {"N": "5"}}
    tables.transact_write_items(request)
    assert tables.get_item({"TableName": "orders", "Key": KEY})["Item"]["amount"] == {"N": "5"}
    assert tables.scan({"TableName": "orders"})["Count"] == 2


def test_transact_get_reads_items_in_the_order_asked(shop: AccountHandle) -> None:
    tables = shop.tables
    tables.create_table(orders_table(TableName="archive"))
    tables.put_item({"TableName": "orders", "Item": order("ann", 1, amount=10)})
    tables.put_item({"TableName": "archive", "Item": order("bob", 7)})
    gets = [
        {"Get": {"TableName": "archive", "Key": {"customer": {"S": "bob"}, "order": {"N": "7"}}}},
        {"Get": {"TableName": "orders", "Key": {"customer": {"S": "nobody"}, "order": {"N": "1"}}}},
        {
            "Get": {
                "TableName": "orders",
                "Key": KEY,
                "ProjectionExpression": "#a, customer",
                "ExpressionAttributeNames": {"#a": "amount"},
            }
        },
    ]
    answer = tables.transact_get_items({"TransactItems": gets})
    assert answer == {
        "Responses": [
            {"Item": order("bob", 7)},
            {},
            {"Item": {"amount": {"N": "10"}, "customer": {"S": "ann"}}},
        ]
    }


@pytest.mark.parametrize(
    ("items", "where"),
    [
        ([], "TransactItems"),
        ([{"Get": {"TableName": "orders", "Key": KEY}}] * 2, "TransactItems[1].Get"),
        ([{"Put": {"TableName": "orders", "Item": order("ann", 1)}}], "TransactItems[0]"),
        ([{"Get": {"TableName": "orders", "Key": KEY, "ConditionExpression": "x"}}], "TransactItems[0].Get"),
        ([{"Get": {"TableName": "orders", "Key": {"customer": {"S": "a"}}}}], "TransactItems[0].Get.Key"),
        (
            [{"Get": {"TableName": "orders", "Key": KEY, "ExpressionAttributeNames": {"#x": "x"}}}],
            "ExpressionAttributeNames",
        ),
        ([{"Get": {"TableName": "orders", "Key": KEY}}] * 101, "TransactItems"),
    ],
)
def test_a_bad_transact_get_names_what_is_wrong(shop: AccountHandle, items: list[Any], where: str) -> None:
    with pytest.raises(ValidationException) as refused:
        shop.tables.transact_get_items({"TransactItems": items})
    assert where in str(refused.value.to_dict())  # in the message, or as its field


def test_transact_get_of_a_missing_table_is_not_found(shop: AccountHandle) -> None:
    gets = [{"Get": {"TableName": "orders", "Key": KEY}}, {"Get": {"TableName": "nope", "Key": KEY}}]
    with pytest.raises(ResourceNotFound):
        shop.tables.transact_get_items({"TransactItems": gets})


def test_expired_items_disappear(shop: AccountHandle) -> None:
    tables = shop.tables
    tables.update_time_to_live("orders", {"Enabled": True, "AttributeName": "expires"})
    soon = int(time.time()) + 1
    tables.put_item({"TableName": "orders", "Item": order("ann", 1, expires={"N": str(soon)})})
    tables.put_item({"TableName": "orders", "Item": order("ann", 2, expires={"N": str(soon + 3600)})})
    assert tables.scan({"TableName": "orders"})["Count"] == 2
    wait_until(lambda: tables.describe_table("orders")["Table"]["ItemCount"] == 1, timeout=10)
    assert tables.get_item({"TableName": "orders", "Key": KEY}) == {}
    assert tables.describe_time_to_live("orders")["TimeToLiveDescription"]["AttributeName"] == "expires"


def test_storage_bytes_count_every_table_of_the_account(shop: AccountHandle) -> None:
    assert shop.tables.storage_bytes() == 0
    shop.tables.put_item({"TableName": "orders", "Item": order("ann", 1)})
    first = shop.tables.storage_bytes()
    assert first > 0
    shop.tables.create_table(orders_table(TableName="archive"))
    shop.tables.put_item({"TableName": "archive", "Item": order("ann", 1)})
    assert shop.tables.storage_bytes() == 2 * first
    assert shop.tables.describe_table("orders")["Table"]["TableSizeBytes"] == first


def test_a_ttl_turned_on_later_applies_to_the_items_already_there(shop: AccountHandle) -> None:
    past = int(time.time()) - 60
    shop.tables.put_item({"TableName": "orders", "Item": order("ann", 1, expires={"N": str(past)})})
    shop.tables.put_item({"TableName": "orders", "Item": order("ann", 2)})
    shop.tables.update_time_to_live("orders", {"Enabled": True, "AttributeName": "expires"})
    wait_until(lambda: shop.tables.describe_table("orders")["Table"]["ItemCount"] == 1, timeout=10)


def test_a_client_request_token_applies_a_transaction_once(shop: AccountHandle, platform: Platform) -> None:
    tables = shop.tables
    tables.put_item({"TableName": "orders", "Item": order("ann", 1, amount=10)})
    add = {
        "TransactItems": [
            {
                "Update": {
                    "TableName": "orders",
                    "Key": KEY,
                    "UpdateExpression": "SET amount = amount + :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            }
        ],
        "ClientRequestToken": "retry-me",
    }
    assert tables.transact_write_items(add) == {}
    assert tables.transact_write_items(add) == {}  # a retry: answered, not applied again
    assert tables.get_item({"TableName": "orders", "Key": KEY})["Item"]["amount"] == {"N": "11"}
    other = {**add, "TransactItems": [{"Delete": {"TableName": "orders", "Key": KEY}}]}
    with pytest.raises(IdempotentParameterMismatch):
        tables.transact_write_items(other)
    with platform.store.write() as conn:  # ten minutes later, the token is new again
        conn.execute(
            sa.update(kv_transaction_tokens)
            .where(kv_transaction_tokens.c.account_id == shop.account_id)
            .values(created_at=utcnow() - timedelta(minutes=11))
        )
    tables.transact_write_items(add)
    assert tables.get_item({"TableName": "orders", "Key": KEY})["Item"]["amount"] == {"N": "12"}
    tables.transact_write_items({**add, "ClientRequestToken": "another"})
    assert tables.get_item({"TableName": "orders", "Key": KEY})["Item"]["amount"] == {"N": "13"}


def test_a_cancelled_transaction_keeps_no_token(shop: AccountHandle) -> None:
    tables = shop.tables
    guarded = {
        "TransactItems": [
            {
                "Put": {
                    "TableName": "orders",
                    "Item": order("ann", 1),
                    "ConditionExpression": "attribute_exists(customer)",
                }
            }
        ],
        "ClientRequestToken": "t1",
    }
    with pytest.raises(TransactionCanceled):
        tables.transact_write_items(guarded)
    tables.put_item({"TableName": "orders", "Item": order("ann", 1, amount=99)})
    tables.transact_write_items(guarded)  # runs again, and now its condition holds
    assert tables.get_item({"TableName": "orders", "Key": KEY})["Item"]["amount"] == {"N": "10"}
    with pytest.raises(ValidationException, match="ClientRequestToken"):
        tables.transact_write_items({**guarded, "ClientRequestToken": "x" * 37})


def test_tokens_are_per_account(shop: AccountHandle, tenant: Callable[[str], AccountHandle]) -> None:
    other = tenant("other")
    other.tables.create_table(orders_table())
    put = {
        "TransactItems": [{"Put": {"TableName": "orders", "Item": order("ann", 1)}}],
        "ClientRequestToken": "same",
    }
    shop.tables.transact_write_items(put)
    other.tables.transact_write_items(put)  # not a retry of the first account's request
    assert other.tables.get_item({"TableName": "orders", "Key": KEY})["Item"] == order("ann", 1)
    mismatch = {**put, "TransactItems": [{"Delete": {"TableName": "orders", "Key": KEY}}]}
    with pytest.raises(IdempotentParameterMismatch):
        other.tables.transact_write_items(mismatch)
    assert shop.tables.get_item({"TableName": "orders", "Key": KEY})["Item"] == order("ann", 1)
