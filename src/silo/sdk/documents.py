"""Table requests and answers in the "document client" shape: items as plain documents.

The tables service speaks DynamoDB's typed JSON (``{"S": "x"}``, ``{"N": "1"}``...). Its edges (the
HTTP API by default, and the SDK) let callers write plain documents instead; this module converts
the places of a request or an answer that hold attribute values, with
:func:`silo.tables.values.to_typed` and :func:`~silo.tables.values.from_typed`, and leaves
everything else (expressions, names, counts) as it is:

* requests: ``Item``, ``Key``, ``ExclusiveStartKey``, ``ExpressionAttributeValues``, and the same
  inside ``RequestItems`` (``Keys``, ``PutRequest.Item``, ``DeleteRequest.Key``) and
  ``TransactItems`` (``Put``, ``Update``, ``Delete``, ``ConditionCheck``, ``Get``);
* answers: ``Item``, ``Attributes``, ``Items``, ``LastEvaluatedKey``, ``Responses`` (BatchGetItem's
  table -> items, TransactGetItems' list of ``{"Item": ...}``),
  ``UnprocessedKeys``, ``UnprocessedItems``, and the ``Item`` of a failed condition or of a
  transaction's cancellation reasons (error details).

A value of the wrong shape is passed on unconverted, for the service to refuse in its own words.
Answers come back either as Python values (``from_typed``'s: ``int`` or ``Decimal`` numbers,
``bytes``, ``set``) or, with ``for_json``, as JSON values: numbers as ``int`` when integral, else
``float``; binary as base64 text; sets as lists in DynamoDB order.

Standard library only (it runs inside execution environments too).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from silo.tables.values import from_typed, to_item

ITEM_FIELDS = ("Item", "Key", "ExclusiveStartKey", "ExpressionAttributeValues")
ANSWER_ITEM_FIELDS = ("Item", "Attributes", "LastEvaluatedKey")
TRANSACT_KINDS = ("Put", "Update", "Delete", "ConditionCheck", "Get")


# --- requests ------------------------------------------------------------------------------------
def typed_request(request: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``request`` with every document in it converted to typed JSON.

    Raises:
        ValidationException: a value that cannot be stored (naming where: ``Item.price``).
    """
    typed = _typed_fields(request, "")
    items = request.get("RequestItems")
    if isinstance(items, Mapping):
        typed["RequestItems"] = {
            str(name): _typed_table_requests(spec, f"RequestItems.{name}") for name, spec in items.items()
        }
    actions = request.get("TransactItems")
    if isinstance(actions, list):
        typed["TransactItems"] = [_typed_action(a, f"TransactItems[{i}]") for i, a in enumerate(actions)]
    return typed


def _typed_fields(request: Mapping[str, Any], where: str) -> dict[str, Any]:
    typed = dict(request)
    for field in ITEM_FIELDS:
        value = request.get(field)
        if isinstance(value, Mapping):
            typed[field] = to_item(value, f"{where}{field}")
    return typed


def _typed_table_requests(spec: Any, where: str) -> Any:
    """``RequestItems.TABLE``: ``{"Keys": [...], ...}`` (BatchGetItem) or a list of write requests."""
    if isinstance(spec, Mapping):
        keys = spec.get("Keys")
        if not isinstance(keys, list):
            return spec
        converted = [
            to_item(key, f"{where}.Keys[{i}]") if isinstance(key, Mapping) else key
            for i, key in enumerate(keys)
        ]
        return {**spec, "Keys": converted}
    if isinstance(spec, list):
        return [_typed_write(entry, f"{where}[{i}]") for i, entry in enumerate(spec)]
    return spec


def _typed_write(entry: Any, where: str) -> Any:
    if not isinstance(entry, Mapping):
        return entry
    converted = dict(entry)
    for kind in ("PutRequest", "DeleteRequest"):
        body = entry.get(kind)
        if isinstance(body, Mapping):
            converted[kind] = _typed_fields(body, f"{where}.{kind}.")
    return converted


