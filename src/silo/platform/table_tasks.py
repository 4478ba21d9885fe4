"""Task states that call the tables of the execution's own account, as Step Functions' DynamoDB
integrations call DynamoDB.

* ``arn:aws:states:::dynamodb:getItem`` (``putItem``, ``updateItem``, ``deleteItem``): the optimized
  integration, request-response only;
* ``arn:aws:states:::aws-sdk:dynamodb:getItem`` (``putItem``, ``updateItem``, ``deleteItem``,
  ``query``, ``scan``, ``batchGetItem``, ``batchWriteItem``, ``transactGetItems``,
  ``transactWriteItems``): the AWS SDK integration. Inside batches and transactions a table is named
  by its name only (an ARN there is not a valid table name).

``arn:silo:states:::...`` is accepted for either. The task's input (its ``Parameters``, resolved) is
DynamoDB's request with typed JSON values (``{"TableName": "orders", "Item": {"id": {"S": "1"}}}``)
and its result DynamoDB's response (``{"Item": {...}}`` for GetItem, ``{}`` for a PutItem that
returns nothing).

Errors are named as Step Functions names them, so that ``Retry`` and ``Catch`` match them: the
optimized integration's ``DynamoDB.<Code>`` (``DynamoDB.ConditionalCheckFailedException``), the SDK
integration's ``DynamoDb.<Code>`` (Step Functions' PascalCase of the service name ``dynamodb``).
The cause is the error's message.

A task reaches only the tables of its execution's account: ``TableName`` is a name in that account,
or that account's table ARN; an ARN of another account's table fails the task with
``AccessDeniedException`` whether or not the table exists.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from silo.errors import AccessDenied, Conflict, NotFound, SiloError, Throttled, ValidationError
from silo.tables.service import Tables
from silo.workflows.errors import TASK_FAILED, StatesError

OPTIMIZED = "arn:aws:states:::dynamodb:"
SDK = "arn:aws:states:::aws-sdk:dynamodb:"
_OPTIMIZED_ACTIONS = ("getItem", "putItem", "updateItem", "deleteItem")
_SDK_ACTIONS = (
    *_OPTIMIZED_ACTIONS,
    "query",
    "scan",
    "batchGetItem",
    "batchWriteItem",
    "transactGetItems",
    "transactWriteItems",
)
_CALLS: dict[str, Callable[[Tables, dict[str, Any]], dict[str, Any]]] = {
    "getItem": Tables.get_item,
    "putItem": Tables.put_item,
    "updateItem": Tables.update_item,
    "deleteItem": Tables.delete_item,
    "query": Tables.query,
    "scan": Tables.scan,
    "batchGetItem": Tables.batch_get_item,
    "batchWriteItem": Tables.batch_write_item,
    "transactGetItems": Tables.transact_get_items,
    "transactWriteItems": Tables.transact_write_items,
}
_TABLE_ARN = re.compile(
    r"^arn:(?:silo|aws):dynamodb:[a-z0-9-]+:(?P<account>\d{12}):table/(?P<name>[A-Za-z0-9_.-]{3,255})$"
)


def handles(base: str) -> bool:
    """Whether ``base`` (a Task's ``Resource`` less its pattern, ``arn:aws:states:::`` form) is a
    table integration, known or not (an unknown action fails the task, it is not a function)."""
    return base.startswith((OPTIMIZED, SDK))


def run_table_task(tables: Tables, base: str, pattern: str, input: Any) -> dict[str, Any]:
    """Run the table call ``base`` names with ``input`` as its request; raises :class:`StatesError`."""
    sdk = base.startswith(SDK)
    action = base.removeprefix(SDK if sdk else OPTIMIZED)
    if pattern or action not in (_SDK_ACTIONS if sdk else _OPTIMIZED_ACTIONS):
        known = ", ".join(_SDK_ACTIONS if sdk else _OPTIMIZED_ACTIONS)
        raise StatesError(
            TASK_FAILED,
            f"{base}{pattern}: not a task resource Silo runs (tables: {known}; request-response only)",
        )
    prefix = "DynamoDb" if sdk else "DynamoDB"
    if not isinstance(input, dict):
        raise StatesError(f"{prefix}.ValidationException", "the task's Parameters must be a DynamoDB request")
    request = dict(input)
    account = tables.context.account_id
    found = _TABLE_ARN.match(request["TableName"]) if isinstance(request.get("TableName"), str) else None
    if found is not None:
        if found["account"] != account:
            raise StatesError(
                f"{prefix}.AccessDeniedException",
                f"{request['TableName']}: a table of account {found['account']}; tasks use the tables "
                f"of their own account ({account}) only",
            )
        request["TableName"] = found["name"]
    try:
        return _CALLS[action](tables, request)
    except SiloError as exc:
        raise StatesError(f"{prefix}.{error_code(exc)}", exc.message) from None


def error_code(exc: SiloError) -> str:
    """DynamoDB's name for a Silo error (the tables service's errors have DynamoDB's codes)."""
    if isinstance(exc, Throttled):
        return "ThrottlingException"
    if exc.code.endswith("Exception"):
        return exc.code
    for kind, code in (
        (AccessDenied, "AccessDeniedException"),
        (ValidationError, "ValidationException"),
        (NotFound, "ResourceNotFoundException"),
        (Conflict, "ResourceInUseException"),
    ):
        if isinstance(exc, kind):
            return code
    return "InternalServerError"
