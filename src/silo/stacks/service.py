"""``Stacks``: one account's stacks, reached as ``platform.account(principal).stacks``."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa

from silo.accounts import AccountContext, AccountGuard
from silo.errors import Conflict, SiloError
from silo.stacks.binding import package_code
from silo.stacks.deployer import DeployJob, DeployOutcome, StackDeployer
from silo.stacks.drift import detect_drift
from silo.stacks.engine import StacksEngine
from silo.stacks.models import (
    Change,
    ChangeSet,
    ChangeSetStatus,
    Drift,
    Stack,
    StackEvent,
    StackResource,
    StackStatus,
    check_change_set_name,
    check_stack_name,
)
from silo.stacks.repository import StackRepository, change_set_from_row
from silo.stacks.writer import Writes
from silo.store import utcnow
from silo.store.pages import Page
from silo.templates import ResolvedTemplate, load_template, resolve


@dataclass(frozen=True, slots=True)
class Deployed:
    stack: Stack | None
    """None after a delete."""
    changes: tuple[Change, ...]


class Stacks:
    def __init__(self, guard: AccountGuard, engine: StacksEngine) -> None:
        self._guard = guard
        self._engine = engine
        self._repo = StackRepository(guard.context)
        self._deployer = StackDeployer(lambda _ctx, action, facts: self._authorize(action, facts))

    @property
    def context(self) -> AccountContext:
        return self._guard.context

    def _authorize(self, action: str, facts: Mapping[str, object]) -> None:
        self._guard.authorize(action, facts)

    # --- templates ---------------------------------------------------------------------------
    def validate(
        self, body: str, parameters: Mapping[str, Any] | None = None, stack_name: str = "validate"
    ) -> ResolvedTemplate:
        """Load and resolve ``body`` for this account; raises ``TemplateError`` naming the path."""
        self._guard.authorize("stacks:ValidateTemplate", write=False)
        return resolve(
            load_template(body),
            dict(parameters or {}),
            account_id=self.context.account_id,
            stack_name=stack_name,
        )

    # --- deploys -----------------------------------------------------------------------------
    def deploy(
        self,
        stack_name: str,
        body: str,
        *,
        parameters: Mapping[str, Any] | None = None,
        code: Mapping[str, bytes] | None = None,
    ) -> Deployed:
        """Create or update ``stack_name`` to ``body`` at once (a change set made and executed)."""
        check_stack_name(stack_name)
        account = self._guard.authorize("stacks:Deploy", {"StackName": stack_name})
        resolved = self._resolve(body, parameters, stack_name)
        codes, archives = package_code(resolved, code or {})
        with self._engine.store.write() as conn:
            sha = self._engine.put_template(conn, body)
            self._engine.put_code(conn, archives)
        job = DeployJob(
            context=self.context,
            stack_name=stack_name,
            resolved=resolved,
            template_sha256=sha,
            parameters=resolved.parameters,
            code=codes,
            concurrency_limit=account.concurrency_limit,
        )
        return self._run(job)

    def create_change_set(
        self,
        stack_name: str,
        change_set: str,
        body: str,
        *,
        parameters: Mapping[str, Any] | None = None,
        code: Mapping[str, bytes] | None = None,
    ) -> ChangeSet:
        """Plan (and check) a deploy without applying it; ``execute_change_set`` applies exactly this."""
        check_stack_name(stack_name)
        check_change_set_name(change_set)
        account = self._guard.authorize("stacks:CreateChangeSet", {"StackName": stack_name})
        resolved = self._resolve(body, parameters, stack_name)
        codes, archives = package_code(resolved, code or {})
        with self._engine.store.write() as conn:
            sha = self._engine.put_template(conn, body)
            self._engine.put_code(conn, archives)
            row = self._repo.row(conn, stack_name)
            job = DeployJob(
                context=self.context,
                stack_name=stack_name,
                resolved=resolved,
                template_sha256=sha,
                parameters=resolved.parameters,
                code=codes,
                concurrency_limit=account.concurrency_limit,
                stack_set=row["stack_set"] if row else None,
            )
            outcome = self._deployer.preview(conn, job)
            if outcome.error is not None:
                raise outcome.error
            if row is not None and row["stack_set"]:
                raise Conflict(
                    f"stack {stack_name!r} is managed by stack set {row['stack_set']!r}; change it there"
                )
            values = {
                "stack_name": stack_name,
                "name": change_set,
                "status": ChangeSetStatus.CREATE_COMPLETE.value,
                "template_sha256": sha,
                "parameters": resolved.parameters,
                "code": job.code,
                "base_updated_at": row["updated_at"] if row else None,
                "changes": [c.to_dict() for c in outcome.changes],
                "created_at": utcnow(),
                "executed_at": None,
            }
            self._repo.put_change_set(conn, values)
            return self._shown_change_set(conn, change_set_from_row(values))

    def describe_change_set(self, stack_name: str, change_set: str) -> ChangeSet:
        self._guard.authorize("stacks:DescribeChangeSet", write=False)
        with self._engine.store.read() as conn:
            found = change_set_from_row(self._repo.change_set_row(conn, stack_name, change_set))
            return self._shown_change_set(conn, found)

    def list_change_sets(self, stack_name: str) -> builtins.list[ChangeSet]:
        self._guard.authorize("stacks:ListChangeSets", write=False)
        with self._engine.store.read() as conn:
            return [self._shown_change_set(conn, c) for c in self._repo.change_sets(conn, stack_name)]

    def execute_change_set(self, stack_name: str, change_set: str) -> Deployed:
        account = self._guard.authorize("stacks:ExecuteChangeSet", {"StackName": stack_name})
        with self._engine.store.read() as conn:
            row = self._repo.change_set_row(conn, stack_name, change_set)
            template = self._engine.template(conn, row["template_sha256"])
        if row["status"] != ChangeSetStatus.CREATE_COMPLETE.value:
            raise Conflict(f"change set {change_set!r} is {row['status']}; only a new one can be executed")
        resolved = resolve(
            template, row["parameters"], account_id=self.context.account_id, stack_name=stack_name
        )
        job = DeployJob(
            context=self.context,
            stack_name=stack_name,
            resolved=resolved,
            template_sha256=row["template_sha256"],
            parameters=row["parameters"],
            code=row["code"],
            concurrency_limit=account.concurrency_limit,
            expect_updated_at=row["base_updated_at"],
        )
        try:
            deployed = self._run(job, expect_new=row["base_updated_at"] is None)
        except SiloError:
            with self._engine.store.write() as conn:
                self._repo.set_change_set_status(
                    conn, stack_name, change_set, ChangeSetStatus.EXECUTE_FAILED, utcnow()
                )
            raise
        with self._engine.store.write() as conn:
            self._repo.set_change_set_status(
                conn, stack_name, change_set, ChangeSetStatus.EXECUTE_COMPLETE, utcnow()
            )
        return deployed

    def delete(self, stack_name: str) -> None:
        """Delete the stack and every resource it manages (a stack set's stacks: only from the set)."""
        account = self._guard.authorize("stacks:DeleteStack", {"StackName": stack_name})
        job = DeployJob(
            context=self.context,
            stack_name=stack_name,
            resolved=None,
            concurrency_limit=account.concurrency_limit,
        )
        self._run(job)

    def _run(self, job: DeployJob, *, expect_new: bool = False) -> Deployed:
        with self._engine.store.write() as conn:
            if expect_new and self._repo.row(conn, job.stack_name) is not None:
                raise Conflict(f"stack {job.stack_name!r} was created after the change set was made")
            outcome = self._deployer.deploy(conn, [job], detail=True)[0]
        if outcome.error is not None:
            self._record_failure(outcome)
            raise outcome.error
        self._engine.committed(outcome)
        if job.resolved is None:
            return Deployed(None, tuple(outcome.changes))
        return Deployed(self.get(job.stack_name), tuple(outcome.changes))

    def _record_failure(self, outcome: DeployOutcome) -> None:
        """The deploy wrote nothing; say why on the stack (if there is one) and in its events."""
        if not outcome.existed:
            return
        assert outcome.error is not None
        stack = outcome.job.stack_name
        now = utcnow()
        writes = Writes(now=now)
        failed = "DELETE_FAILED" if outcome.job.resolved is None else "UPDATE_FAILED"
        writes.event(self.context.account_id, stack, stack, "Silo::Stack", failed, outcome.error.message)
        with self._engine.store.write() as conn:
            if outcome.job.resolved is not None:
                self._repo.mark_failed(
                    conn, stack, StackStatus.UPDATE_ROLLBACK_COMPLETE, outcome.error.message, now
                )
            writes.flush(conn)

    def _resolve(self, body: str, parameters: Mapping[str, Any] | None, stack_name: str) -> ResolvedTemplate:
        return resolve(
            load_template(body),
            dict(parameters or {}),
            account_id=self.context.account_id,
            stack_name=stack_name,
        )

    # --- reads -------------------------------------------------------------------------------
    # Descriptions mask NoEcho parameter values (as CloudFormation's DescribeStacks and
    # DescribeChangeSet do); the rows keep the real ones, which deploys and change sets use.
    def get(self, stack_name: str) -> Stack:
        self._guard.authorize("stacks:DescribeStack", write=False)
        with self._engine.store.read() as conn:
            return self._shown_stack(conn, self._repo.get(conn, stack_name))

    def list(self, *, limit: int | None = None, next_token: str | None = None) -> Page[Stack]:
        self._guard.authorize("stacks:ListStacks", write=False)
        with self._engine.store.read() as conn:
            page = self._repo.find(conn, limit, next_token)
            return Page([self._shown_stack(conn, s) for s in page.items], page.next_token)

    def _shown_stack(self, conn: sa.Connection, stack: Stack) -> Stack:
        shown = self._engine.shown_parameters(conn, stack.template_sha256, stack.parameters)
        return replace(stack, parameters=shown)

    def _shown_change_set(self, conn: sa.Connection, change_set: ChangeSet) -> ChangeSet:
        shown = self._engine.shown_parameters(conn, change_set.template_sha256, change_set.parameters)
        return replace(change_set, parameters=shown)

    def resources(self, stack_name: str) -> builtins.list[StackResource]:
        self._guard.authorize("stacks:ListStackResources", write=False)
        with self._engine.store.read() as conn:
            self._repo.get(conn, stack_name)
            return self._repo.resources(conn, stack_name)

    def events(
        self, stack_name: str, *, limit: int | None = None, next_token: str | None = None
    ) -> Page[StackEvent]:
        self._guard.authorize("stacks:DescribeStackEvents", write=False)
        with self._engine.store.read() as conn:
            self._repo.get(conn, stack_name)
            return self._repo.events(conn, stack_name, limit, next_token)

    def template(self, stack_name: str) -> str:
        self._guard.authorize("stacks:GetTemplate", write=False)
        with self._engine.store.read() as conn:
            stack = self._repo.get(conn, stack_name)
            return self._engine.template_body(conn, stack.template_sha256)

    def detect_drift(self, stack_name: str) -> builtins.list[Drift]:
        """Resources changed or deleted outside the stack since it last wrote them."""
        self._guard.authorize("stacks:DetectStackDrift", write=False)
        with self._engine.store.read() as conn:
            self._repo.get(conn, stack_name)
            return detect_drift(conn, self.context, self._repo.recorded_properties(conn, stack_name))
