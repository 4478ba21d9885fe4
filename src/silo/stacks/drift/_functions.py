"""Function drift: the function's settings and code against what the stack wrote."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from silo.accounts import AccountContext
from silo.stacks.models import Drift
from silo.store.schema import functions

# Stack property -> function column, for the properties a change outside the stack can touch.
_COMPARED = {
    "handler": "handler",
    "runtime": "runtime",
    "memory_size": "memory_size",
    "timeout": "timeout",
    "environment": "environment",
    "description": "description",
    "reserved_concurrency": "reserved_concurrency",
    "tags": "tags",
    "max_retry_attempts": "max_retry_attempts",
    "max_event_age": "max_event_age",
    "on_failure": "on_failure",
}


def check(conn: sa.Connection, context: AccountContext, recorded: list[dict[str, Any]]) -> list[Drift]:
    """One query for the stack's functions; a function still on the revision the stack wrote has
    not drifted."""
    names = [r["physical_name"] for r in recorded]
    live = {
        row["name"]: row
        for row in conn.execute(
            sa.select(functions).where(
                functions.c.account_id == context.account_id, functions.c.name.in_(names)
            )
        ).mappings()
    }
    drifts: list[Drift] = []
    for r in recorded:
        row = live.get(r["physical_name"])
        if row is None:
            drifts.append(Drift(r["logical_id"], r["physical_name"], "DELETED"))
            continue
        if row["revision"] == r["revision"]:
            continue
        props = r["properties"]
        changed = [p for p, column in _COMPARED.items() if props.get(p) != row[column]]
        if props["code"]["sha256"] != row["code_sha256"]:
            changed.append("code")
        if changed:
            drifts.append(Drift(r["logical_id"], r["physical_name"], "MODIFIED", tuple(sorted(changed))))
    return drifts
