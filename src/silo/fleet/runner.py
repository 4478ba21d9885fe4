"""``OperationRunner``: moves one stack set operation forward, one batch of accounts per step.

Every step is its own transaction: a batch's deploys and the targets' new statuses commit together,
so a crash loses at most the batch in flight, which a later step (on any node) does again; finished
accounts are never redone and none is skipped. Targets marked RUNNING by an owner that lost its lease
go back to PENDING when another owner takes the operation.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa

from silo.accounts import AccountContext
from silo.errors import SiloError
from silo.fleet import repository as repo
from silo.fleet.events import INSTANCE_CHANGED, OPERATION_CHANGED, WAVE_COMPLETED, EventBatch, Publish
from silo.fleet.faults import FaultInjector, TransientDeployError, backoff
from silo.fleet.models import InstanceStatus, OperationAction, OperationStatus, Preferences, TargetStatus
from silo.stacks import DeployJob, DeployOutcome, StackDeployer, StacksEngine
from silo.store import Store, utcnow
from silo.store.schema import fleet_operation_targets, fleet_stack_instances, stacks
from silo.templates import Resolutions, ResolvedTemplate, Template, prepare

log = logging.getLogger(__name__)

BATCH_CAP = 500
RESOLUTIONS_CACHED = 32
_TRANSIENT = (TransientDeployError, sa.exc.OperationalError, sa.exc.InterfaceError)

_SET_TARGET = (
    sa.update(fleet_operation_targets)
    .where(
        fleet_operation_targets.c.operation_id == sa.bindparam("b_op"),
        fleet_operation_targets.c.account_id == sa.bindparam("b_account"),
    )
    .values(
        status=sa.bindparam("status"),
        attempts=sa.bindparam("attempts"),
        next_attempt_at=sa.bindparam("next_attempt_at"),
        reason=sa.bindparam("reason"),
        updated_at=sa.bindparam("updated_at"),
    )
)
_SET_INSTANCE = (
    sa.update(fleet_stack_instances)
    .where(
        fleet_stack_instances.c.stack_set == sa.bindparam("b_set"),
        fleet_stack_instances.c.account_id == sa.bindparam("b_account"),
    )
    .values(
        status=sa.bindparam("status"),
        status_reason=sa.bindparam("status_reason"),
        version=sa.bindparam("version"),
        operation_id=sa.bindparam("operation_id"),
        updated_at=sa.bindparam("updated_at"),
    )
)


class AccountGate(Protocol):
    """What the runner needs from the platform to act inside target accounts."""

    def context(self, account: str) -> AccountContext: ...

    def authorize(self, context: AccountContext, action: str, facts: Mapping[str, object]) -> None: ...

    def concurrency_limit(self, account: str) -> int: ...

    def prefetch(self, accounts: list[str]) -> None: ...


@dataclass(frozen=True, slots=True)
class Result:
    account: str
    status: TargetStatus
    attempts: int
    reason: str = ""
    retry_at: datetime | None = None


class OperationRunner:
    def __init__(
        self,
        store: Store,
        stacks_engine: StacksEngine,
        gate: AccountGate,
        *,
        owner: str,
        lease: timedelta,
        faults: FaultInjector | None = None,
        on_finished: Callable[[str], None] | None = None,
        publish: Publish | None = None,
    ) -> None:
        self._store = store
        self._publish = publish
        self._stacks = stacks_engine
        self._gate = gate
        self._deployer = StackDeployer(gate.authorize)
        self.owner = owner
        self._lease = lease
        self._faults = faults or FaultInjector()
        self._on_finished = on_finished
        # (template sha256, parameters as canonical JSON, stack name) -> the template prepared for them:
        # accounts with the same parameters share everything that does not depend on the account.
        self._resolutions: OrderedDict[tuple[str, str, str], Resolutions] = OrderedDict()
        self._resolutions_lock = threading.Lock()

    def step(self, operation_id: str) -> float | None:
        """Advance the operation; returns None when it is finished (or not ours), else seconds until
        the next step is useful (0: at once)."""
        now = utcnow()
        with self._store.write() as conn:
            op = repo.operation_row(conn, operation_id, lock=True)
            previous_owner = op["owner"]
            if not repo.claim(conn, operation_id, self.owner, now, now + self._lease):
                return None
            if previous_owner != self.owner:
                conn.execute(
                    sa.update(fleet_operation_targets)
                    .where(
                        fleet_operation_targets.c.operation_id == operation_id,
                        fleet_operation_targets.c.status == TargetStatus.RUNNING.value,
                    )
                    .values(status=TargetStatus.PENDING.value, updated_at=now)
                )
            plan = self._next(conn, op, now)
        if isinstance(plan, list):
            self._deploy(op, plan)
            return 0.0
        return plan

    # --- deciding the next move ----------------------------------------------------------------
    def _next(
        self, conn: sa.Connection, op: dict[str, Any], now: datetime
    ) -> float | list[tuple[str, int]] | None:
        operation_id = op["operation_id"]
        events = EventBatch(now, self._publish)
        status = OperationStatus(op["status"])
        if status is OperationStatus.QUEUED:
            repo.update_operation(conn, operation_id, status=OperationStatus.RUNNING.value, started_at=now)
            events.add(OPERATION_CHANGED, _op_detail(op, OperationStatus.RUNNING))
            events.flush(conn)
        if status is OperationStatus.STOPPING:
            return self._finish(conn, op, OperationStatus.STOPPED, "stopped on request", now)
        prefs = Preferences.from_dict(op["preferences"]["preferences"])
        waves_meta = op["preferences"]["waves"]
        counts = repo.counts(conn, operation_id)
        total = sum(counts.values())
        failed = sum(n for (_, s), n in counts.items() if s == TargetStatus.FAILED.value)
        tolerance = prefs.failure_tolerance.of(total, at_least=0)
        if failed > tolerance:
            return self._finish(
                conn,
                op,
                OperationStatus.FAILED,
                f"{failed} accounts failed, over the tolerance of {tolerance}",
                now,
            )
        wave = op["current_wave"]
        in_wave = {s: n for (w, s), n in counts.items() if w == wave}
        open_in_wave = in_wave.get(TargetStatus.PENDING.value, 0) + in_wave.get(TargetStatus.RUNNING.value, 0)
        if open_in_wave == 0:
            return self._wave_done(conn, op, waves_meta, in_wave, now)
        wave_total = sum(in_wave.values())
        size = prefs.max_concurrent.of(wave_total, at_least=1)
        if prefs.concurrency_mode == "strict":
            size = min(size, tolerance + 1 - failed)
        size = max(1, min(size, BATCH_CAP))
        T = fleet_operation_targets  # noqa: N806
        ready = conn.execute(
            sa.select(T.c.account_id, T.c.attempts)
            .where(
                T.c.operation_id == operation_id,
                T.c.wave == wave,
                T.c.status == TargetStatus.PENDING.value,
                sa.or_(T.c.next_attempt_at.is_(None), T.c.next_attempt_at <= now),
            )
            .order_by(T.c.account_id)
            .limit(size)
        ).all()
        if not ready:
            due = conn.execute(
                sa.select(sa.func.min(T.c.next_attempt_at)).where(
                    T.c.operation_id == operation_id,
                    T.c.wave == wave,
                    T.c.status == TargetStatus.PENDING.value,
                )
            ).scalar()
            return max(0.0, (due - now).total_seconds()) if due is not None else 0.0
        batch = [(a, int(n)) for a, n in ready]
        repo.set_targets(conn, operation_id, [a for a, _ in batch], TargetStatus.RUNNING, now)
        return batch

    def _wave_done(
        self,
        conn: sa.Connection,
        op: dict[str, Any],
        waves_meta: list[dict[str, Any]],
        in_wave: dict[str, int],
        now: datetime,
    ) -> float | None:
        operation_id = op["operation_id"]
        wave = op["current_wave"]
        meta = waves_meta[wave] if wave < len(waves_meta) else {}
        wave_failed = in_wave.get(TargetStatus.FAILED.value, 0)
        last = wave >= op["waves"] - 1
        if op["wave_done_at"] is None:
            events = EventBatch(now, self._publish)
            events.add(
                WAVE_COMPLETED,
                {**_op_detail(op, OperationStatus.RUNNING), "wave": wave, "failed": wave_failed},
            )
            events.flush(conn)
            repo.update_operation(conn, operation_id, wave_done_at=now)
            op["wave_done_at"] = now
        if wave_failed and meta.get("halt_on_failure", True) and not last:
            name = meta.get("name") or f"wave {wave + 1}"
            return self._finish(
                conn, op, OperationStatus.FAILED, f"{name} had {wave_failed} failed accounts: halted", now
            )
        if last:
            return self._finish(conn, op, OperationStatus.SUCCEEDED, "", now)
        soak_until = op["wave_done_at"] + timedelta(seconds=float(meta.get("soak_seconds", 0)))
        if now < soak_until:
            return float((soak_until - now).total_seconds())
        repo.update_operation(conn, operation_id, current_wave=wave + 1, wave_done_at=None)
        return 0.0

    def _finish(
        self, conn: sa.Connection, op: dict[str, Any], status: OperationStatus, reason: str, now: datetime
    ) -> float | None:
        """End the operation; returns None (nothing more to do) for the callers' convenience."""
        operation_id = op["operation_id"]
        cancelled = repo.cancel_pending(conn, operation_id, reason or status.value.lower(), now)
        repo.update_operation(
            conn,
            operation_id,
            status=status.value,
            status_reason=reason,
            ended_at=now,
            owner=None,
            lease_until=None,
        )
        events = EventBatch(now, self._publish)
        events.add(
            OPERATION_CHANGED, {**_op_detail(op, status), "reason": reason, "cancelled": len(cancelled)}
        )
        events.flush(conn)
        if self._on_finished is not None:
            self._on_finished(operation_id)
        return None

    # --- one batch -----------------------------------------------------------------------------
    def _deploy(self, op: dict[str, Any], batch: list[tuple[str, int]]) -> None:
        action = OperationAction(op["action"])
        stack_set = op["stack_set"]
        retain = bool(op["spec"].get("retain_stacks"))
        results: dict[str, Result] = {}
        accounts = [a for a, _ in batch]
        attempts = dict(batch)
        jobs = self._jobs(op, attempts, results)
        changed: list[DeployOutcome] = []
        try:
            with self._store.write() as conn:
                if retain and action is OperationAction.DELETE:
                    self._detach(conn, stack_set, [j.account_id for j in jobs])
                    outcomes = []
                    for job in jobs:
                        results[job.account_id] = Result(
                            job.account_id, TargetStatus.SUCCEEDED, attempts[job.account_id] + 1
                        )
                else:
                    outcomes = self._deployer.deploy(conn, jobs)
                for outcome in outcomes:
                    account = outcome.job.account_id
                    attempt = attempts[account] + 1
                    if outcome.error is None:
                        results[account] = Result(account, TargetStatus.SUCCEEDED, attempt)
                        changed.append(outcome)
                    else:
                        results[account] = Result(
                            account, TargetStatus.FAILED, attempt, outcome.error.message
                        )
                self._record(conn, op, action, list(results.values()))
        except _TRANSIENT as exc:
            log.warning("fleet batch of %d accounts hit a transient error: %s", len(accounts), exc)
            with self._store.write() as conn:
                self._record(
                    conn, op, action, [self._retry(op, a, attempts[a] + 1, str(exc)[:500]) for a in accounts]
                )
            return
        for outcome in changed:
            self._stacks.committed(outcome)

    def _jobs(
        self, op: dict[str, Any], attempts: dict[str, int], results: dict[str, Result]
    ) -> list[DeployJob]:
        """A deploy job per account of the batch; faults and resolution errors go to ``results``."""
        operation_id, stack_set, spec = op["operation_id"], op["stack_set"], op["spec"]
        accounts = list(attempts)
        self._gate.prefetch(accounts)
        with self._store.read() as conn:
            overrides = _overrides(conn, stack_set, accounts)
            template = (
                self._stacks.template(conn, spec["template_sha256"])
                if op["action"] != OperationAction.DELETE.value
                else None
            )
        jobs: list[DeployJob] = []
        for account in accounts:
            attempt = attempts[account] + 1
            fault = self._faults.check(operation_id, account, attempt)
            if fault == "permanent":
                results[account] = Result(account, TargetStatus.FAILED, attempt, "injected permanent fault")
                continue
            if fault == "transient":
                results[account] = self._retry(op, account, attempt, "injected transient fault")
                continue
            try:
                resolved = None
                if template is not None:
                    params = {**spec["parameters"], **overrides.get(account, {})}
                    resolved = self._resolve(template, params, account, stack_set)
                jobs.append(
                    DeployJob(
                        context=self._gate.context(account),
                        stack_name=stack_set,
                        resolved=resolved,
                        template_sha256=spec.get("template_sha256", ""),
                        parameters=resolved.parameters if resolved else {},
                        code=spec.get("code", {}),
                        concurrency_limit=self._gate.concurrency_limit(account),
                        stack_set=stack_set,
                        operation_id=operation_id,
                        missing_ok=True,
                    )
                )
            except SiloError as exc:
                results[account] = Result(account, TargetStatus.FAILED, attempt, exc.message)
        return jobs

    def _resolve(
        self, template: Template, parameters: dict[str, Any], account: str, stack_name: str
    ) -> ResolvedTemplate:
        """``resolve(template, parameters, account_id=account, stack_name=stack_name)``, through a
        :class:`Resolutions` kept for the (template, parameters, stack name)."""
        try:
            canonical = json.dumps(parameters, sort_keys=True, separators=(",", ":"))
        except (TypeError, ValueError):  # not JSON: prepare() reports what is wrong with it
            return prepare(template, parameters, stack_name=stack_name).for_account(account)
        key = (template.sha256, canonical, stack_name)
        with self._resolutions_lock:
            found = self._resolutions.get(key)
            if found is not None:
                self._resolutions.move_to_end(key)
        if found is None:
            found = prepare(template, parameters, stack_name=stack_name)
            with self._resolutions_lock:
                self._resolutions[key] = found
                if len(self._resolutions) > RESOLUTIONS_CACHED:
                    self._resolutions.popitem(last=False)
        return found.for_account(account)

    def _retry(self, op: dict[str, Any], account: str, attempt: int, reason: str) -> Result:
        prefs = Preferences.from_dict(op["preferences"]["preferences"])
        if attempt >= prefs.max_attempts:
            return Result(
                account, TargetStatus.FAILED, attempt, f"gave up after {attempt} attempts: {reason}"
            )
        delay = backoff(attempt, prefs.retry_base_seconds, prefs.retry_max_seconds)
        return Result(account, TargetStatus.PENDING, attempt, reason, utcnow() + timedelta(seconds=delay))

    def _detach(self, conn: sa.Connection, stack_set: str, accounts: list[str]) -> None:
        if accounts:
            conn.execute(
                sa.update(stacks)
                .where(
                    stacks.c.account_id.in_(accounts),
                    stacks.c.name == stack_set,
                    stacks.c.stack_set == stack_set,
                )
                .values(stack_set=None, updated_at=utcnow())
            )

    def _record(
        self, conn: sa.Connection, op: dict[str, Any], action: OperationAction, results: list[Result]
    ) -> None:
        now = utcnow()
        operation_id, stack_set, version = op["operation_id"], op["stack_set"], op["version"]
        conn.execute(
            _SET_TARGET,
            [
                {
                    "b_op": operation_id,
                    "b_account": r.account,
                    "status": r.status.value,
                    "attempts": r.attempts,
                    "next_attempt_at": r.retry_at,
                    "reason": r.reason,
                    "updated_at": now,
                }
                for r in results
            ],
        )
        final = [r for r in results if r.status is not TargetStatus.PENDING]
        deleted = [
            r.account
            for r in final
            if action is OperationAction.DELETE and r.status is TargetStatus.SUCCEEDED
        ]
        instance_rows = [
            {
                "b_set": stack_set,
                "b_account": r.account,
                "status": _instance_status(action, r.status).value,
                "status_reason": r.reason,
                "version": version
                if r.status is TargetStatus.SUCCEEDED
                else _keep_version(conn, stack_set, r.account),
                "operation_id": operation_id,
                "updated_at": now,
            }
            for r in final
            if r.account not in deleted
        ]
        if instance_rows:
            conn.execute(_SET_INSTANCE, instance_rows)
        for start in range(0, len(deleted), 500):
            conn.execute(
                sa.delete(fleet_stack_instances).where(
                    fleet_stack_instances.c.stack_set == stack_set,
                    fleet_stack_instances.c.account_id.in_(deleted[start : start + 500]),
                )
            )
        events = EventBatch(now, self._publish)
        for r in final:
            events.add(
                INSTANCE_CHANGED,
                {
                    "stack_set": stack_set,
                    "operation_id": operation_id,
                    "account": r.account,
                    "status": r.status.value,
                    "reason": r.reason,
                },
            )
        events.flush(conn)
        repo.update_operation(conn, operation_id, lease_until=now + self._lease)


def _instance_status(action: OperationAction, status: TargetStatus) -> InstanceStatus:
    if status is TargetStatus.SUCCEEDED:
        return InstanceStatus.CURRENT
    return InstanceStatus.INOPERABLE if action is OperationAction.DELETE else InstanceStatus.OUTDATED


def _keep_version(conn: sa.Connection, stack_set: str, account: str) -> int:
    value = conn.execute(
        sa.select(fleet_stack_instances.c.version).where(
            fleet_stack_instances.c.stack_set == stack_set, fleet_stack_instances.c.account_id == account
        )
    ).scalar()
    return int(value or 0)


def _overrides(conn: sa.Connection, stack_set: str, accounts: list[str]) -> dict[str, dict[str, Any]]:
    I = fleet_stack_instances  # noqa: E741, N806
    rows = conn.execute(
        sa.select(I.c.account_id, I.c.overrides).where(
            I.c.stack_set == stack_set, I.c.account_id.in_(accounts)
        )
    )
    return {a: o for a, o in rows if o}


def _op_detail(op: dict[str, Any], status: OperationStatus) -> dict[str, Any]:
    return {
        "stack_set": op["stack_set"],
        "operation_id": op["operation_id"],
        "action": op["action"],
        "status": status.value,
    }
