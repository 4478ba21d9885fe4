"""Queueing an operation: which accounts each wave takes, and the operation row with its targets.

Every function works inside the caller's write transaction; the caller pokes the worker after it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from silo.errors import ValidationError
from silo.fleet import repository as repo
from silo.fleet.models import Operation, OperationAction, OperationStatus, Preferences, Targets, Wave
from silo.fleet.targets import select_accounts
from silo.store import utcnow
from silo.store.schema import fleet_operations

Exclude = Callable[[], list[str]]
"""The accounts no OU or tag selects (the management account), asked for at each selection."""


def deploy_spec(row: dict[str, Any]) -> dict[str, Any]:
    """What a create or update deploys: the stack set row's current template, parameters and code."""
    return {
        "template_sha256": row["template_sha256"],
        "parameters": row["parameters"],
        "code": row["code"],
    }


def waves_of(targets: Targets | None, waves: Sequence[Wave]) -> list[Wave]:
    if waves and targets is not None:
        raise ValidationError("give either targets or waves, not both", field="waves")
    if waves:
        return list(waves)
    if targets is None:
        raise ValidationError("targets: name accounts, OUs or tags", field="targets")
    return [Wave(targets)]


def selectable(conn: sa.Connection, targets: Targets, exclude: list[str]) -> list[str]:
    """Like ``select_accounts`` but an explicit account need not be active (it may be leaving)."""
    if targets.accounts and not (targets.ous or targets.tags):
        return sorted(set(targets.accounts))
    return select_accounts(conn, targets, exclude=exclude)


def select_waves(conn: sa.Connection, waves: Sequence[Wave], exclude: Exclude) -> list[list[str]]:
    """The active accounts of each wave; an account two waves select goes with the first."""
    seen: set[str] = set()
    chosen: list[list[str]] = []
    for wave in waves:
        picked = [a for a in select_accounts(conn, wave.targets, exclude=exclude()) if a not in seen]
        seen.update(picked)
        chosen.append(picked)
    return chosen


def every_instance(
    conn: sa.Connection, waves: Sequence[Wave], instances: list[str], exclude: Exclude
) -> tuple[list[Wave], list[list[str]]]:
    """Targets for an update of every instance: each wave takes the instances it selects, the
    instances no wave selects go last (in a wave of their own)."""
    remaining = set(instances)
    chosen: list[list[str]] = []
    metas = list(waves)
    for wave in waves:
        picked = [a for a in selectable(conn, wave.targets, exclude()) if a in remaining]
        remaining.difference_update(picked)
        chosen.append(picked)
    if remaining:
        chosen.append(sorted(remaining))
        metas.append(Wave(Targets(accounts=tuple(sorted(remaining))), name="rest" if waves else ""))
    return metas, chosen


def queue_wave(
    conn: sa.Connection,
    row: dict[str, Any],
    action: OperationAction,
    spec: dict[str, Any],
    preferences: Preferences | None,
    wave: Wave,
    accounts: list[str],
) -> Operation:
    """An operation of one wave, ``accounts``, at the version of the stack set ``row``."""
    return queue_operation(conn, row["name"], action, row["version"], spec, preferences, [wave], [accounts])


def queue_operation(
    conn: sa.Connection,
    name: str,
    action: OperationAction,
    version: int,
    spec: dict[str, Any],
    preferences: Preferences | None,
    waves: Sequence[Wave],
    chosen: Sequence[Sequence[str]],
) -> Operation:
    """Write a QUEUED operation and its targets, wave by wave; a wave that chose no account is dropped."""
    kept = [(w, c) for w, c in zip(waves, chosen, strict=True) if c]
    now = utcnow()
    operation_id = str(uuid.uuid4())
    prefs = preferences or Preferences()
    values = {
        "operation_id": operation_id,
        "stack_set": name,
        "action": action.value,
        "status": OperationStatus.QUEUED.value,
        "status_reason": "",
        "version": version,
        "spec": spec,
        "preferences": {
            "preferences": prefs.to_dict(),
            "waves": [
                {"name": w.name, "soak_seconds": w.soak_seconds, "halt_on_failure": w.halt_on_failure}
                for w, _ in kept
            ],
        },
        "waves": len(kept),
        "current_wave": 0,
        "wave_done_at": None,
        "owner": None,
        "lease_until": None,
        "created_at": now,
        "started_at": None,
        "ended_at": None,
    }
    conn.execute(fleet_operations.insert().values(**values))
    repo.insert_targets(conn, operation_id, [c for _, c in kept], now)
    return repo.operation_from_row(values)
