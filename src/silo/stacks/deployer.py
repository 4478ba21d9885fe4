"""``StackDeployer``: plan, check and write stack changes for a batch of accounts in one transaction.

Used by an account's own ``Stacks`` scope (a batch of one) and by the fleet engine (hundreds of
accounts per batch). Every job is planned and checked first; only jobs that pass are written, all
together, with one statement per table. A job that fails writes nothing, so each account's deploy
is all-or-nothing and one account's failure never touches another's resources.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from silo.accounts import AccountContext
from silo.errors import Conflict, NotFound, SiloError, ValidationError
from silo.events.models import Rule
from silo.stacks.actions import actions, facts
from silo.stacks.binding import CodeMap, desired_resources
from silo.stacks.event_resources import EventChanges, LiveEvents, check_events, load_live, missing
from silo.stacks.machines import KIND as STATE_MACHINE
from silo.stacks.machines import LiveMachines, check_machines, load_machines
from silo.stacks.machines import missing as missing_machine
from silo.stacks.models import Change, StackStatus
from silo.stacks.planning import Desired, Recorded, plan
from silo.stacks.state import StackState, existing_functions, load_states, owners, reservations
from silo.stacks.tables import LiveTables, TablePlan, check_tables, load_tables
from silo.stacks.tables import missing as missing_table
from silo.stacks.writer import Writes
from silo.store import utcnow
from silo.templates import RUNNABLE_KINDS, ResolvedTemplate

Authorizer = Callable[[AccountContext, str, Mapping[str, object]], None]
"""Raises (``GuardrailDenied``, ``AccountNotActive`` ...) unless the account may take the action."""


@dataclass(frozen=True, slots=True)
class DeployJob:
    """One stack in one account: what it should become (``resolved`` None means: delete the stack)."""

    context: AccountContext
    stack_name: str
    resolved: ResolvedTemplate | None
    template_sha256: str = ""
    parameters: Mapping[str, Any] = field(default_factory=dict)
    code: CodeMap = field(default_factory=dict)
    concurrency_limit: int = 100
    stack_set: str | None = None
    operation_id: str | None = None
    expect_updated_at: datetime | None = None
    """For a change set: refuse if the stack changed since it was planned."""
    missing_ok: bool = False
    """Deleting a stack that is not there succeeds (a fleet delete may be retried)."""

    @property
    def account_id(self) -> str:
        return self.context.account_id


@dataclass(slots=True)
class DeployOutcome:
    job: DeployJob
    changes: list[Change] = field(default_factory=list)
    error: SiloError | None = None
    existed: bool = False
    functions_changed: list[str] = field(default_factory=list)
    rules_changed: list[Rule] = field(default_factory=list)
    """Rules put (created or updated); with ``rules_removed``, for the schedule timer after commit."""
    rules_removed: list[Rule] = field(default_factory=list)
    event_changes: EventChanges = field(default_factory=EventChanges)
    table_plan: TablePlan = field(default_factory=TablePlan)
    tables_changed: list[str] = field(default_factory=list)
    """Tables created, changed, deleted or released; for the tables engine after commit."""

    @property
    def ok(self) -> bool:
        return self.error is None


class StackDeployer:
    def __init__(self, authorize: Authorizer) -> None:
        self._authorize = authorize

    def preview(self, conn: sa.Connection, job: DeployJob) -> DeployOutcome:
        """Plan and check ``job`` with property-level detail; writes nothing."""
        return self._prepare(conn, [job], detail=True)[0][0]

    def deploy(
        self, conn: sa.Connection, jobs: Sequence[DeployJob], *, detail: bool = False
    ) -> list[DeployOutcome]:
        """Plan, check and write every job that passes, in the caller's transaction."""
        prepared = self._prepare(conn, jobs, detail=detail, lock=True)
        writes = Writes(now=utcnow())
        for outcome, desired, state in prepared:
            if outcome.ok:
                _write(writes, outcome, desired, state)
        writes.flush(conn)
        return [outcome for outcome, _, _ in prepared]

    def _prepare(
        self, conn: sa.Connection, jobs: Sequence[DeployJob], *, detail: bool, lock: bool = False
    ) -> list[tuple[DeployOutcome, list[Desired], StackState]]:
        """``lock``: the stacks' rows stay locked until the transaction ends (PostgreSQL; SQLite's
        writer is alone anyway), so a deploy plans from what the last one wrote, not from before it."""
        prepared: list[tuple[DeployOutcome, list[Desired], StackState]] = []
        by_stack: dict[str, list[DeployJob]] = {}
        for job in jobs:
            by_stack.setdefault(job.stack_name, []).append(job)
        for stack_name, group in by_stack.items():
            accounts = [job.account_id for job in group]
            states = load_states(conn, stack_name, accounts, with_properties=detail, lock=lock)
            planned: list[tuple[DeployOutcome, list[Desired], StackState]] = []
            for job in group:
                state = states[job.account_id]
                outcome = DeployOutcome(job, existed=state.row is not None)
                desired: list[Desired] = []
                try:
                    desired = desired_resources(job.resolved, job.code) if job.resolved else []
                    _check_stack(job, state)
                    outcome.changes = plan(state.resources, desired, detail=detail)
                except SiloError as exc:
                    outcome.error = exc
                planned.append((outcome, desired, state))
            self._check(conn, stack_name, accounts, planned)
            prepared.extend(planned)
        return prepared

    def _check(
        self,
        conn: sa.Connection,
        stack_name: str,
        accounts: list[str],
        planned: list[tuple[DeployOutcome, list[Desired], StackState]],
    ) -> None:
        adds = [c for o, _, _ in planned if o.ok for c in o.changes if c.action == "Add" or c.replacement]
        function_names = [d.physical_name for _, ds, _ in planned for d in ds if d.kind == "function"]
        for _, desired, _ in planned:
            function_names.extend(
                str(d.properties["on_failure"]["function"])
                for d in desired
                if d.kind == "function" and d.properties.get("on_failure")
            )
        existing = existing_functions(conn, accounts, function_names)
        owned = owners(conn, accounts, [c.physical_name for c in adds])
        reserved = (
            reservations(conn, accounts) if any(_reserves(d) for _, ds, _ in planned for d in ds) else {}
        )
        jobs = [(ds, state) for _, ds, state in planned]
        live = load_live(conn, accounts, stack_name, jobs)
        machines = load_machines(conn, accounts, jobs)
        tables = load_tables(conn, accounts, jobs)
        for outcome, desired, state in planned:
            if not outcome.ok:
                continue
            account = outcome.job.account_id
            _recreate_missing(outcome, desired, state, existing.get(account, {}), live, machines, tables)
            try:
                self._check_job(outcome, desired, state, existing, owned, reserved)
                check_machines(account, stack_name, outcome.changes, machines)
                outcome.table_plan = check_tables(
                    account, stack_name, desired, state, outcome.changes, tables
                )
                outcome.event_changes = check_events(
                    account, stack_name, desired, state, outcome.changes, live
                )
            except SiloError as exc:
                outcome.error = exc

    def _check_job(
        self,
        outcome: DeployOutcome,
        desired: list[Desired],
        state: StackState,
        existing: Mapping[str, Mapping[str, int | None]],
        owned: Mapping[tuple[str, str, str], str],
        reserved: Mapping[str, Mapping[str, int]],
    ) -> None:
        job = outcome.job
        account = job.account_id
        verb = (
            "stacks:DeleteStack"
            if job.resolved is None
            else ("stacks:UpdateStack" if state.row else "stacks:CreateStack")
        )
        self._authorize(job.context, verb, {"StackName": job.stack_name})
        mine = {r.physical_name for r in state.resources.values() if r.kind == "function"}
        by_id = {d.logical_id: d for d in desired}
        in_account = existing.get(account, {})
        for change in outcome.changes:
            where = f"Resources.{change.logical_id}"
            if change.action == "Add" or change.replacement:
                owner = owned.get((account, change.kind, change.physical_name))
                if owner is not None and owner != job.stack_name:
                    raise Conflict(
                        f"{where}: {change.kind} {change.physical_name!r} belongs to stack {owner!r}",
                        path=where,
                    )
                if (
                    change.kind == "function"
                    and change.physical_name in in_account
                    and change.physical_name not in mine
                ):
                    raise Conflict(
                        f"{where}: function {change.physical_name!r} already exists in the account "
                        "and is not managed by this stack",
                        path=where,
                    )
            want = by_id.get(change.logical_id)
            seen = facts(account, change, want)
            try:
                for action in actions(change):
                    self._authorize(job.context, action, seen)
            except SiloError as exc:
                exc.message = f"{where}: {exc.message}"
                exc.args = (exc.message,)
                exc.details.setdefault("path", where)
                raise
        names = {d.physical_name for d in desired if d.kind == "function"}
        for d in desired:
            target = d.properties.get("on_failure") if d.kind == "function" else None
            if target and target["function"] not in names and target["function"] not in in_account:
                raise ValidationError(
                    f"Resources.{d.logical_id}.Properties.EventInvokeConfig: on-failure destination "
                    f"{target['function']!r} is not a function of this account",
                    path=f"Resources.{d.logical_id}.Properties.EventInvokeConfig",
                )
        _check_reservations(job, desired, state, reserved.get(account, {}))


