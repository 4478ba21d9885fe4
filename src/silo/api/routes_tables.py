"""``/v1/account/tables``: the caller's DynamoDB-style tables and their items.

As everywhere under ``/v1/account``, the account comes from the key; a table is named in the path
(or, for the batch and transaction endpoints, in the body) by its name, which is looked up in the
caller's account only. Bodies and answers have DynamoDB's shapes. Items, keys and expression values
are plain JSON documents unless ``?format=typed`` asks for DynamoDB's typed JSON (both ways): the
conversion is :mod:`silo.sdk.documents`; the rest is the service's (``silo.tables``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from silo.api.auth import OwnAccount
from silo.api.schemas import RequestBody
from silo.api.table_schemas import (
    AttributesAnswer,
    BatchGetAnswer,
    BatchGetItem,
    BatchWriteAnswer,
    BatchWriteItem,
    DeleteItem,
    GetItem,
    ItemAnswer,
    ItemsPage,
    PutItem,
    QueryRequest,
    ScanRequest,
    StreamUpdate,
    TableAnswer,
    TableCreate,
    TableDescriptionAnswer,
    TableNamesAnswer,
    TimeToLiveAnswer,
    TimeToLiveUpdate,
    TimeToLiveUpdated,
    TransactAnswer,
    TransactGetAnswer,
    TransactGetItems,
    TransactWriteItems,
    UpdateItem,
)
from silo.api.views import ERROR_RESPONSES
from silo.platform import AccountHandle
from silo.sdk.documents import document_answer, document_details, typed_request
from silo.tables.errors import ConditionalCheckFailed, TransactionCanceled
from silo.tables.service import Tables

router = APIRouter(prefix="/v1/account/tables", tags=["tables"], responses=ERROR_RESPONSES)


class ItemFormat(StrEnum):
    DOCUMENT = "document"
    TYPED = "typed"


Format = Annotated[
    ItemFormat,
    Query(
        alias="format",
        description="How items, keys and expression values are written, both ways: `document` (plain "
        'JSON) or `typed` (DynamoDB\'s typed JSON, `{"S": "x"}`).',
    ),
]
ListLimit = Annotated[int, Query(ge=1, le=100, description="Table names per page (1-100, default 100).")]
StartName = Annotated[
    str | None, Query(max_length=255, description="The previous page's LastEvaluatedTableName.")
]
ScanBody = Annotated[ScanRequest | None, Body()]
Operation = Callable[[Tables, Mapping[str, Any]], dict[str, Any]]
DOCUMENT = ItemFormat.DOCUMENT


def _items(account: AccountHandle, operation: Operation, request: dict[str, Any], fmt: ItemFormat) -> Any:
    """Run one item operation, converting documents in and out unless the caller speaks typed JSON."""
    if fmt is ItemFormat.TYPED:
        return operation(account.tables, request)
    typed = typed_request(request)
    try:
        answer = operation(account.tables, typed)
    except (ConditionalCheckFailed, TransactionCanceled) as exc:
        exc.details = document_details(exc.details, for_json=True)
        raise
    return document_answer(answer, for_json=True)


def _request(table: str | None, body: RequestBody) -> dict[str, Any]:
    given = body.model_dump(exclude_unset=True)
    return given if table is None else {"TableName": table, **given}


# --- tables -------------------------------------------------------------------------------------
@router.get("", response_model=TableNamesAnswer, response_model_exclude_unset=True)
def list_tables(
    account: OwnAccount, limit: ListLimit = 100, exclusive_start_table_name: StartName = None
) -> Any:
    """ListTables: the account's table names in order."""
    return account.tables.list_tables(limit=limit, exclusive_start=exclusive_start_table_name)


@router.post("", status_code=201, response_model=TableDescriptionAnswer)
def create_table(body: TableCreate, account: OwnAccount) -> Any:
    """CreateTable: ACTIVE at once; 400 ResourceInUseException if the account has one of that name."""
    return account.tables.create_table(body.model_dump(exclude_unset=True))


@router.get("/{table}", response_model=TableAnswer)
def describe_table(table: str, account: OwnAccount) -> Any:
    return account.tables.describe_table(table)


@router.delete("/{table}", response_model=TableDescriptionAnswer)
def delete_table(table: str, account: OwnAccount) -> Any:
    """DeleteTable, with its items (a table a stack manages is deleted with its stack)."""
    return account.tables.delete_table(table)


