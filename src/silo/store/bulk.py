"""Bulk writes: ``executemany`` everywhere, ``COPY`` on PostgreSQL for large batches."""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

COPY_THRESHOLD = 2000


def insert_rows(conn: sa.Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert many rows in the caller's transaction; returns how many were written.

    Column values go through the table's types (so ``UtcDateTime`` and JSON behave as in single
    inserts). Large batches on PostgreSQL use ``COPY ... FROM STDIN``.
    """
    if not rows:
        return 0
    if conn.dialect.name == "postgresql" and len(rows) >= COPY_THRESHOLD:
        return _copy(conn, table, rows)
    conn.execute(table.insert(), list(rows))
    return len(rows)


def _copy(conn: sa.Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> int:
    columns = list(rows[0].keys())
    processors: list[Callable[[Any], Any] | None] = []
    for name in columns:
        column_type = table.c[name].type
        if isinstance(column_type, sa.JSON):
            # psycopg adapts JSON through its own wrapper, which COPY's text rows do not use.
            processors.append(json.dumps)
        else:
            processors.append(column_type.bind_processor(conn.dialect))
    raw = conn.connection.driver_connection
    assert raw is not None
    quoted = ", ".join(f'"{c}"' for c in columns)
    with raw.cursor() as cur, cur.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(
                [proc(row[c]) if proc else row[c] for c, proc in zip(columns, processors, strict=True)]
            )
    return len(rows)


class EncodedJSON(str):
    """JSON text serialised already (e.g. for a digest): ``execute_many`` writes it as it is."""

    __slots__ = ()


def execute_many(conn: sa.Connection, statement: sa.Executable, rows: Sequence[Mapping[str, Any]]) -> int:
    """``executemany`` of an UPDATE/DELETE with named bind parameters, on the raw driver cursor.

    SQLAlchemy's executemany costs ~50 us per row in parameter processing; this compiles the statement
    once per dialect, applies each parameter's type processor, and hands the driver plain tuples (or
    dicts). Runs in the caller's transaction, so it commits or rolls back with the rest.
    """
    if not rows:
        return 0
    sql, names, processors = _compiled(statement, conn.dialect)
    by_name = dict(processors)
    order = names if names is not None else list(by_name)
    pick = operator.itemgetter(*order)
    # Only typed columns (timestamps, JSON) need a processor; the rest pass through at C speed.
    # Values shared by many rows (a batch's timestamp, a fleet's shared dicts) are processed once.
    typed = [(i, by_name[n]) for i, n in enumerate(order) if by_name[n] is not None]
    memo: dict[int, Any] = {}
    params: list[Any] = []
    for row in rows:
        values = pick(row)
        if len(order) == 1:
            values = (values,)
        if typed:
            values = list(values)
            for i, processor in typed:
                value = values[i]
                if value is None or type(value) is EncodedJSON:
                    continue
                hit = memo.get(id(value), _MISSING)
                if hit is _MISSING:
                    hit = memo[id(value)] = processor(value)  # type: ignore[misc]
                values[i] = hit
        params.append(tuple(values) if names is not None else dict(zip(order, values, strict=True)))
    raw = conn.connection.driver_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        cursor.executemany(sql, params)
    finally:
        cursor.close()
    return len(rows)


def select_raw(conn: sa.Connection, statement: sa.Executable, params: Mapping[str, Any]) -> list[Any]:
    """Rows of a SELECT run on the raw driver cursor: no result processing (JSON columns come back
    as the driver gives them: text on SQLite, decoded on PostgreSQL; see ``json_value``). For hot
    reads, with the statement built once (module level or cached by shape)."""
    sql, names, processors = _compiled(statement, conn.dialect)
    values = {n: (p(params[n]) if p is not None else params[n]) for n, p in processors}
    bound: Any = tuple(values[n] for n in names) if names is not None else values
    raw = conn.connection.driver_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        cursor.execute(sql, bound)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def json_value(value: Any) -> Any:
    """A JSON column's value from ``select_raw``."""
    return json.loads(value) if isinstance(value, str | bytes) else value


_Compiled = tuple[str, list[str] | None, list[tuple[str, Callable[[Any], Any] | None]]]
_COMPILED: dict[tuple[int, str], tuple[sa.Executable, _Compiled]] = {}
_MAX_COMPILED = 512


def _compiled(statement: sa.Executable, dialect: sa.Dialect) -> _Compiled:
    """Compiled once per (statement object, dialect). The entry keeps the statement alive, so its
    ``id`` cannot be reused by another statement while cached; build statements once (module
    level) to benefit, as a statement built per call only fills the bounded cache."""
    key = (id(statement), dialect.name)
    hit = _COMPILED.get(key)
    if hit is not None and hit[0] is statement:
        return hit[1]
    compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
    processors = [(name, bind.type._cached_bind_processor(dialect)) for name, bind in compiled.binds.items()]
    names = list(compiled.positiontup) if compiled.positional else None
    made = (str(compiled), names, processors)
    if len(_COMPILED) >= _MAX_COMPILED:
        _COMPILED.clear()
    _COMPILED[key] = (statement, made)
    return made


_MISSING = object()
