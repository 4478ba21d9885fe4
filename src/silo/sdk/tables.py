"""``Client().table(name)``: a table of your own account, used like boto3's ``Table`` resource.

Methods take DynamoDB's request parameters as keyword arguments (``put_item(Item=...,
ConditionExpression=..., ExpressionAttributeValues=...)``) and return DynamoDB's answer, with
items, keys and expression values as plain documents: numbers as ``int`` when integral, else
``Decimal`` (``float`` and ``Decimal`` are accepted), binary as ``bytes``, sets as ``set``, as
:func:`silo.tables.values.from_typed` gives them. A parameter the operation does not have is a
``TypeError``; what the platform refuses is a ``SiloClientError`` with DynamoDB's code
(``ConditionalCheckFailedException``, ``ResourceNotFoundException``, ``ValidationException``...).

Requests travel in typed JSON (converted here, so numbers keep every digit): over the execution
environment's channel inside a handler, else over HTTP (``?format=typed``). Either way the table is
one of the caller's account; nothing in a request can name another account.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from silo.errors import SiloError
from silo.sdk.client import SiloClientError
from silo.sdk.documents import document_answer, document_details, typed_request

if TYPE_CHECKING:
    from silo.sdk.client import _Transport

_EXPRESSIONS = frozenset({"ExpressionAttributeNames", "ExpressionAttributeValues"})
_CONDITIONAL = _EXPRESSIONS | {"ConditionExpression", "ReturnValues", "ReturnValuesOnConditionCheckFailure"}
_READ = _EXPRESSIONS | {
    "FilterExpression",
    "ProjectionExpression",
    "IndexName",
    "Limit",
    "ExclusiveStartKey",
    "Select",
    "ConsistentRead",
}
FIELDS: dict[str, frozenset[str]] = {
    "get_item": frozenset({"Key", "ProjectionExpression", "ExpressionAttributeNames", "ConsistentRead"}),
    "put_item": _CONDITIONAL | {"Item"},
    "update_item": _CONDITIONAL | {"Key", "UpdateExpression"},
    "delete_item": _CONDITIONAL | {"Key"},
    "query": _READ | {"KeyConditionExpression", "ScanIndexForward"},
    "scan": _READ | {"Segment", "TotalSegments"},
    "batch_get_item": frozenset({"RequestItems"}),
    "batch_write_item": frozenset({"RequestItems"}),
    "transact_write_items": frozenset({"TransactItems", "ClientRequestToken"}),
    "transact_get_items": frozenset({"TransactItems"}),
}
"""The parameters of each operation (besides ``TableName``, which the ``Table`` fills in)."""
ONE_TABLE = frozenset({"get_item", "put_item", "update_item", "delete_item", "query", "scan"})
BATCH_WRITE = 25
BATCH_GET = 100


def call(transport: _Transport, operation: str, request: Mapping[str, Any]) -> dict[str, Any]:
    """Run one table operation with a document-shaped request; its answer as documents."""
    allowed = FIELDS[operation] | ({"TableName"} if operation in ONE_TABLE else set())
    unknown = sorted(set(request) - allowed)
    if unknown:
        raise TypeError(f"{operation}() got an unexpected keyword argument {unknown[0]!r}")
    try:
        typed = typed_request(request)
    except SiloError as exc:  # a value that cannot be stored: the platform's own words
        raise SiloClientError(exc.code, exc.message, exc.details) from None
    try:
        answer = transport.tables(operation, typed)
    except SiloClientError as exc:
        exc.details = document_details(exc.details)
        raise
    return document_answer(answer)


class Table:
    """One table of the caller's account (it need not exist yet: each call looks it up)."""

    def __init__(self, name: str, run: Callable[[str, dict[str, Any]], dict[str, Any]]) -> None:
        self.name = name
        self._run = run

    def __repr__(self) -> str:
        return f"Table({self.name!r})"

    def get_item(self, **request: Any) -> dict[str, Any]:
        """GetItem: ``Key=``; the answer has ``Item`` when there is one."""
        return self._call("get_item", request)

    def put_item(self, **request: Any) -> dict[str, Any]:
        """PutItem: ``Item=``, and optionally ``ConditionExpression=``, ``ReturnValues="ALL_OLD"``..."""
        return self._call("put_item", request)

    def update_item(self, **request: Any) -> dict[str, Any]:
        """UpdateItem: ``Key=``, ``UpdateExpression=``, ``ReturnValues=`` (``ALL_NEW``...)..."""
        return self._call("update_item", request)

    def delete_item(self, **request: Any) -> dict[str, Any]:
        """DeleteItem: ``Key=``, and optionally a ``ConditionExpression=``."""
        return self._call("delete_item", request)

    def query(self, **request: Any) -> dict[str, Any]:
        """Query: ``KeyConditionExpression=``, ``ExpressionAttributeValues=``...; one page (follow
        ``LastEvaluatedKey`` with ``ExclusiveStartKey=``)."""
        return self._call("query", request)

    def scan(self, **request: Any) -> dict[str, Any]:
        """Scan: one page of the table (or an index) in key order."""
        return self._call("scan", request)

    def batch_write(
        self, items: Iterable[Mapping[str, Any]] = (), *, delete_keys: Iterable[Any] = ()
    ) -> None:
        """Put ``items`` and delete the items of ``delete_keys``, in batches of 25 (each batch is
        one BatchWriteItem, atomic on its own; an earlier batch stays written if a later one fails)."""
        writes: list[dict[str, Any]] = [{"PutRequest": {"Item": dict(item)}} for item in items]
        writes += [{"DeleteRequest": {"Key": dict(key)}} for key in delete_keys]
        for start in range(0, len(writes), BATCH_WRITE):
            batch = {self.name: writes[start : start + BATCH_WRITE]}
            while batch:
                batch = self._run("batch_write_item", {"RequestItems": batch}).get("UnprocessedItems") or {}

    def batch_get(self, keys: Iterable[Mapping[str, Any]], **options: Any) -> list[dict[str, Any]]:
        """The items of ``keys`` that exist (in no particular order), in batches of 100; ``options``
        are ``ProjectionExpression=`` and ``ExpressionAttributeNames=``."""
        wanted = [dict(key) for key in keys]
        found: list[dict[str, Any]] = []
        for start in range(0, len(wanted), BATCH_GET):
            spec: dict[str, Any] = {"Keys": wanted[start : start + BATCH_GET], **options}
            while spec.get("Keys"):
                answer = self._run("batch_get_item", {"RequestItems": {self.name: spec}})
                found += answer.get("Responses", {}).get(self.name, [])
                spec = answer.get("UnprocessedKeys", {}).get(self.name) or {}
        return found

    def _call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        if "TableName" in request:
            raise TypeError(f"{operation}() takes the table from Client().table(name), not TableName=")
        return self._run(operation, {"TableName": self.name, **request})
