"""What a batch of stacks looks like now: one query per table for the whole batch."""

from __future__ import annotations

import itertools
import os
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from silo.events.stack_rows import EVENT_KINDS
from silo.stacks.planning import Recorded
from silo.store.schema import event_buses, event_rules, functions, stack_resources, stacks

_WITH_PROPERTIES = sorted({*EVENT_KINDS, "table"})
"""Kinds whose recorded properties every deploy reads: a rule's bus, a table's deletion policy."""
_EVENT_SEQUENCE = itertools.count()
_NODE = os.urandom(2).hex()


def event_id() -> str:
    """Sortable by time within a stack, unique across nodes."""
    return f"{time.time_ns():019d}{next(_EVENT_SEQUENCE) % 100000:05d}{_NODE}"


@dataclass(slots=True)
class StackState:
    """One account's stack as stored: the row (None if there is no stack yet) and its resources."""

    row: dict[str, Any] | None = None
    resources: dict[str, Recorded] = field(default_factory=dict)


def load_states(
    conn: sa.Connection,
    stack_name: str,
    accounts: Sequence[str],
    *,
    with_properties: bool,
    lock: bool = False,
) -> dict[str, StackState]:
    """``account -> StackState`` for one stack name in many accounts.

    Without ``with_properties`` the recorded properties are left empty (digests are enough to plan;
    the property-level detail is only for previews), except for rules, schedules and buses: their
    rows are found by what the properties say (a rule's bus); and tables, whose ``DeletionPolicy``
    decides what removing them does.
    """
    states: dict[str, StackState] = {account: StackState() for account in accounts}
    rows = sa.select(stacks).where(stacks.c.account_id.in_(accounts), stacks.c.name == stack_name)
    if lock:  # FOR UPDATE, in account order: two deploys of overlapping accounts cannot deadlock
        rows = rows.order_by(stacks.c.account_id).with_for_update()
    for row in conn.execute(rows).mappings():
        states[row["account_id"]].row = dict(row)
    columns: list[sa.ColumnElement[Any]] = [
        stack_resources.c.account_id,
        stack_resources.c.logical_id,
        stack_resources.c.type,
        stack_resources.c.kind,
        stack_resources.c.physical_name,
        stack_resources.c.properties_sha256,
        stack_resources.c.revision,
    ]
    properties = stack_resources.c.properties
    columns.append(
        properties
        if with_properties
        else sa.case((stack_resources.c.kind.in_(_WITH_PROPERTIES), properties), else_=sa.null())
    )
    query = (
        sa.select(*columns)
        .where(stack_resources.c.account_id.in_(accounts), stack_resources.c.stack_name == stack_name)
        .order_by(stack_resources.c.account_id, stack_resources.c.logical_id)
    )
    for r in conn.execute(query).all():
        states[r[0]].resources[r[1]] = Recorded(
            logical_id=r[1],
            type=r[2],
            kind=r[3],
            physical_name=r[4],
            digest=r[5],
            revision=r[6],
            properties=r[7] or {},
        )
    return states


def existing_functions(
    conn: sa.Connection, accounts: Sequence[str], names: Iterable[str]
) -> dict[str, dict[str, int | None]]:
    """``account -> {function name: reserved concurrency}`` for the named functions of each account."""
    wanted = sorted(set(names))
    found: dict[str, dict[str, int | None]] = defaultdict(dict)
    if not wanted:
        return found
    query = sa.select(functions.c.account_id, functions.c.name, functions.c.reserved_concurrency).where(
        functions.c.account_id.in_(accounts), functions.c.name.in_(wanted)
    )
    for account, name, reserved in conn.execute(query):
        found[account][name] = reserved
    return found


def reservations(conn: sa.Connection, accounts: Sequence[str]) -> dict[str, dict[str, int]]:
    """``account -> {function: reserved concurrency}`` for functions that reserve any."""
    found: dict[str, dict[str, int]] = defaultdict(dict)
    query = sa.select(functions.c.account_id, functions.c.name, functions.c.reserved_concurrency).where(
        functions.c.account_id.in_(accounts), functions.c.reserved_concurrency.is_not(None)
    )
    for account, name, reserved in conn.execute(query):
        found[account][name] = int(reserved)
    return found


def owners(
    conn: sa.Connection, accounts: Sequence[str], names: Iterable[str]
) -> dict[tuple[str, str, str], str]:
    """``(account, kind, physical name) -> owning stack`` for the named resources."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    query = sa.select(
        stack_resources.c.account_id,
        stack_resources.c.kind,
        stack_resources.c.physical_name,
        stack_resources.c.stack_name,
    ).where(stack_resources.c.account_id.in_(accounts), stack_resources.c.physical_name.in_(wanted))
    return {(a, k, p): s for a, k, p, s in conn.execute(query)}


def existing_rules(
    conn: sa.Connection, accounts: Sequence[str], names: Iterable[str]
) -> dict[tuple[str, str, str], str | None]:
    """``(account, bus, rule) -> managed_by`` for the rules with these names (on any bus)."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    c = event_rules.c
    query = sa.select(c.account_id, c.bus_name, c.name, c.managed_by).where(
        c.account_id.in_(accounts), c.name.in_(wanted)
    )
    return {(a, b, n): m for a, b, n, m in conn.execute(query)}


def existing_buses(
    conn: sa.Connection, accounts: Sequence[str], names: Iterable[str]
) -> set[tuple[str, str]]:
    """``(account, bus)`` for the buses with these names that have a row."""
    wanted = sorted(set(names))
    if not wanted:
        return set()
    query = sa.select(event_buses.c.account_id, event_buses.c.name).where(
        event_buses.c.account_id.in_(accounts), event_buses.c.name.in_(wanted)
    )
    return {(a, n) for a, n in conn.execute(query)}


def foreign_rules(
    conn: sa.Connection, accounts: Sequence[str], buses: Iterable[str], stack: str
) -> dict[tuple[str, str], list[str]]:
    """``(account, bus) -> rule names`` of the rules on these buses that ``stack`` does not manage."""
    wanted = sorted(set(buses))
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    if not wanted:
        return found
    c = event_rules.c
    query = (
        sa.select(c.account_id, c.bus_name, c.name)
        .where(
            c.account_id.in_(accounts),
            c.bus_name.in_(wanted),
            sa.or_(c.managed_by.is_(None), c.managed_by != stack),
        )
        .order_by(c.account_id, c.bus_name, c.name)
    )
    for account, bus, name in conn.execute(query):
        found[(account, bus)].append(name)
    return found
