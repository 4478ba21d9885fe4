"""SDK calls that handlers make over their channel to services other than functions.

``silo.sdk`` inside a handler sends ``channel.call("tables", operation=..., request=...)``; the
functions engine hands such a call, with the context of the scope that invoked the handler, to the
operation the platform registered for it (``FunctionsEngine.register_sdk_operation``). Each
operation here takes the service scope of that context's account, so a handler reaches only its own
account's resources: no argument can name another account.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from silo.errors import ValidationError
from silo.tables.service import Tables

TABLE_OPERATIONS: dict[str, Callable[[Tables, Mapping[str, Any]], dict[str, Any]]] = {
    "get_item": Tables.get_item,
    "put_item": Tables.put_item,
    "update_item": Tables.update_item,
    "delete_item": Tables.delete_item,
    "query": Tables.query,
    "scan": Tables.scan,
    "batch_get_item": Tables.batch_get_item,
    "batch_write_item": Tables.batch_write_item,
    "transact_write_items": Tables.transact_write_items,
    "transact_get_items": Tables.transact_get_items,
}
"""What ``silo.sdk``'s table client may ask for; requests and answers in DynamoDB's typed JSON (the
SDK converts documents itself)."""


def serve_tables(tables: Tables, args: Mapping[str, Any]) -> dict[str, Any]:
    """The ``tables`` SDK operation: ``{"operation": "put_item", "request": {...}}`` on ``tables``."""
    operation, request = args.get("operation"), args.get("request")
    serve = TABLE_OPERATIONS.get(operation) if isinstance(operation, str) else None
    if serve is None:
        raise ValidationError(
            f"sdk tables: operation is one of {', '.join(TABLE_OPERATIONS)}; got {operation!r}",
            field="operation",
        )
    if not isinstance(request, Mapping):
        raise ValidationError("sdk tables: request is a JSON object", field="request")
    return serve(tables, request)
