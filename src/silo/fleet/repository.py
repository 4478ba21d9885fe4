"""Rows of stack sets, instances, operations and operation targets (management-plane state)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from silo.errors import NotFound
from silo.fleet.models import (
    AutoDeployment,
    InstanceStatus,
    Operation,
    OperationAction,
    OperationStatus,
    Preferences,
    StackInstance,
    StackSet,
    TargetStatus,
)
from silo.store import insert_rows
from silo.store.pages import Page, check_limit, decode_token, encode_token, older_than
from silo.store.schema import (
    fleet_operation_targets,
    fleet_operations,
    fleet_stack_instances,
    fleet_stack_sets,
)
from silo.templates import mask_parameters

T = fleet_operation_targets
I = fleet_stack_instances  # noqa: E741
OPEN = (OperationStatus.QUEUED.value, OperationStatus.RUNNING.value, OperationStatus.STOPPING.value)


def stack_set_row(conn: sa.Connection, name: str) -> dict[str, Any]:
    row = conn.execute(sa.select(fleet_stack_sets).where(fleet_stack_sets.c.name == name)).mappings().first()
    if row is None or row["status"] == "DELETED":
        raise NotFound(f"stack set not found: {name}", stack_set=name)
    return dict(row)


def stack_set_from_row(r: dict[str, Any] | sa.RowMapping) -> StackSet:
    return StackSet(
        name=r["name"],
        description=r["description"],
        version=r["version"],
        template_sha256=r["template_sha256"],
        parameters=r["parameters"],
        auto_deployment=AutoDeployment.from_dict(r["auto_deployment"]),
        status=r["status"],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
    )


def instance_from_row(r: sa.RowMapping, no_echo: AbstractSet[str] = frozenset()) -> StackInstance:
    """``no_echo``: the stack set's ``NoEcho`` parameters, whose overrides are shown masked."""
    return StackInstance(
        stack_set=r["stack_set"],
        account_id=r["account_id"],
        status=InstanceStatus(r["status"]),
        status_reason=r["status_reason"],
        version=r["version"],
        overrides=mask_parameters(r["overrides"], no_echo),
        operation_id=r["operation_id"],
        updated_at=r["updated_at"],
    )


def instances_page(
    conn: sa.Connection, stack_set: str, no_echo: AbstractSet[str], limit: int | None, next_token: str | None
) -> Page[StackInstance]:
    """The stack set's instances by account id, overrides of the ``no_echo`` parameters masked."""
    size = check_limit(limit)
    after = decode_token(next_token)
    query = sa.select(I).where(I.c.stack_set == stack_set).order_by(I.c.account_id).limit(size + 1)
    if after is not None:
        query = query.where(I.c.account_id > after)
    rows = conn.execute(query).mappings().all()
    items = [instance_from_row(r, no_echo) for r in rows[:size]]
    return Page(items, encode_token(items[-1].account_id) if len(rows) > size else None)


def operation_row(conn: sa.Connection, operation_id: str, *, lock: bool = False) -> dict[str, Any]:
    """The operation's row; ``lock`` holds it until the transaction ends (PostgreSQL ``FOR UPDATE``;
    SQLite's write transactions are exclusive already), so a concurrent stop is never overwritten."""
    query = sa.select(fleet_operations).where(fleet_operations.c.operation_id == operation_id)
    if lock:
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    if row is None:
        raise NotFound(f"operation not found: {operation_id}", operation_id=operation_id)
    return dict(row)


def operation_from_row(r: dict[str, Any] | sa.RowMapping) -> Operation:
    return Operation(
        operation_id=r["operation_id"],
        stack_set=r["stack_set"],
        action=OperationAction(r["action"]),
        status=OperationStatus(r["status"]),
        status_reason=r["status_reason"],
        version=r["version"],
        preferences=Preferences.from_dict(r["preferences"]["preferences"]),
        waves=r["waves"],
        current_wave=r["current_wave"],
        created_at=r["created_at"],
        started_at=r["started_at"],
        ended_at=r["ended_at"],
    )


