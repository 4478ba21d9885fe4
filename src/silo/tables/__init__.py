"""Tables: DynamoDB-style tables, one set per account.

The pure engines, with no I/O: :mod:`silo.tables.values` (typed attribute values: checking,
conversion, item size, key ordering) and :mod:`silo.tables.expressions` (condition, filter, update,
projection and key condition expressions). Errors are in :mod:`silo.tables.errors`.
"""

from silo.tables.errors import (
    ConditionalCheckFailed,
    ResourceInUse,
    ResourceNotFound,
    TransactionCanceled,
    ValidationException,
)
from silo.tables.expressions import (
    ExpressionContext,
    parse_condition,
    parse_key_condition,
    parse_projection,
    parse_update,
)
from silo.tables.values import check_item, check_typed, from_typed, item_size, sort_key_text, to_typed

__all__ = [
    "ConditionalCheckFailed",
    "ExpressionContext",
    "ResourceInUse",
    "ResourceNotFound",
    "TransactionCanceled",
    "ValidationException",
    "check_item",
    "check_typed",
    "from_typed",
    "item_size",
    "parse_condition",
    "parse_key_condition",
    "parse_projection",
    "parse_update",
    "sort_key_text",
    "to_typed",
]
