"""``Fleet``: stack sets, their instances in many accounts, and the operations that roll them out.

Reached from the management plane only (``platform.management(principal).fleet``). Creating an
operation only writes rows and pokes the worker; the worker does the deploys.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from silo.errors import Conflict, ValidationError
from silo.fleet import repository as repo
from silo.fleet.events import recent
from silo.fleet.models import (
    AutoDeployment,
    InstanceStatus,
    Operation,
    OperationAction,
    OperationStatus,
    Preferences,
    StackInstance,
    StackSet,
    Targets,
    Wave,
    parse_statuses,
)
from silo.fleet.targets import ou_paths, select_accounts
from silo.fleet.tracking import Progress, progress
from silo.fleet.worker import FleetWorker
from silo.functions.packaging import CodeArchive
from silo.stacks import CodeMap, StacksEngine, check_stack_name, package_code
from silo.store import Store, insert_rows, utcnow
from silo.store.pages import Page
from silo.store.schema import (
    accounts,
    fleet_operation_targets,
    fleet_operations,
    fleet_stack_instances,
    fleet_stack_sets,
)
from silo.templates import load_template, resolve

PLACEHOLDER_ACCOUNT = "000000000000"


class Fleet:
    def __init__(
        self,
        store: Store,
        stacks_engine: StacksEngine,
        worker: FleetWorker,
        management_account: Callable[[], str | None],
    ) -> None:
        self._store = store
        self._stacks = stacks_engine
        self._worker = worker
        self._management_account = management_account

    # --- stack sets ----------------------------------------------------------------------------
    def create_stack_set(
        self,
        name: str,
        body: str,
        *,
        parameters: Mapping[str, Any] | None = None,
        code: Mapping[str, bytes] | None = None,
        description: str = "",
        auto_deployment: bool = False,
        retain_stacks_on_removal: bool = False,
    ) -> StackSet:
        check_stack_name(name, "name")
        params = dict(parameters or {})
        sha, codes, archives = self._prepare(name, body, params, code or {})
        now = utcnow()
        with self._store.write() as conn:
            taken = conn.execute(
                sa.select(fleet_stack_sets.c.status).where(fleet_stack_sets.c.name == name)
            ).scalar()
            if taken is not None and taken != "DELETED":
                raise Conflict(f"stack set {name!r} already exists", stack_set=name)
            if taken is not None:
                conn.execute(sa.delete(fleet_stack_sets).where(fleet_stack_sets.c.name == name))
            self._store_template(conn, body, archives)
            values = {
                "name": name,
                "description": description[:1024],
                "version": 1,
                "template_sha256": sha,
                "parameters": params,
                "code": codes,
                "auto_deployment": AutoDeployment(auto_deployment, retain_stacks_on_removal).to_dict(),
                "status": "ACTIVE",
                "created_at": now,
                "updated_at": now,
            }
            conn.execute(fleet_stack_sets.insert().values(**values))
            return self._shown(conn, repo.stack_set_from_row(values))

    def update_stack_set(
        self,
        name: str,
        *,
        body: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        code: Mapping[str, bytes] | None = None,
        description: str | None = None,
        preferences: Preferences | None = None,
        waves: Sequence[Wave] = (),
    ) -> Operation:
        """A new version of the template and/or parameters, rolled out to every instance."""
        with self._store.read() as conn:
            row = repo.stack_set_row(conn, name)
            if body is None:
                body = self._stacks.template_body(conn, row["template_sha256"])
        params = {**row["parameters"], **(parameters or {})}
        sha, codes, archives = self._prepare(name, body, params, code or {}, known=row["code"])
        with self._store.write() as conn:
            row = repo.stack_set_row(conn, name)
            self._store_template(conn, body, archives)
            version = row["version"] + 1
            conn.execute(
                sa.update(fleet_stack_sets)
                .where(fleet_stack_sets.c.name == name)
                .values(
                    version=version,
                    template_sha256=sha,
                    parameters=params,
                    code=codes,
                    description=row["description"] if description is None else description[:1024],
                    updated_at=utcnow(),
                )
            )
            instances = sorted(repo.instance_accounts(conn, name))
            spec = {"template_sha256": sha, "parameters": params, "code": codes}
            operation = self._queue(
                conn, name, OperationAction.UPDATE, version, spec, preferences, waves, instances
            )
        self._worker.poke()
        return operation

    def delete_stack_set(self, name: str) -> None:
        with self._store.write() as conn:
            repo.stack_set_row(conn, name)
            if repo.instance_accounts(conn, name):
                raise Conflict(f"stack set {name!r} still has instances; delete them first", stack_set=name)
            if self._open(conn, name):
                raise Conflict(f"stack set {name!r} has an operation in progress", stack_set=name)
            conn.execute(
                sa.update(fleet_stack_sets)
                .where(fleet_stack_sets.c.name == name)
                .values(status="DELETED", updated_at=utcnow())
            )

    # Descriptions of stack sets and instances mask NoEcho parameter values (as DescribeStackSet and
    # DescribeStackInstance do); the rows keep the real ones, which operations deploy and merge.
    def get_stack_set(self, name: str) -> StackSet:
        with self._store.read() as conn:
            return self._shown(conn, repo.stack_set_from_row(repo.stack_set_row(conn, name)))

    def list_stack_sets(self) -> list[StackSet]:
        with self._store.read() as conn:
            rows = conn.execute(
                sa.select(fleet_stack_sets)
                .where(fleet_stack_sets.c.status != "DELETED")
                .order_by(fleet_stack_sets.c.name)
            ).mappings()
            return [self._shown(conn, repo.stack_set_from_row(r)) for r in rows]

    def _shown(self, conn: sa.Connection, stack_set: StackSet) -> StackSet:
        shown = self._stacks.shown_parameters(conn, stack_set.template_sha256, stack_set.parameters)
        return replace(stack_set, parameters=shown)

    # --- instances -----------------------------------------------------------------------------
    def create_instances(
        self,
        name: str,
        targets: Targets | None = None,
        *,
        waves: Sequence[Wave] = (),
        overrides: Mapping[str, Any] | None = None,
        preferences: Preferences | None = None,
    ) -> Operation:
        """Deploy the stack set's current version to the selected accounts (waves in order)."""
        waves = _waves(targets, waves)
        now = utcnow()
        with self._store.write() as conn:
            row = repo.stack_set_row(conn, name)
            chosen = self._select_waves(conn, waves)
            flat = [a for wave in chosen for a in wave]
            if not flat:
                raise ValidationError("targets: no active account matches", field="targets")
            existing = repo.instance_accounts(conn, name)
            new_rows = [
                {
                    "stack_set": name,
                    "account_id": a,
                    "overrides": dict(overrides or {}),
                    "status": InstanceStatus.PENDING.value,
                    "status_reason": "",
                    "version": 0,
                    "operation_id": None,
                    "updated_at": now,
                }
                for a in flat
                if a not in existing
            ]
            insert_rows(conn, fleet_stack_instances, new_rows)
            if overrides is not None:
                self._set_overrides(conn, name, [a for a in flat if a in existing], overrides)
            ous = sorted({ou for w in waves for ou in w.targets.ous})
            if ous:
                self._remember_ous(conn, row, ous)
            spec = {
                "template_sha256": row["template_sha256"],
                "parameters": row["parameters"],
                "code": row["code"],
            }
            operation = self._queue_waves(
                conn, name, OperationAction.CREATE, row["version"], spec, preferences, waves, chosen
            )
        self._worker.poke()
        return operation

    def update_instances(
        self,
        name: str,
        targets: Targets,
        *,
        overrides: Mapping[str, Any],
        preferences: Preferences | None = None,
    ) -> Operation:
        """Change the parameter overrides of some instances and redeploy them."""
        with self._store.write() as conn:
            row = repo.stack_set_row(conn, name)
            existing = repo.instance_accounts(conn, name)
            chosen = [a for a in select_accounts(conn, targets, exclude=self._exclude()) if a in existing]
            if not chosen:
                raise ValidationError(
                    "targets: none of them is an instance of the stack set", field="targets"
                )
            self._set_overrides(conn, name, chosen, overrides)
            spec = {
                "template_sha256": row["template_sha256"],
                "parameters": row["parameters"],
                "code": row["code"],
            }
            operation = self._queue_waves(
                conn,
                name,
                OperationAction.UPDATE,
                row["version"],
                spec,
                preferences,
                [Wave(targets)],
                [chosen],
            )
        self._worker.poke()
        return operation

    def delete_instances(
        self,
        name: str,
        targets: Targets,
        *,
        retain_stacks: bool = False,
        preferences: Preferences | None = None,
    ) -> Operation:
        """Remove the stack from the selected instances (or keep it, unmanaged, with ``retain_stacks``)."""
        with self._store.write() as conn:
            row = repo.stack_set_row(conn, name)
            existing = repo.instance_accounts(conn, name)
            chosen = [a for a in _selectable(conn, targets, self._exclude()) if a in existing]
            if not chosen:
                raise ValidationError(
                    "targets: none of them is an instance of the stack set", field="targets"
                )
            spec = {"retain_stacks": retain_stacks}
            operation = self._queue_waves(
                conn,
                name,
                OperationAction.DELETE,
                row["version"],
                spec,
                preferences,
                [Wave(targets)],
                [chosen],
            )
        self._worker.poke()
        return operation

    def list_instances(
        self, name: str, *, limit: int | None = None, next_token: str | None = None
    ) -> Page[StackInstance]:
        """By account id; overrides of ``NoEcho`` parameters (of the stack set's template) masked."""
        with self._store.read() as conn:
            sha = repo.stack_set_row(conn, name)["template_sha256"]
            return repo.instances_page(conn, name, self._stacks.no_echo(conn, sha), limit, next_token)

    # --- operations ----------------------------------------------------------------------------
    def get_operation(self, operation_id: str) -> Operation:
        with self._store.read() as conn:
            return repo.operation_from_row(repo.operation_row(conn, operation_id))

    def progress(self, operation_id: str) -> Progress:
        with self._store.read() as conn:
            return progress(conn, operation_id)

    def account_targets(self, account: str) -> dict[str, tuple[str, str]]:
        """``operation -> (status, reason)`` of every operation that targets ``account`` (the
        account factory follows a new account's baseline deployments this way)."""
        T = fleet_operation_targets  # noqa: N806
        with self._store.read() as conn:
            rows = conn.execute(
                sa.select(T.c.operation_id, T.c.status, T.c.reason).where(T.c.account_id == account)
            ).all()
        return {r.operation_id: (r.status, r.reason) for r in rows}

    def list_operations(
        self,
        stack_set: str | None = None,
        *,
        status: OperationStatus | str | Iterable[OperationStatus | str] | None = None,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> Page[Operation]:
        """Operations newest first: all, one stack set's, and/or those in ``status`` (one or several);
        a page at a time, ``next_token`` continuing where the previous page ended."""
        statuses = parse_statuses(status)
        with self._store.read() as conn:
            return repo.operations_page(conn, stack_set, statuses, limit, next_token)

    def stop_operation(self, operation_id: str) -> Operation:
        with self._store.write() as conn:
            row = repo.operation_row(conn, operation_id, lock=True)
            status = OperationStatus(row["status"])
            if status.finished:
                raise Conflict(
                    f"operation {operation_id} is already {status.value}", operation_id=operation_id
                )
            repo.update_operation(conn, operation_id, status=OperationStatus.STOPPING.value)
        self._worker.poke()
        return self.get_operation(operation_id)

    def management_events(self, limit: int = 100) -> list[dict[str, Any]]:
        with self._store.read() as conn:
            return recent(conn, limit)

    # --- auto-deployment -----------------------------------------------------------------------
    def accounts_placed(self, ids: Sequence[str]) -> list[Operation]:
        """Accounts were created in, or moved to, an OU: deploy the stack sets with auto-deployment
        that target their OU (recursively), and remove those they left (unless stacks are retained).
        One operation per stack set for the whole batch."""
        queued: list[Operation] = []
        with self._store.write() as conn:
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
                    queued.append(self._auto_create(conn, row, joined))
                if left:
                    spec = {"retain_stacks": auto.retain_stacks_on_removal}
                    wave = Wave(Targets(accounts=tuple(left)), name="auto-deployment")
                    queued.append(
                        self._queue_waves(
                            conn,
                            row["name"],
                            OperationAction.DELETE,
                            row["version"],
                            spec,
                            None,
                            [wave],
                            [left],
                        )
                    )
        if queued:
            self._worker.poke()
        return queued

    def _auto_create(self, conn: sa.Connection, row: dict[str, Any], joined: list[str]) -> Operation:
        now = utcnow()
        insert_rows(
            conn,
            fleet_stack_instances,
            [
                {
                    "stack_set": row["name"],
                    "account_id": account,
                    "overrides": {},
                    "status": InstanceStatus.PENDING.value,
                    "status_reason": "auto-deployment",
                    "version": 0,
                    "operation_id": None,
                    "updated_at": now,
                }
                for account in joined
            ],
        )
        spec = {
            "template_sha256": row["template_sha256"],
            "parameters": row["parameters"],
            "code": row["code"],
        }
        wave = Wave(Targets(accounts=tuple(joined)), name="auto-deployment")
        return self._queue_waves(
            conn, row["name"], OperationAction.CREATE, row["version"], spec, None, [wave], [joined]
        )

    # --- helpers -------------------------------------------------------------------------------
    def _prepare(
        self,
        name: str,
        body: str,
        parameters: Mapping[str, Any],
        code: Mapping[str, bytes],
        *,
        known: CodeMap | None = None,
    ) -> tuple[str, CodeMap, dict[str, CodeArchive]]:
        """Check the template resolves (for a placeholder account) and package its code."""
        resolved = resolve(
            load_template(body), dict(parameters), account_id=PLACEHOLDER_ACCOUNT, stack_name=name
        )
        codes, archives = package_code(resolved, code, known=known)
        return hashlib.sha256(body.encode()).hexdigest(), codes, archives

    def _store_template(self, conn: sa.Connection, body: str, codes: Mapping[str, Any]) -> None:
        self._stacks.put_template(conn, body)
        self._stacks.put_code(conn, codes)

    def _exclude(self) -> list[str]:
        management = self._management_account()
        return [management] if management else []

    def _select_waves(self, conn: sa.Connection, waves: Sequence[Wave]) -> list[list[str]]:
        seen: set[str] = set()
        chosen: list[list[str]] = []
        for wave in waves:
            picked = [
                a for a in select_accounts(conn, wave.targets, exclude=self._exclude()) if a not in seen
            ]
            seen.update(picked)
            chosen.append(picked)
        return chosen

    def _queue(
        self,
        conn: sa.Connection,
        name: str,
        action: OperationAction,
        version: int,
        spec: dict[str, Any],
        preferences: Preferences | None,
        waves: Sequence[Wave],
        instances: list[str],
    ) -> Operation:
        """Targets for an update of every instance: each wave takes the instances it selects, the
        instances no wave selects go last."""
        if not instances:
            raise ValidationError(f"stack set {name!r} has no instances to update", field="targets")
        remaining = set(instances)
        chosen: list[list[str]] = []
        metas = list(waves)
        for wave in waves:
            picked = [a for a in _selectable(conn, wave.targets, self._exclude()) if a in remaining]
            remaining.difference_update(picked)
            chosen.append(picked)
        if remaining:
            chosen.append(sorted(remaining))
            metas.append(Wave(Targets(accounts=tuple(sorted(remaining))), name="rest" if waves else ""))
        return self._queue_waves(conn, name, action, version, spec, preferences, metas, chosen)

    def _queue_waves(
        self,
        conn: sa.Connection,
        name: str,
        action: OperationAction,
        version: int,
        spec: dict[str, Any],
        preferences: Preferences | None,
        waves: Sequence[Wave],
        chosen: Sequence[Sequence[str]],
    ) -> Operation:
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

    def _set_overrides(
        self, conn: sa.Connection, name: str, accounts_: list[str], overrides: Mapping[str, Any]
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

    def _remember_ous(self, conn: sa.Connection, row: dict[str, Any], ous: list[str]) -> None:
        auto = AutoDeployment.from_dict(row["auto_deployment"])
        merged = tuple(sorted(set(auto.ous) | set(ous)))
        if merged != auto.ous:
            conn.execute(
                sa.update(fleet_stack_sets)
                .where(fleet_stack_sets.c.name == row["name"])
                .values(
                    auto_deployment=AutoDeployment(
                        auto.enabled, auto.retain_stacks_on_removal, merged
                    ).to_dict()
                )
            )

    def _open(self, conn: sa.Connection, name: str) -> bool:
        return any(op["stack_set"] == name for op in repo.open_operations(conn))


def _waves(targets: Targets | None, waves: Sequence[Wave]) -> list[Wave]:
    if waves and targets is not None:
        raise ValidationError("give either targets or waves, not both", field="waves")
    if waves:
        return list(waves)
    if targets is None:
        raise ValidationError("targets: name accounts, OUs or tags", field="targets")
    return [Wave(targets)]


def _selectable(conn: sa.Connection, targets: Targets, exclude: list[str]) -> list[str]:
    """Like ``select_accounts`` but an explicit account need not be active (it may be leaving)."""
    if targets.accounts and not (targets.ous or targets.tags):
        return sorted(set(targets.accounts))
    return select_accounts(conn, targets, exclude=exclude)