def operations_page(
    conn: sa.Connection,
    stack_set: str | None,
    statuses: Collection[OperationStatus],
    limit: int | None,
    next_token: str | None,
) -> Page[Operation]:
    """Operations newest first, of one stack set and/or in some statuses (none given: all);
    ``next_token`` resumes after (created_at, operation_id)."""
    size = check_limit(limit)
    after = decode_token(next_token)
    O = fleet_operations  # noqa: E741, N806
    query = sa.select(O).order_by(O.c.created_at.desc(), O.c.operation_id.desc()).limit(size + 1)
    if stack_set is not None:
        query = query.where(O.c.stack_set == stack_set)
    if statuses:
        query = query.where(O.c.status.in_(sorted(s.value for s in statuses)))
    if after is not None:
        query = query.where(older_than(O.c.created_at, O.c.operation_id, after))
    rows = conn.execute(query).mappings().all()
    items = [operation_from_row(r) for r in rows[:size]]
    token = None
    if len(rows) > size:
        token = encode_token([items[-1].created_at.isoformat(), items[-1].operation_id])
    return Page(items, token)


def instance_accounts(conn: sa.Connection, stack_set: str) -> dict[str, dict[str, Any]]:
    """``account -> overrides`` of the stack set's instances."""
    rows = conn.execute(sa.select(I.c.account_id, I.c.overrides).where(I.c.stack_set == stack_set))
    return {a: o for a, o in rows}


def insert_targets(
    conn: sa.Connection, operation_id: str, waves: Sequence[Sequence[str]], now: datetime
) -> int:
    rows = [
        {
            "operation_id": operation_id,
            "account_id": account,
            "wave": index,
            "status": TargetStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": None,
            "reason": "",
            "updated_at": now,
        }
        for index, accounts in enumerate(waves)
        for account in accounts
    ]
    return insert_rows(conn, T, rows)


def set_targets(
    conn: sa.Connection, operation_id: str, accounts: Iterable[str], status: TargetStatus, now: datetime
) -> None:
    ids = list(accounts)
    for start in range(0, len(ids), 500):
        conn.execute(
            sa.update(T)
            .where(T.c.operation_id == operation_id, T.c.account_id.in_(ids[start : start + 500]))
            .values(status=status.value, updated_at=now)
        )


def cancel_pending(conn: sa.Connection, operation_id: str, reason: str, now: datetime) -> list[str]:
    accounts = list(
        conn.execute(
            sa.select(T.c.account_id).where(
                T.c.operation_id == operation_id,
                T.c.status.in_([TargetStatus.PENDING.value, TargetStatus.RUNNING.value]),
            )
        ).scalars()
    )
    conn.execute(
        sa.update(T)
        .where(
            T.c.operation_id == operation_id,
            T.c.status.in_([TargetStatus.PENDING.value, TargetStatus.RUNNING.value]),
        )
        .values(status=TargetStatus.CANCELLED.value, reason=reason, updated_at=now)
    )
    return accounts


def counts(conn: sa.Connection, operation_id: str) -> dict[tuple[int, str], int]:
    """``(wave, status) -> number of targets``."""
    query = (
        sa.select(T.c.wave, T.c.status, sa.func.count())
        .where(T.c.operation_id == operation_id)
        .group_by(T.c.wave, T.c.status)
    )
    return {(w, s): n for w, s, n in conn.execute(query)}


def open_operations(conn: sa.Connection) -> list[dict[str, Any]]:
    """The oldest open operation of each stack set (later ones queue behind it)."""
    rows = (
        conn.execute(
            sa.select(fleet_operations)
            .where(fleet_operations.c.status.in_(OPEN))
            .order_by(fleet_operations.c.created_at, fleet_operations.c.operation_id)
        )
        .mappings()
        .all()
    )
    first: dict[str, dict[str, Any]] = {}
    for row in rows:
        first.setdefault(row["stack_set"], dict(row))
    return list(first.values())


def update_operation(conn: sa.Connection, operation_id: str, **values: Any) -> None:
    conn.execute(
        sa.update(fleet_operations).where(fleet_operations.c.operation_id == operation_id).values(**values)
    )


def claim(conn: sa.Connection, operation_id: str, owner: str, now: datetime, until: datetime) -> bool:
    """Take (or renew) the operation's lease unless another live owner holds it."""
    result = conn.execute(
        sa.update(fleet_operations)
        .where(
            fleet_operations.c.operation_id == operation_id,
            fleet_operations.c.status.in_(OPEN),
            sa.or_(
                fleet_operations.c.owner.is_(None),
                fleet_operations.c.owner == owner,
                fleet_operations.c.lease_until < now,
            ),
        )
        .values(owner=owner, lease_until=until)
    )
    return bool(result.rowcount)