def _typed_action(action: Any, where: str) -> Any:
    if not isinstance(action, Mapping):
        return action
    converted = dict(action)
    for kind in TRANSACT_KINDS:
        body = action.get(kind)
        if isinstance(body, Mapping):
            converted[kind] = _typed_fields(body, f"{where}.{kind}.")
    return converted


# --- answers -------------------------------------------------------------------------------------
def document_answer(answer: Mapping[str, Any], *, for_json: bool = False) -> dict[str, Any]:
    """A copy of a service answer with every item, key and attribute map as a document."""
    converted = dict(answer)
    for field in ANSWER_ITEM_FIELDS:
        if isinstance(answer.get(field), Mapping):
            converted[field] = document(answer[field], for_json=for_json)
    if isinstance(answer.get("Items"), list):
        converted["Items"] = [document(item, for_json=for_json) for item in answer["Items"]]
    if isinstance(answer.get("Responses"), list):
        converted["Responses"] = [
            {**response, "Item": document(response["Item"], for_json=for_json)}
            if isinstance(response, Mapping) and isinstance(response.get("Item"), Mapping)
            else response
            for response in answer["Responses"]
        ]
    if isinstance(answer.get("Responses"), Mapping):
        converted["Responses"] = {
            name: [document(item, for_json=for_json) for item in items]
            for name, items in answer["Responses"].items()
        }
    if isinstance(answer.get("UnprocessedKeys"), Mapping):
        converted["UnprocessedKeys"] = {
            name: {**spec, "Keys": [document(key, for_json=for_json) for key in spec.get("Keys", [])]}
            for name, spec in answer["UnprocessedKeys"].items()
        }
    if isinstance(answer.get("UnprocessedItems"), Mapping):
        converted["UnprocessedItems"] = {
            name: [_document_write(entry, for_json) for entry in entries]
            for name, entries in answer["UnprocessedItems"].items()
        }
    return converted


def document_details(details: Mapping[str, Any], *, for_json: bool = False) -> dict[str, Any]:
    """An error's details with the ``Item`` of a failed condition (``ReturnValuesOnConditionCheckFailure``)
    and of each of a cancelled transaction's ``cancellation_reasons`` as documents."""
    converted = dict(details)
    if isinstance(details.get("Item"), Mapping):
        converted["Item"] = document(details["Item"], for_json=for_json)
    reasons = details.get("cancellation_reasons")
    if isinstance(reasons, list):
        converted["cancellation_reasons"] = [
            {**reason, "Item": document(reason["Item"], for_json=for_json)}
            if isinstance(reason, Mapping) and isinstance(reason.get("Item"), Mapping)
            else reason
            for reason in reasons
        ]
    return converted


def document(item: Mapping[str, Any], *, for_json: bool = False) -> dict[str, Any]:
    """One typed item (attribute name -> typed value) as a document."""
    if not for_json:
        return {name: from_typed(value) for name, value in item.items()}
    return {name: json_value(from_typed(value, sets_as_lists=True)) for name, value in item.items()}


def json_value(value: Any) -> Any:
    """A ``from_typed`` value (with ``sets_as_lists``) as a JSON value."""
    if isinstance(value, Decimal):  # from_typed gives integral numbers as int already
        return float(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {key: json_value(child) for key, child in value.items()}
    if isinstance(value, list):
        return [json_value(child) for child in value]
    return value


def _document_write(entry: Mapping[str, Any], for_json: bool) -> dict[str, Any]:
    converted = dict(entry)
    for kind, field in (("PutRequest", "Item"), ("DeleteRequest", "Key")):
        body = entry.get(kind)
        if isinstance(body, Mapping) and isinstance(body.get(field), Mapping):
            converted[kind] = {**body, field: document(body[field], for_json=for_json)}
    return converted
