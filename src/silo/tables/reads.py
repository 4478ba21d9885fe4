"""``Query`` and ``Scan``: pages in key order, ``Limit`` counting evaluated items, filters after,
1 MB a page at most, ``LastEvaluatedKey`` to carry on exactly where a page stopped."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from silo.store.schema import kv_index_items, kv_items
from silo.tables.errors import ValidationException
from silo.tables.expressions import (
    ExpressionContext,
    KeyCondition,
    parse_condition,
    parse_key_condition,
    parse_projection,
)
from silo.tables.keys import NO_SORT_KEY, check_key, encoded_key, index_key, key_of
from silo.tables.models import IndexSpec, KeySchema, TableInfo
from silo.tables.repository import SEGMENTS, TablesRepository
from silo.tables.values import check_typed, item_size, sort_key_text
from silo.tables.writes import is_expired

PAGE_BYTES = 1024 * 1024
FETCH = 500
SELECTS = ("ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT")


@dataclass
class Reader:
    """What a Query or Scan request asks for, checked, and how to page through it."""

    table: TableInfo
    index: IndexSpec | None
    filter: Callable[[Any], bool] | None
    project: Callable[[Any], Any] | None
    select: str
    limit: int | None
    now: datetime

    @property
    def keys(self) -> KeySchema:
        return self.index.keys if self.index is not None else self.table.keys

    def visible(self, item: Mapping[str, Any]) -> Mapping[str, Any]:
        """An item as the index shows it (its projection), or whole from the table."""
        index = self.index
        if index is None or index.projection == "ALL":
            return item
        wanted = set(self.table.keys.names) | set(index.keys.names) | set(index.non_key)
        return {k: v for k, v in item.items() if k in wanted}

    def last_key(self, item: Mapping[str, Any]) -> dict[str, Any]:
        key = key_of(item, self.table.keys)
        if self.index is not None:
            key |= key_of(item, self.index.keys)
        return key

    def collect(self, fetch: Callable[[Any, int], list[tuple[Any, Any]]], start: Any) -> dict[str, Any]:
        """Run pages of ``fetch(after, n)`` -> [(position, stored item)] until done, the limit or 1 MB."""
        items: list[Any] = []
        count = scanned = size = 0
        after, last = start, None
        while True:
            want = FETCH if self.limit is None else min(FETCH, self.limit - scanned)
            rows = fetch(after, want)
            for position, stored in rows:
                after = position
                if is_expired(stored, self.table.ttl_attribute, self.now):
                    continue
                item = self.visible(stored)
                scanned += 1
                size += item_size(item)
                if self.filter is None or self.filter(item):
                    count += 1
                    if self.select != "COUNT":
                        items.append(item if self.project is None else self.project(item))
                if (self.limit is not None and scanned >= self.limit) or size >= PAGE_BYTES:
                    last = self.last_key(item)
                    break
            if last is not None or len(rows) < want:
                break
        body: dict[str, Any] = {"Count": count, "ScannedCount": scanned}
        if self.select != "COUNT":
            body["Items"] = items
        if last is not None:
            body["LastEvaluatedKey"] = last
        return body


def query(
    conn: sa.Connection, repo: TablesRepository, table: TableInfo, request: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    ctx = context_of(request)
    reader = _reader(table, request, ctx, now)
    text = request.get("KeyConditionExpression")
    if not isinstance(text, str):
        raise ValidationException(
            "KeyConditionExpression: required for Query", field="KeyConditionExpression"
        )
    keys = reader.keys
    types = {attr.name: attr.type for attr in (keys.partition, keys.sort) if attr is not None}
    condition = parse_key_condition(
        text, ctx, keys.partition.name, keys.sort.name if keys.sort else None, key_types=types
    )
    check_unused(ctx)
    forward = request.get("ScanIndexForward", True)
    if not isinstance(forward, bool):
        raise ValidationException("ScanIndexForward: true or false", field="ScanIndexForward")
    pk = sort_key_text(condition.partition_value)
    start = request.get("ExclusiveStartKey")
    if reader.index is None:
        bounds = _sort_bounds(kv_items.c.sk, condition)
        after = None if start is None else _table_start(table, start, pk)

        def fetch_items(position: Any, n: int) -> list[tuple[Any, Any]]:
            rows = repo.query_items(conn, table.name, pk, bounds, forward=forward, after=position, limit=n)
            return [(sk, item) for _, sk, item in rows]

        return reader.collect(fetch_items, after)
    index = reader.index
    index_bounds = _sort_bounds(kv_index_items.c.isk, condition)
    index_after = None if start is None else _index_start(table, index, start)

    def fetch_entries(position: Any, n: int) -> list[tuple[Any, Any]]:
        return repo.query_index(
            conn, table.name, index.name, pk, index_bounds, forward=forward, after=position, limit=n
        )

    return reader.collect(fetch_entries, index_after)


def scan(
    conn: sa.Connection, repo: TablesRepository, table: TableInfo, request: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    ctx = context_of(request)
    reader = _reader(table, request, ctx, now)
    check_unused(ctx)
    segments = _segments(request)
    start = request.get("ExclusiveStartKey")
    if reader.index is None:
        after = None if start is None else check_key(start, table.keys, "ExclusiveStartKey")

        def fetch_items(position: Any, n: int) -> list[tuple[Any, Any]]:
            rows = repo.scan_items(conn, table.name, after=position, limit=n, segments=segments)
            return [((p, s), item) for p, s, item in rows]

        return reader.collect(fetch_items, after)
    if segments is not None:
        raise ValidationException("Segment: parallel scans of an index are not supported", field="Segment")
    index = reader.index
    index_after = None if start is None else _index_start(table, index, start)

    def fetch_entries(position: Any, n: int) -> list[tuple[Any, Any]]:
        return repo.query_index(conn, table.name, index.name, None, [], forward=True, after=position, limit=n)

    return reader.collect(fetch_entries, index_after)


def context_of(request: Mapping[str, Any]) -> ExpressionContext:
    names = request.get("ExpressionAttributeNames")
    values = request.get("ExpressionAttributeValues")
    if names is not None and not isinstance(names, Mapping):
        raise ValidationException("ExpressionAttributeNames: an object", field="ExpressionAttributeNames")
    if values is not None:
        if not isinstance(values, Mapping):
            raise ValidationException(
                "ExpressionAttributeValues: an object", field="ExpressionAttributeValues"
            )
        values = {k: check_typed(v, f"ExpressionAttributeValues.{k}") for k, v in values.items()}
    return ExpressionContext(dict(names) if names else None, dict(values) if values else None)


def check_unused(ctx: ExpressionContext) -> None:
    names, values = ctx.unused()
    if names:
        raise ValidationException(
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {"
            + ", ".join(sorted(names))
            + "}",
            field="ExpressionAttributeNames",
        )
    if values:
        raise ValidationException(
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {"
            + ", ".join(sorted(values))
            + "}",
            field="ExpressionAttributeValues",
        )


def _reader(table: TableInfo, request: Mapping[str, Any], ctx: ExpressionContext, now: datetime) -> Reader:
    index = None if request.get("IndexName") is None else table.index(request["IndexName"])
    if request.get("ConsistentRead") and index is not None:
        raise ValidationException(
            "Consistent reads are not supported on global secondary indexes", field="ConsistentRead"
        )
    filter_text = request.get("FilterExpression")
    condition = (
        None
        if filter_text is None
        else parse_condition(expression_text(filter_text, "FilterExpression"), ctx, kind="FilterExpression")
    )
    projection_text = request.get("ProjectionExpression")
    projection = (
        None
        if projection_text is None
        else parse_projection(expression_text(projection_text, "ProjectionExpression"), ctx)
    )
    select = request.get("Select") or ("SPECIFIC_ATTRIBUTES" if projection is not None else "ALL_ATTRIBUTES")
    if select not in SELECTS:
        raise ValidationException(f"Select: one of {', '.join(SELECTS)}", field="Select")
    if select == "SPECIFIC_ATTRIBUTES" and projection is None:
        raise ValidationException("Select SPECIFIC_ATTRIBUTES needs a ProjectionExpression", field="Select")
    if select != "SPECIFIC_ATTRIBUTES" and projection is not None:
        raise ValidationException(
            "Cannot specify the ProjectionExpression when choosing to get " + select, field="Select"
        )
    if select == "ALL_ATTRIBUTES" and index is not None and index.projection != "ALL":
        raise ValidationException(
            "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for "
            f"global secondary index {index.name} because its projection type is not ALL",
            field="Select",
        )
    limit = request.get("Limit")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValidationException("Limit: an integer of at least 1", field="Limit")
    return Reader(
        table,
        index,
        None if condition is None else condition.evaluate,
        None if projection is None else projection.apply,
        select,
        limit,
        now,
    )


def expression_text(value: Any, where: str) -> str:
    """An expression parameter: a non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationException(f"{where}: a non-empty expression", field=where)
    return value


