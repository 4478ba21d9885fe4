"""Bulk writes: ``executemany`` everywhere, ``COPY`` on PostgreSQL for large batches."""

from __future__ import annotations

import json
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