@router.get("/{table}/ttl", response_model=TimeToLiveAnswer)
def describe_time_to_live(table: str, account: OwnAccount) -> Any:
    return account.tables.describe_time_to_live(table)


@router.put("/{table}/ttl", response_model=TimeToLiveUpdated)
def update_time_to_live(table: str, body: TimeToLiveUpdate, account: OwnAccount) -> Any:
    """UpdateTimeToLive: items whose attribute holds a past epoch second are deleted (and unseen)."""
    spec = body.TimeToLiveSpecification.model_dump()
    return account.tables.update_time_to_live(table, spec)


@router.put("/{table}/stream", response_model=TableAnswer)
def set_stream(table: str, body: StreamUpdate, account: OwnAccount) -> Any:
    """The table's stream: its changes, in batches, to a function of the account (or off)."""
    view = body.StreamViewType if body.StreamEnabled else None
    return account.tables.set_stream(
        table,
        view,
        function=body.FunctionName,
        batch_size=body.BatchSize,
        max_attempts=body.MaximumRetryAttempts,
    )


# --- items --------------------------------------------------------------------------------------
@router.post("/{table}/get-item", response_model=ItemAnswer, response_model_exclude_unset=True)
def get_item(table: str, body: GetItem, account: OwnAccount, fmt: Format = DOCUMENT) -> Any:
    return _items(account, Tables.get_item, _request(table, body), fmt)


@router.post("/{table}/put-item", response_model=AttributesAnswer, response_model_exclude_unset=True)
def put_item(table: str, body: PutItem, account: OwnAccount, fmt: Format = DOCUMENT) -> Any:
    """PutItem; a condition that does not hold is a 400 ConditionalCheckFailedException."""
    return _items(account, Tables.put_item, _request(table, body), fmt)


@router.post("/{table}/update-item", response_model=AttributesAnswer, response_model_exclude_unset=True)
def update_item(table: str, body: UpdateItem, account: OwnAccount, fmt: Format = DOCUMENT) -> Any:
    return _items(account, Tables.update_item, _request(table, body), fmt)


@router.post("/{table}/delete-item", response_model=AttributesAnswer, response_model_exclude_unset=True)
def delete_item(table: str, body: DeleteItem, account: OwnAccount, fmt: Format = DOCUMENT) -> Any:
    return _items(account, Tables.delete_item, _request(table, body), fmt)


@router.post("/{table}/query", response_model=ItemsPage, response_model_exclude_unset=True)
def query(table: str, body: QueryRequest, account: OwnAccount, fmt: Format = DOCUMENT) -> Any:
    """Query: one page of a partition (of the table or an index) in sort key order."""
    return _items(account, Tables.query, _request(table, body), fmt)


@router.post("/{table}/scan", response_model=ItemsPage, response_model_exclude_unset=True)
def scan(table: str, account: OwnAccount, body: ScanBody = None, fmt: Format = DOCUMENT) -> Any:
    """Scan: one page of the table (or an index) in key order (no body: the first page of all)."""
    return _items(account, Tables.scan, _request(table, body or ScanRequest()), fmt)


@router.post("/batch-get-item", response_model=BatchGetAnswer)
def batch_get_item(body: BatchGetItem, account: OwnAccount, fmt: Format = DOCUMENT) -> Any:
    return _items(account, Tables.batch_get_item, _request(None, body), fmt)


@router.post("/batch-write-item", response_model=BatchWriteAnswer)
def batch_write_item(body: BatchWriteItem, account: OwnAccount, fmt: Format = DOCUMENT) -> Any:
    return _items(account, Tables.batch_write_item, _request(None, body), fmt)


@router.post("/transact-write-items", response_model=TransactAnswer)
def transact_write_items(body: TransactWriteItems, account: OwnAccount, fmt: Format = DOCUMENT) -> Any:
    """TransactWriteItems; a condition that does not hold cancels it all: 400
    TransactionCanceledException with one reason per action in ``details.cancellation_reasons``."""
    return _items(account, Tables.transact_write_items, _request(None, body), fmt)


@router.post("/transact-get-items", response_model=TransactGetAnswer, response_model_exclude_unset=True)
def transact_get_items(body: TransactGetItems, account: OwnAccount, fmt: Format = DOCUMENT) -> Any:
    """TransactGetItems: the items of up to 100 keys, read at one point in time, in the order asked."""
    return _items(account, Tables.transact_get_items, _request(None, body), fmt)
