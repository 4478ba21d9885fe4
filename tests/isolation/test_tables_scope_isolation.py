"""Tables and items of account A are invisible and untouchable from account B, even with the same
table name."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from silo.platform import AccountHandle
from silo.tables.errors import ResourceNotFound
from tests.integration.tables.conftest import order, orders_table

KEY = {"customer": {"S": "ann"}, "order": {"N": "1"}}


def test_b_cannot_see_or_touch_a_tables(tenant: Callable[..., AccountHandle]) -> None:
    a, b = tenant("a"), tenant("b")
    a.tables.create_table(orders_table())
    a.tables.put_item({"TableName": "orders", "Item": order("ann", 1)})
    assert b.tables.list_tables()["TableNames"] == []
    for attempt in (
        lambda: b.tables.describe_table("orders"),
        lambda: b.tables.get_item({"TableName": "orders", "Key": KEY}),
        lambda: b.tables.put_item({"TableName": "orders", "Item": order("eve", 1)}),
        lambda: b.tables.delete_item({"TableName": "orders", "Key": KEY}),
        lambda: b.tables.query(
            {
                "TableName": "orders",
                "KeyConditionExpression": "customer = :c",
                "ExpressionAttributeValues": {":c": {"S": "ann"}},
            }
        ),
        lambda: b.tables.scan({"TableName": "orders"}),
        lambda: b.tables.batch_get_item({"RequestItems": {"orders": {"Keys": [KEY]}}}),
        lambda: b.tables.delete_table("orders"),
        lambda: b.tables.update_time_to_live("orders", {"Enabled": True, "AttributeName": "x"}),
    ):
        with pytest.raises(ResourceNotFound):
            attempt()
    # B's own table of the same name is B's alone
    a_bytes = a.tables.storage_bytes()
    b.tables.create_table(orders_table())
    assert b.tables.scan({"TableName": "orders"})["Count"] == 0
    b.tables.put_item({"TableName": "orders", "Item": order("ann", 1, amount=666, note={"S": "b's"})})
    assert a.tables.get_item({"TableName": "orders", "Key": KEY})["Item"]["amount"] == {"N": "10"}
    assert a.tables.storage_bytes() == a_bytes  # B's items are counted for B only
    assert b.tables.storage_bytes() > a_bytes
