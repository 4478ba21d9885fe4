from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from silo.platform import AccountHandle


def orders_table(**more: Any) -> dict[str, Any]:
    """A table keyed by customer (S) and order number (N), with a GSI by status and amount."""
    return {
        "TableName": "orders",
        "AttributeDefinitions": [
            {"AttributeName": "customer", "AttributeType": "S"},
            {"AttributeName": "order", "AttributeType": "N"},
            {"AttributeName": "status", "AttributeType": "S"},
            {"AttributeName": "amount", "AttributeType": "N"},
        ],
        "KeySchema": [
            {"AttributeName": "customer", "KeyType": "HASH"},
            {"AttributeName": "order", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "by-status",
                "KeySchema": [
                    {"AttributeName": "status", "KeyType": "HASH"},
                    {"AttributeName": "amount", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        **more,
    }


def order(customer: str, number: int, status: str = "OPEN", amount: int = 10, **more: Any) -> dict[str, Any]:
    item = {
        "customer": {"S": customer},
        "order": {"N": str(number)},
        "status": {"S": status},
        "amount": {"N": str(amount)},
    }
    return item | {k: v for k, v in more.items()}


@pytest.fixture
def shop(tenant: Callable[[str], AccountHandle]) -> AccountHandle:
    handle = tenant("shop")
    handle.tables.create_table(orders_table())
    return handle
