"""Table and table-stream drift, read through the account's tables repository.

A table should be what the deploy's CreateTable made of its recorded properties
(:func:`silo.stacks.tables.table_definition`): its keys, global secondary indexes, TTL attribute and
stream view. The function its stream goes to belongs to the stack's ``event_source`` resource (a SAM
function's ``DynamoDB`` event), which drifts on its own: deleted when the table, its stream or the
stream's function is gone, modified when another function, batch size or number of attempts is set.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from silo.accounts import AccountContext
from silo.stacks.models import Drift
from silo.stacks.planning import Desired
from silo.stacks.tables import table_definition
from silo.tables.repository import TablesRepository

_STREAM = ("function", "batch_size", "max_attempts")
"""An ``event_source``'s recorded properties that its table's stream holds."""


def check_tables(conn: sa.Connection, context: AccountContext, recorded: list[dict[str, Any]]) -> list[Drift]:
    """``table`` resources: deleted, or their ``key_schema``, ``global_secondary_indexes``,
    ``ttl_attribute`` or ``stream_view_type`` changed."""
    repo = TablesRepository(context)
    drifts: list[Drift] = []
    for r in recorded:
        logical_id, name = r["logical_id"], r["physical_name"]
        live = repo.find_table(conn, name)
        if live is None:
            drifts.append(Drift(logical_id, name, "DELETED"))
            continue
        wanted = table_definition(_desired(r))
        changed = []
        if live.keys != wanted.keys:
            changed.append("key_schema")
        if live.indexes != wanted.indexes:
            changed.append("global_secondary_indexes")
        if live.ttl_attribute != wanted.ttl_attribute:
            changed.append("ttl_attribute")
        view = None if live.stream is None else live.stream.view_type
        if view != (None if wanted.stream is None else wanted.stream.view_type):
            changed.append("stream_view_type")
        if changed:
            drifts.append(Drift(logical_id, name, "MODIFIED", tuple(sorted(changed))))
    return drifts


def check_streams(
    conn: sa.Connection, context: AccountContext, recorded: list[dict[str, Any]]
) -> list[Drift]:
    """``event_source`` resources: their table's stream, and the function it goes to."""
    repo = TablesRepository(context)
    drifts: list[Drift] = []
    for r in recorded:
        logical_id, name, props = r["logical_id"], r["physical_name"], r["properties"]
        live = repo.find_table(conn, props["table"])
        stream = None if live is None else live.stream
        if stream is None or stream.function is None:
            drifts.append(Drift(logical_id, name, "DELETED"))
            continue
        have = {
            "function": stream.function,
            "batch_size": stream.batch_size,
            "max_attempts": stream.max_attempts,
        }
        changed = [key for key in _STREAM if have[key] != props[key]]
        if changed:
            drifts.append(Drift(logical_id, name, "MODIFIED", tuple(sorted(changed))))
    return drifts


def _desired(row: dict[str, Any]) -> Desired:
    return Desired(
        logical_id=row["logical_id"],
        type=row["type"],
        kind=row["kind"],
        physical_name=row["physical_name"],
        arn=row["arn"],
        properties=row["properties"],
        digest=row["properties_sha256"],
    )
