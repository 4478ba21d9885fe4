"""``TransactWriteItems``: up to 100 puts, updates, deletes and condition checks, all or nothing;
``TransactGetItems``: up to 100 gets read at one point in time.

Every condition is evaluated against the items as they are before any change; if one fails,
nothing is written and the answer lists a reason per operation (DynamoDB's
``CancellationReasons``). The gets of a ``TransactGetItems`` run in one read transaction, so no
write lands between two of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from silo.tables import reads
from silo.tables.errors import TransactionCanceled, ValidationException
from silo.tables.expressions import parse_condition, parse_projection, parse_update
from silo.tables.keys import check_key, encoded_key
from silo.tables.models import check_table_name
from silo.tables.values import check_item
from silo.tables.writes import TableChanges

MAX_OPERATIONS = 100
KINDS = ("Put", "Update", "Delete", "ConditionCheck")


@dataclass(frozen=True)
class Operation:
    kind: str
    table: str
    where: str
    key: Any = None
    item: Any = None
    update: Any = None
    condition: Any = None
    return_old_on_failure: bool = False


@dataclass(frozen=True)
class Transaction:
    operations: tuple[Operation, ...]

    @property
    def tables(self) -> list[str]:
        return sorted({op.table for op in self.operations})

    @classmethod
    def parse(cls, request: Mapping[str, Any]) -> Transaction:
        entries = request.get("TransactItems") if isinstance(request, Mapping) else None
        if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_OPERATIONS:
            raise ValidationException(
                f"TransactItems: a list of 1 to {MAX_OPERATIONS} operations", field="TransactItems"
            )
        return cls(tuple(_operation(entry, f"TransactItems[{i}]") for i, entry in enumerate(entries)))

    def run(self, conn: sa.Connection, changes_for: Callable[[str], TableChanges]) -> list[TableChanges]:
        changes = {name: changes_for(name) for name in self.tables}
        keyed: list[tuple[Operation, tuple[str, str]]] = []
        seen: set[tuple[str, tuple[str, str]]] = set()
        for op in self.operations:
            table = changes[op.table].table
            if op.kind == "Put":
                key = encoded_key(op.item, table.keys, f"{op.where}.Item")
            else:
                key = check_key(op.key, table.keys, f"{op.where}.Key")
            if (op.table, key) in seen:
                raise ValidationException(
                    "Transaction request cannot include multiple operations on one item", field=op.where
                )
            seen.add((op.table, key))
            keyed.append((op, key))
        for name, table_changes in changes.items():
            table_changes.load([key for op, key in keyed if op.table == name])
        reasons: list[dict[str, Any]] = []
        for op, key in keyed:
            old = changes[op.table].current(key)
            if op.condition is not None and not op.condition.evaluate(old or {}):
                reason: dict[str, Any] = {
                    "Code": "ConditionalCheckFailed",
                    "Message": "The conditional request failed",
                }
                if op.return_old_on_failure and old is not None:
                    reason["Item"] = old
                reasons.append(reason)
            else:
                reasons.append({"Code": "None"})
        if any(r["Code"] != "None" for r in reasons):
            raise TransactionCanceled(reasons)
        for op, key in keyed:
            table_changes = changes[op.table]
            old = table_changes.current(key)
            if op.kind == "Put":
                table_changes.put(key, op.item, f"{op.where}.Put.Item")
            elif op.kind == "Delete":
                table_changes.delete(key)
            elif op.kind == "Update":
                touched = set(op.update.paths()) & set(table_changes.table.keys.names)
                if touched:
                    raise ValidationException(
                        f"Cannot update attribute {sorted(touched)[0]}. This attribute is part of the key",
                        field=op.where,
                    )
                base = dict(old) if old is not None else dict(op.key)
                table_changes.put(key, op.update.apply(base), f"{op.where}.Update")
        for table_changes in changes.values():
            table_changes.flush()
        return list(changes.values())


def _operation(entry: Any, where: str) -> Operation:
    if not isinstance(entry, Mapping) or len(entry) != 1 or next(iter(entry)) not in KINDS:
        raise ValidationException(f"{where}: exactly one of Put, Update, Delete, ConditionCheck", field=where)
    kind = next(iter(entry))
    body = entry[kind]
    at = f"{where}.{kind}"
    if not isinstance(body, Mapping):
        raise ValidationException(f"{at}: an object", field=at)
    table = check_table_name(body.get("TableName"), f"{at}.TableName")
    ctx = reads.context_of(body)
    update = None
    if kind == "Update":
        text = body.get("UpdateExpression")
        if not isinstance(text, str) or not text.strip():
            raise ValidationException(f"{at}.UpdateExpression: required", field=at)
        update = parse_update(text, ctx)
    condition_text = body.get("ConditionExpression")
    if kind == "ConditionCheck" and not isinstance(condition_text, str):
        raise ValidationException(f"{at}.ConditionExpression: required", field=at)
    condition = None if condition_text is None else parse_condition(condition_text, ctx)
    reads.check_unused(ctx)
    item = check_item(body.get("Item"), f"{at}.Item") if kind == "Put" else None
    return Operation(
        kind,
        table,
        where,
        key=body.get("Key"),
        item=item,
        update=update,
        condition=condition,
        return_old_on_failure=body.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD",
    )


@dataclass(frozen=True)
class Get:
    """One ``Get`` of a ``TransactGetItems``: its table, raw key and projection (if any)."""

    table: str
    where: str
    key: Any
    projection: Callable[[dict[str, Any]], dict[str, Any]] | None


def parse_gets(request: Mapping[str, Any]) -> tuple[Get, ...]:
    """The gets of a ``TransactGetItems`` request, checked (``TransactItems[i].Get`` named in errors)."""
    entries = request.get("TransactItems") if isinstance(request, Mapping) else None
    if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_OPERATIONS:
        raise ValidationException(
            f"TransactItems: a list of 1 to {MAX_OPERATIONS} Get operations", field="TransactItems"
        )
    return tuple(_get(entry, f"TransactItems[{i}]") for i, entry in enumerate(entries))


def _get(entry: Any, where: str) -> Get:
    if not isinstance(entry, Mapping) or list(entry) != ["Get"]:
        raise ValidationException(f"{where}: exactly one Get", field=where)
    body = entry["Get"]
    at = f"{where}.Get"
    if not isinstance(body, Mapping):
        raise ValidationException(f"{at}: an object", field=at)
    unknown = sorted(set(body) - {"TableName", "Key", "ProjectionExpression", "ExpressionAttributeNames"})
    if unknown:
        raise ValidationException(f"{at}.{unknown[0]}: not a parameter of Get", field=at)
    table = check_table_name(body.get("TableName"), f"{at}.TableName")
    ctx = reads.context_of(body)
    text = body.get("ProjectionExpression")
    projection = None
    if text is not None:
        projection = parse_projection(reads.expression_text(text, f"{at}.ProjectionExpression"), ctx).apply
    reads.check_unused(ctx)
    return Get(table, at, body.get("Key"), projection)
