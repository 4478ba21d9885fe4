"""Auto-deployment: accounts created in, or moved to, an OU get the stack sets that target it."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from silo.fleet import repository as repo
from silo.fleet.instances import add_pending
from silo.fleet.models import AutoDeployment, Operation, OperationAction, Targets, Wave
from silo.fleet.queueing import deploy_spec, queue_wave
from silo.fleet.targets import ou_paths
from silo.store import utcnow
from silo.store.schema import accounts, fleet_stack_sets


def place(conn: sa.Connection, ids: Sequence[str]) -> list[Operation]:
    """Queue, in the caller's write transaction, the operations ``Fleet.accounts_placed`` describes
    (one per stack set for the whole batch); returns them."""
    queued: list[Operation] = []
    sets = [
        dict(r)
        for r in conn.execute(
            sa.select(fleet_stack_sets).where(fleet_stack_sets.c.status == "ACTIVE")
        ).mappings()
        if AutoDeployment.from_dict(r["auto_deployment"]).enabled
    ]
    if not sets or not ids:
        return []
    placed = {
        a: (p, s)
        for a, p, s in conn.execute(
            sa.select(accounts.c.account_id, accounts.c.ou_path, accounts.c.status)
            .where(accounts.c.account_id.in_(list(ids)))
            .execution_options(cross_account=True)
        )
    }
    for row in sets:
        auto = AutoDeployment.from_dict(row["auto_deployment"])
        paths = list(ou_paths(conn, list(auto.ous)).values()) if auto.ous else []
        has = repo.instance_accounts(conn, row["name"])
        joined, left = [], []
        for account in sorted(placed):
            path, status = placed[account]
            placeable = status in ("ACTIVE", "PROVISIONING")  # the factory deploys baselines
            inside = placeable and any(path.startswith(p) for p in paths)
            if inside and account not in has:
                joined.append(account)
            elif not inside and account in has:
                left.append(account)
        if joined:
            add_pending(conn, row["name"], joined, {}, "auto-deployment", utcnow())
            spec = deploy_spec(row)
            queued.append(queue_wave(conn, row, OperationAction.CREATE, spec, None, _wave(joined), joined))
        if left:
            spec = {"retain_stacks": auto.retain_stacks_on_removal}
            queued.append(queue_wave(conn, row, OperationAction.DELETE, spec, None, _wave(left), left))
    return queued


def _wave(accounts_: list[str]) -> Wave:
    return Wave(Targets(accounts=tuple(accounts_)), name="auto-deployment")
