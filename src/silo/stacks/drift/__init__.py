"""Drift: compare what a stack last wrote with what its resources are now, in the stack's account.

Every runnable kind the deployer writes is checked, each against the live state its own service
keeps, read through that service's account-bound repository (one account, by construction):

* ``function``: settings and code (``_functions``);
* ``rule`` and ``schedule``: pattern or expression, state, targets; ``event_bus``: that it is
  there (``_events``);
* ``table``: key schema, global secondary indexes, TTL, stream view; ``event_source``: the
  table's stream function and its batch size and attempts (``_tables``);
* ``state_machine``: definition and description, as stored (``_machines``).

A resource missing from the account is ``DELETED``; one that differs is ``MODIFIED`` with the
differing properties named as the stack records them (``memory_size``, ``pattern``,
``ttl_attribute`` ...); one that does not is in sync and not listed, as CloudFormation's
``IN_SYNC`` resources are not drift. Resources recorded as ``NOT_RUNNABLE`` were never written,
so they cannot drift.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from silo.accounts import AccountContext
from silo.stacks.drift import _events, _functions, _machines, _tables
from silo.stacks.models import Drift

Check = Callable[[sa.Connection, AccountContext, list[dict[str, Any]]], list[Drift]]

_CHECKS: dict[str, Check] = {
    "function": _functions.check,
    "rule": _events.check_rules,
    "schedule": _events.check_rules,
    "event_bus": _events.check_buses,
    "table": _tables.check_tables,
    "event_source": _tables.check_streams,
    "state_machine": _machines.check,
}


def detect_drift(
    conn: sa.Connection, context: AccountContext, recorded: Sequence[dict[str, Any]]
) -> list[Drift]:
    """The stack's drifted resources, by logical id. ``recorded``: its ``stack_resources`` rows."""
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for row in recorded:
        if row["status"] != "NOT_RUNNABLE" and row["kind"] in _CHECKS:
            by_kind.setdefault(row["kind"], []).append(row)
    checks: dict[Check, list[dict[str, Any]]] = {}
    for kind, rows in by_kind.items():
        checks.setdefault(_CHECKS[kind], []).extend(rows)
    drifts = [d for check, rows in checks.items() for d in check(conn, context, rows)]
    return sorted(drifts, key=lambda d: d.logical_id)


__all__ = ["detect_drift"]
