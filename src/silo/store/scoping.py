"""The strict-scoping guard: no statement on an account-owned table without an account filter.

Installed in tests (and with ``SILO_STRICT_SCOPING=1``). A management-plane statement that spans
accounts on purpose says so with ``.execution_options(cross_account=True)``; everything else must
compare the table's ``account_id`` in its WHERE clause.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.sql import visitors


class UnscopedQuery(AssertionError):
    """A statement touched an account-owned table without filtering by account."""


def install_scoping_guard(engine: sa.Engine) -> None:
    event.listen(engine, "before_execute", _check)


def _check(conn: sa.Connection, clause: Any, multiparams: Any, params: Any, execution_options: Any) -> None:
    from silo.store.schema import account_owned_tables

    if execution_options.get("cross_account") or conn.get_execution_options().get("cross_account"):
        return
    if isinstance(clause, sa.Select):
        tables = {t for f in clause.get_final_froms() for t in _tables_in(f)}
        where = clause.whereclause
    elif isinstance(clause, sa.Update | sa.Delete):
        tables = set(_tables_in(clause.table))
        where = clause.whereclause
    else:
        return
    owned = set(account_owned_tables()) & tables
    if not owned:
        return
    filtered = _filtered_tables(where)
    missing = sorted(t.name for t in owned if t not in filtered)
    if missing:
        raise UnscopedQuery(f"statement on {', '.join(missing)} lacks an account_id filter: {clause}")


def _tables_in(from_: Any) -> list[sa.Table]:
    if isinstance(from_, sa.Table):
        return [from_]
    return [t for t in visitors.iterate(from_) if isinstance(t, sa.Table)]


def _filtered_tables(where: Any) -> set[sa.Table]:
    if where is None:
        return set()
    found: set[sa.Table] = set()
    for node in visitors.iterate(where):
        if isinstance(node, sa.Column) and node.name == "account_id" and isinstance(node.table, sa.Table):
            found.add(node.table)
    return found