def _sort_bounds(column: Any, condition: KeyCondition) -> list[sa.ColumnElement[bool]]:
    op, values = condition.sort_op, [sort_key_text(v) for v in condition.sort_values]
    if op is None:
        return []
    if op == "BETWEEN":
        return [column >= values[0], column <= values[1]]
    if op == "begins_with":
        prefix = values[0]
        return [column >= prefix, sa.func.substr(column, 1, len(prefix)) == prefix]
    comparisons = {"=": column == values[0], "<": column < values[0], "<=": column <= values[0]}
    comparisons |= {">": column > values[0], ">=": column >= values[0]}
    return [comparisons[op]]


def _table_start(table: TableInfo, start: Any, pk: str) -> str:
    start_pk, start_sk = check_key(start, table.keys, "ExclusiveStartKey")
    if start_pk != pk:
        raise ValidationException(
            "The provided starting key is invalid: the partition key does not match the query",
            field="ExclusiveStartKey",
        )
    return start_sk if table.keys.sort is not None else NO_SORT_KEY


def _index_start(table: TableInfo, index: IndexSpec, start: Any) -> tuple[str, str, str, str]:
    if not isinstance(start, Mapping):
        raise ValidationException("ExclusiveStartKey: an object", field="ExclusiveStartKey")
    pk, sk = encoded_key(start, table.keys, "ExclusiveStartKey")
    found = index_key(start, index.keys)
    if found is None:
        raise ValidationException(
            "The provided starting key is invalid: it lacks the index key", field="ExclusiveStartKey"
        )
    return found[0], found[1], pk, sk


def _segments(request: Mapping[str, Any]) -> tuple[int, int] | None:
    segment, total = request.get("Segment"), request.get("TotalSegments")
    if segment is None and total is None:
        return None
    if not isinstance(total, int) or isinstance(total, bool) or not 1 <= total <= 1_000_000:
        raise ValidationException(
            "TotalSegments: an integer from 1 to 1000000, with Segment", field="TotalSegments"
        )
    if not isinstance(segment, int) or isinstance(segment, bool) or not 0 <= segment < total:
        raise ValidationException("Segment: an integer from 0 to TotalSegments - 1", field="Segment")
    return segment * SEGMENTS // total, (segment + 1) * SEGMENTS // total