def _recreate_missing(
    outcome: DeployOutcome,
    desired: list[Desired],
    state: StackState,
    live: Mapping[str, int | None],
    events: LiveEvents,
    machines: LiveMachines,
    tables: LiveTables,
) -> None:
    """A function, state machine, rule or bus the stack manages but someone deleted is created again
    (the deploy converges); so are state machines, rules that start them, and tables, recorded
    before they ran."""
    planned = {c.logical_id: i for i, c in enumerate(outcome.changes)}
    account = outcome.job.account_id
    for d in desired:
        if d.logical_id not in state.resources:
            continue
        if d.kind == "function":
            if d.physical_name in live:
                continue
            note = "(deleted outside the stack)"
        elif (
            missing(account, d, events)
            or missing_machine(account, d, machines)
            or missing_table(account, d, tables)
        ):
            note = "(missing from the account)"
        else:
            continue
        gone = Change("Modify", d.logical_id, d.type, d.kind, d.physical_name, True, (note,))
        index = planned.get(d.logical_id)
        if index is None:
            outcome.changes.append(gone)
        else:
            old = outcome.changes[index]
            outcome.changes[index] = Change(
                "Modify",
                d.logical_id,
                d.type,
                d.kind,
                d.physical_name,
                True,
                (*old.properties, *gone.properties),
            )


