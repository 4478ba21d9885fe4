"""``Fleet``: stack sets, their instances in many accounts, and the operations that roll them out.

Reached from the management plane only (``platform.management(principal).fleet``). Creating an
operation only writes rows and pokes the worker; the worker does the deploys.

``Fleet`` holds the transactions and pokes the worker; what a change writes inside its
transaction lives in ``stack_sets``, ``instances``, ``auto_deployment`` and ``queueing``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from silo.errors import Conflict
from silo.fleet import auto_deployment, instances, stack_sets
from silo.fleet import repository as repo
from silo.fleet.events import recent
from silo.fleet.models import (
    AutoDeployment,
    Operation,
    OperationStatus,
    Preferences,
    StackInstance,
    StackSet,
    Targets,
    Wave,
    parse_statuses,
)
from silo.fleet.queueing import waves_of
from silo.fleet.tracking import Progress, progress
from silo.fleet.worker import FleetWorker
from silo.stacks import StacksEngine, check_stack_name
from silo.store import Store, utcnow
from silo.store.pages import Page
from silo.store.schema import fleet_operation_targets, fleet_stack_sets


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
        prepared = stack_sets.prepare(name, body, dict(parameters or {}), code or {})
        auto = AutoDeployment(auto_deployment, retain_stacks_on_removal)
        with self._store.write() as conn:
            return stack_sets.create(conn, self._stacks, name, prepared, description, auto)

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
        prepared = stack_sets.prepare(name, body, params, code or {}, known=row["code"])
        with self._store.write() as conn:
            operation = stack_sets.update(
                conn, self._stacks, name, prepared, description, preferences, waves, self._exclude
            )
        self._worker.poke()
        return operation

    def delete_stack_set(self, name: str) -> None:
        with self._store.write() as conn:
            stack_sets.delete(conn, name)

    # Descriptions of stack sets and instances mask NoEcho parameter values (as DescribeStackSet and
    # DescribeStackInstance do); the rows keep the real ones, which operations deploy and merge.
    def get_stack_set(self, name: str) -> StackSet:
        with self._store.read() as conn:
            return stack_sets.shown(
                conn, self._stacks, repo.stack_set_from_row(repo.stack_set_row(conn, name))
            )

    def list_stack_sets(self) -> list[StackSet]:
        with self._store.read() as conn:
            rows = conn.execute(
                sa.select(fleet_stack_sets)
                .where(fleet_stack_sets.c.status != "DELETED")
                .order_by(fleet_stack_sets.c.name)
            ).mappings()
            return [stack_sets.shown(conn, self._stacks, repo.stack_set_from_row(r)) for r in rows]

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
        waves = waves_of(targets, waves)
        now = utcnow()
        with self._store.write() as conn:
            operation = instances.create(conn, name, waves, overrides, preferences, self._exclude, now)
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
            operation = instances.update(conn, name, targets, overrides, preferences, self._exclude)
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
            operation = instances.delete(conn, name, targets, retain_stacks, preferences, self._exclude)
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
        with self._store.write() as conn:
            queued = auto_deployment.place(conn, ids)
        if queued:
            self._worker.poke()
        return queued

    def _exclude(self) -> list[str]:
        management = self._management_account()
        return [management] if management else []
