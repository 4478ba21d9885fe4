"""Stack instances: the accounts a stack set is deployed to, with their parameter overrides.

``create``, ``update`` and ``delete`` work inside the caller's write transaction and return the
operation they queued; the caller pokes the worker after it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from silo.errors import ValidationError
from silo.fleet import repository as repo
from silo.fleet.models import (
    AutoDeployment,
    InstanceStatus,
    Operation,
    OperationAction,
    Preferences,
    Targets,
    Wave,
)
from silo.fleet.queueing import (
    Exclude,
    deploy_spec,
    queue_operation,
    queue_wave,
    select_waves,
    selectable,
)
from silo.fleet.targets import select_accounts
from silo.store import insert_rows
from silo.store.schema import fleet_stack_instances, fleet_stack_sets


def create(
    conn: sa.Connection,
    name: str,
    waves: Sequence[Wave],
    overrides: Mapping[str, Any] | None,
    preferences: Preferences | None,
    exclude: Exclude,
    now: datetime,
) -> Operation:
    """Deploy the stack set's current version to the accounts the waves select (in order)."""
    row = repo.stack_set_row(conn, name)
    chosen = select_waves(conn, waves, exclude)
    flat = [a for wave in chosen for a in wave]
    if not flat:
        raise ValidationError("targets: no active account matches", field="targets")
    existing = repo.instance_accounts(conn, name)
    add_pending(conn, name, [a for a in flat if a not in existing], overrides or {}, "", now)
    if overrides is not None:
        _set_overrides(conn, name, [a for a in flat if a in existing], overrides)
    ous = sorted({ou for w in waves for ou in w.targets.ous})
    if ous:
        _remember_ous(conn, row, ous)
    return queue_operation(
        conn, name, OperationAction.CREATE, row["version"], deploy_spec(row), preferences, waves, chosen
    )


def update(
    conn: sa.Connection,
    name: str,
    targets: Targets,
    overrides: Mapping[str, Any],
    preferences: Preferences | None,
    exclude: Exclude,
) -> Operation:
    """Change the parameter overrides of the instances ``targets`` selects and redeploy them."""
    row = repo.stack_set_row(conn, name)
    existing = repo.instance_accounts(conn, name)
    chosen = _instances(select_accounts(conn, targets, exclude=exclude()), existing)
    _set_overrides(conn, name, chosen, overrides)
    spec = deploy_spec(row)
    return queue_wave(conn, row, OperationAction.UPDATE, spec, preferences, Wave(targets), chosen)


def delete(
    conn: sa.Connection,
    name: str,
    targets: Targets,
    retain_stacks: bool,
    preferences: Preferences | None,
    exclude: Exclude,
) -> Operation:
    """Remove the stack from the instances ``targets`` selects (or keep it, with ``retain_stacks``)."""
    row = repo.stack_set_row(conn, name)
    existing = repo.instance_accounts(conn, name)
    chosen = _instances(selectable(conn, targets, exclude()), existing)
    spec = {"retain_stacks": retain_stacks}
    return queue_wave(conn, row, OperationAction.DELETE, spec, preferences, Wave(targets), chosen)


def add_pending(
    conn: sa.Connection,
    name: str,
    accounts: Sequence[str],
    overrides: Mapping[str, Any],
    reason: str,
    now: datetime,
) -> None:
    """New instances, PENDING until an operation deploys them."""
    insert_rows(
        conn,
        fleet_stack_instances,
        [
            {
                "stack_set": name,
                "account_id": account,
                "overrides": dict(overrides),
                "status": InstanceStatus.PENDING.value,
                "status_reason": reason,
                "version": 0,
                "operation_id": None,
                "updated_at": now,
            }
            for account in accounts
        ],
    )


def _instances(selected: list[str], existing: Mapping[str, Any]) -> list[str]:
    chosen = [a for a in selected if a in existing]
    if not chosen:
        raise ValidationError("targets: none of them is an instance of the stack set", field="targets")
    return chosen


def _set_overrides(
    conn: sa.Connection, name: str, accounts_: list[str], overrides: Mapping[str, Any]
) -> None:
    for start in range(0, len(accounts_), 500):
        conn.execute(
            sa.update(fleet_stack_instances)
            .where(
                fleet_stack_instances.c.stack_set == name,
                fleet_stack_instances.c.account_id.in_(accounts_[start : start + 500]),
            )
            .values(overrides=dict(overrides))
        )


def _remember_ous(conn: sa.Connection, row: dict[str, Any], ous: list[str]) -> None:
    """Add the OUs instances were created for to those the stack set auto-deploys to."""
    auto = AutoDeployment.from_dict(row["auto_deployment"])
    merged = tuple(sorted(set(auto.ous) | set(ous)))
    if merged != auto.ous:
        conn.execute(
            sa.update(fleet_stack_sets)
            .where(fleet_stack_sets.c.name == row["name"])
            .values(
                auto_deployment=AutoDeployment(auto.enabled, auto.retain_stacks_on_removal, merged).to_dict()
            )
        )