def _check_stack(job: DeployJob, state: StackState) -> None:
    row = state.row
    if row is None:
        if job.resolved is None and not job.missing_ok:
            raise NotFound(f"stack not found: {job.stack_name}", stack=job.stack_name)
        return
    if row["stack_set"] != job.stack_set:
        manager = row["stack_set"]
        raise Conflict(
            f"stack {job.stack_name!r} is managed by stack set {manager!r}; change it there"
            if manager
            else f"stack {job.stack_name!r} already exists and is not managed by stack set {job.stack_set!r}",
            stack=job.stack_name,
        )
    if job.expect_updated_at is not None and row["updated_at"] != job.expect_updated_at:
        raise Conflict(
            f"stack {job.stack_name!r} changed after the change set was made; create a new change set",
            stack=job.stack_name,
        )


def _reserves(d: Desired) -> bool:
    return d.kind == "function" and d.properties.get("reserved_concurrency") is not None


def _check_reservations(
    job: DeployJob, desired: list[Desired], state: StackState, current: Mapping[str, int]
) -> None:
    if not any(_reserves(d) for d in desired):
        return
    mine = {r.physical_name for r in state.resources.values() if r.kind == "function"}
    others = sum(v for name, v in current.items() if name not in mine)
    wanted = sum(int(d.properties["reserved_concurrency"]) for d in desired if _reserves(d))
    limit = job.concurrency_limit
    keep = max(1, limit // 10)
    if others + wanted > limit - keep:
        raise ValidationError(
            f"ReservedConcurrentExecutions: the stack reserves {wanted} and other functions {others} of the "
            f"account's {limit}; at least {keep} must stay unreserved",
            path="Resources",
        )


def _write(writes: Writes, outcome: DeployOutcome, desired: list[Desired], state: StackState) -> None:
    job = outcome.job
    account, stack = job.account_id, job.stack_name
    by_id = {d.logical_id: d for d in desired}
    # A fleet operation records one stack-level event per account (with the counts) instead of one
    # per resource: a 1,000,000-function rollout would otherwise write a million event rows, and
    # the operation's per-account status and management events already tell the story.
    per_resource = job.operation_id is None
    for change in outcome.changes:
        if change.action == "Remove" or change.replacement:
            old = state.resources[change.logical_id]
            if old.kind == "function":
                writes.remove_function(account, old.physical_name)
                outcome.functions_changed.append(old.physical_name)
            elif old.kind == STATE_MACHINE and (change.action == "Remove" or _renamed(old, change)):
                writes.machine_rows.remove(account, stack, old.physical_name)
            if change.action == "Remove":
                writes.remove_resource(account, stack, change.logical_id)
                if per_resource:
                    writes.event(account, stack, change.logical_id, change.type, "DELETE_COMPLETE")
                continue
        want = by_id[change.logical_id]
        revision: str | None = None
        if want.kind == "function":
            adding = change.action == "Add" or change.replacement
            revision = writes.add_function(account, want) if adding else writes.update_function(account, want)
            outcome.functions_changed.append(want.physical_name)
        elif want.kind == STATE_MACHINE:
            revision = writes.machine_rows.put(account, stack, want, writes.now)
        runnable = want.kind in RUNNABLE_KINDS
        status = (
            "NOT_RUNNABLE"
            if not runnable
            else ("CREATE_COMPLETE" if change.action == "Add" else "UPDATE_COMPLETE")
        )
        if change.action == "Add":
            writes.add_resource(account, stack, want, revision, status)
        else:
            writes.update_resource(account, stack, want, revision, status)
        if per_resource:
            reason = "" if runnable else "not runnable yet: recorded only"
            writes.event(
                account, stack, change.logical_id, change.type, f"{change.action.upper()}_COMPLETE", reason
            )
    outcome.rules_changed, outcome.rules_removed = outcome.event_changes.write(
        writes.event_rows, account, stack, writes.now
    )
    writes.table_rows.add(job.context, stack, outcome.table_plan)
    outcome.tables_changed = outcome.table_plan.names()
    if job.resolved is None:
        if outcome.existed:
            writes.remove_stack(account, stack)
        return
    status = StackStatus.UPDATE_COMPLETE if state.row else StackStatus.CREATE_COMPLETE
    values: dict[str, Any] = {
        "status": status.value,
        "status_reason": "",
        "template_sha256": job.template_sha256,
        "parameters": dict(job.parameters),
        "code": job.code,
        "outputs": outputs_of(job.resolved),
        "description": job.resolved.description[:1024],
        "stack_set": job.stack_set,
        "operation_id": job.operation_id,
        "updated_at": writes.now,
    }
    if state.row is None:
        values["stack_id"] = stack_id(account, stack)
    writes.put_stack(account, stack, values, exists=state.row is not None)
    writes.event(account, stack, stack, "Silo::Stack", status.value, _summary(outcome))


def _renamed(old: Recorded, change: Change) -> bool:
    """A replacement that gives the resource another name or kind (the old one must go)."""
    return old.physical_name != change.physical_name or old.kind != change.kind


def _summary(outcome: DeployOutcome) -> str:
    counts = Counter(c.action for c in outcome.changes)
    text = f"{len(outcome.changes)} resource changes"
    if counts:
        text += " (" + ", ".join(f"{action} {n}" for action, n in sorted(counts.items())) + ")"
    if outcome.job.operation_id:
        text += f" by stack set operation {outcome.job.operation_id}"
    return text


def outputs_of(resolved: ResolvedTemplate) -> dict[str, Any]:
    return {
        o.name: {"value": o.value, "description": o.description, "export_name": o.export_name}
        for o in resolved.outputs.values()
    }


def stack_id(account: str, stack: str) -> str:
    unique = uuid.uuid5(uuid.NAMESPACE_URL, f"silo:{account}:{stack}")
    return f"arn:silo:cloudformation:local:{account}:stack/{stack}/{unique}"
