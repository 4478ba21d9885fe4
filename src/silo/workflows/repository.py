"""State machine, execution, history and work rows of one account. Every statement filters by it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from silo.accounts import AccountContext
from silo.errors import Conflict
from silo.store import utcnow
from silo.store.bulk import insert_rows
from silo.store.ids import new_id
from silo.store.pages import Page, check_limit, decode_token, encode_token
from silo.store.schema import (
    state_machine_revisions,
    state_machines,
    workflow_executions,
    workflow_history,
    workflow_work,
)
from silo.workflows.models import (
    ExecutionDoesNotExist,
    ExecutionInfo,
    HistoryEntry,
    StateMachineDoesNotExist,
    StateMachineInfo,
    execution_arn,
    state_machine_arn,
)

machines, revisions, executions, history, work = (
    state_machines,
    state_machine_revisions,
    workflow_executions,
    workflow_history,
    workflow_work,
)


class WorkflowsRepository:
    def __init__(self, context: AccountContext) -> None:
        self.account = context.account_id

    # --- state machines ---------------------------------------------------------------------------
    def put_machine(
        self,
        conn: sa.Connection,
        name: str,
        definition: str,
        *,
        description: str,
        managed_by: str | None,
        create: bool,
    ) -> StateMachineInfo:
        """Create (``create``) or update a state machine: a new revision either way."""
        now = utcnow()
        existing = self.find_machine(conn, name)
        if create and existing is not None:
            raise Conflict(f"State machine {name} already exists", state_machine=name)
        if not create and existing is None:
            raise StateMachineDoesNotExist(f"State machine {name} does not exist", state_machine=name)
        if existing is not None:
            _check_manager(name, existing.managed_by, managed_by)
        revision = new_id()
        conn.execute(
            revisions.insert().values(
                account_id=self.account,
                state_machine=name,
                revision=revision,
                definition=definition,
                created_at=now,
            )
        )
        values = {
            "revision": revision,
            "description": description,
            "managed_by": managed_by,
            "updated_at": now,
        }
        if existing is None:
            conn.execute(
                machines.insert().values(account_id=self.account, name=name, created_at=now, **values)
            )
        else:
            conn.execute(machines.update().where(*self._machine_key(name)).values(**values))
        return self.get_machine(conn, name)

    def delete_machine(self, conn: sa.Connection, name: str, managed_by: str | None = None) -> None:
        """The machine goes; its revisions stay while executions still run them. A stack's machine
        goes only with ``managed_by`` = that stack."""
        existing = self.find_machine(conn, name)
        if existing is None:
            raise StateMachineDoesNotExist(f"State machine {name} does not exist", state_machine=name)
        _check_manager(name, existing.managed_by, managed_by)
        conn.execute(machines.delete().where(*self._machine_key(name)))
        running = sa.select(executions.c.revision).where(
            executions.c.account_id == self.account,
            executions.c.state_machine == name,
            executions.c.status == "RUNNING",
        )
        conn.execute(
            revisions.delete().where(
                revisions.c.account_id == self.account,
                revisions.c.state_machine == name,
                revisions.c.revision.not_in(running),
            )
        )

    def get_machine(self, conn: sa.Connection, name: str) -> StateMachineInfo:
        row = conn.execute(
            sa.select(machines, revisions.c.definition)
            .join(
                revisions,
                sa.and_(
                    revisions.c.account_id == machines.c.account_id,
                    revisions.c.state_machine == machines.c.name,
                    revisions.c.revision == machines.c.revision,
                ),
            )
            .where(*self._machine_key(name), revisions.c.account_id == self.account)
        ).first()
        if row is None:
            raise StateMachineDoesNotExist(f"State machine {name} does not exist", state_machine=name)
        return self._machine(row)

    def list_machines(
        self, conn: sa.Connection, limit: int | None, next_token: str | None
    ) -> Page[StateMachineInfo]:
        size = check_limit(limit)
        after = decode_token(next_token)
        query = (
            sa.select(machines, sa.literal("").label("definition"))
            .where(machines.c.account_id == self.account)
            .order_by(machines.c.name)
            .limit(size + 1)
        )
        if isinstance(after, str):
            query = query.where(machines.c.name > after)
        rows = conn.execute(query).all()
        found = [self._machine(r) for r in rows[:size]]
        return Page(found, encode_token(found[-1].name) if len(rows) > size else None)

    def managed_machines(self, conn: sa.Connection, managed_by: str) -> list[str]:
        return list(
            conn.execute(
                sa.select(machines.c.name).where(
                    machines.c.account_id == self.account, machines.c.managed_by == managed_by
                )
            ).scalars()
        )

    def definition(self, conn: sa.Connection, name: str, revision: str) -> str:
        text = conn.execute(
            sa.select(revisions.c.definition).where(
                revisions.c.account_id == self.account,
                revisions.c.state_machine == name,
                revisions.c.revision == revision,
            )
        ).scalar()
        if text is None:
            raise StateMachineDoesNotExist(f"State machine {name} revision {revision} does not exist")
        return str(text)

    # --- executions -------------------------------------------------------------------------------
    def insert_executions(self, conn: sa.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        insert_rows(conn, executions, [{"account_id": self.account, **r} for r in rows])

    def update_execution(self, conn: sa.Connection, execution_id: str, values: Mapping[str, Any]) -> None:
        conn.execute(executions.update().where(*self._execution_key(execution_id)).values(**values))

    def delete_executions(self, conn: sa.Connection, ids: Iterable[str]) -> None:
        ids = list(ids)
        if ids:
            conn.execute(
                executions.delete().where(
                    executions.c.account_id == self.account, executions.c.execution_id.in_(ids)
                )
            )
            conn.execute(work.delete().where(work.c.account_id == self.account, work.c.execution_id.in_(ids)))

    def lock_execution(self, conn: sa.Connection, execution_id: str) -> sa.Row[Any] | None:
        """The execution row, locked until the transaction ends (PostgreSQL; SQLite has one writer)."""
        query = sa.select(executions).where(*self._execution_key(execution_id))
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        return conn.execute(query).first()

    def execution_row(self, conn: sa.Connection, execution_id: str) -> sa.Row[Any] | None:
        return conn.execute(sa.select(executions).where(*self._execution_key(execution_id))).first()

    def find_execution(self, conn: sa.Connection, machine: str, name: str) -> sa.Row[Any]:
        row = conn.execute(
            sa.select(executions).where(
                executions.c.account_id == self.account,
                executions.c.state_machine == machine,
                executions.c.name == name,
                executions.c.parent_id.is_(None),
            )
        ).first()
        if row is None:
            raise ExecutionDoesNotExist(
                f"Execution {execution_arn(self.account, machine, name)} does not exist", execution=name
            )
        return row

    def execution_by_name(self, conn: sa.Connection, machine: str, name: str) -> sa.Row[Any] | None:
        return conn.execute(
            sa.select(executions).where(
                executions.c.account_id == self.account,
                executions.c.state_machine == machine,
                executions.c.name == name,
            )
        ).first()

    def children_of(self, conn: sa.Connection, parent_ids: Sequence[str]) -> list[tuple[str, Any]]:
        """(execution id, branch) of the children of these executions."""
        rows = conn.execute(
            sa.select(executions.c.execution_id, executions.c.branch).where(
                executions.c.account_id == self.account, executions.c.parent_id.in_(parent_ids)
            )
        ).all()
        return [(r.execution_id, r.branch) for r in rows]

    def tree(self, conn: sa.Connection, root_id: str) -> list[str]:
        """The ids of a root execution's children (all levels), not the root itself."""
        return list(
            conn.execute(
                sa.select(executions.c.execution_id).where(
                    executions.c.account_id == self.account,
                    executions.c.root_id == root_id,
                    executions.c.execution_id != root_id,
                )
            ).scalars()
        )

    def list_executions(
        self,
        conn: sa.Connection,
        machine: str,
        status: str | None,
        limit: int | None,
        next_token: str | None,
    ) -> Page[ExecutionInfo]:
        """Newest first; ``next_token`` resumes after (started_at, execution_id)."""
        size = check_limit(limit)
        after = decode_token(next_token)
        query = (
            sa.select(executions)
            .where(
                executions.c.account_id == self.account,
                executions.c.state_machine == machine,
                executions.c.parent_id.is_(None),
            )
            .order_by(executions.c.started_at.desc(), executions.c.execution_id.desc())
            .limit(size + 1)
        )
        if status is not None:
            query = query.where(executions.c.status == status)
        if isinstance(after, list) and len(after) == 2:
            at = datetime.fromisoformat(after[0])
            query = query.where(
                sa.or_(
                    executions.c.started_at < at,
                    sa.and_(executions.c.started_at == at, executions.c.execution_id < after[1]),
                )
            )
        rows = conn.execute(query).all()
        found = [self.execution(r) for r in rows[:size]]
        token = None
        if len(rows) > size:
            last = rows[size - 1]
            token = encode_token([last.started_at.isoformat(), last.execution_id])
        return Page(found, token)

    def execution(self, row: sa.Row[Any]) -> ExecutionInfo:
        return ExecutionInfo(
            arn=execution_arn(self.account, row.state_machine, row.name),
            name=row.name,
            state_machine=row.state_machine,
            state_machine_arn=state_machine_arn(self.account, row.state_machine),
            status=row.status,
            input=row.input,
            output=row.output,
            error=row.error,
            cause=row.cause,
            started_at=row.started_at,
            stopped_at=row.stopped_at,
            redrive_count=row.redrive_count,
        )

    # --- history ----------------------------------------------------------------------------------
    def append_history(self, conn: sa.Connection, root_id: str, first: int, events: Sequence[Any]) -> None:
        rows = [
            {
                "account_id": self.account,
                "execution_id": root_id,
                "seq": first + i,
                "type": e.type,
                "at": e.timestamp,
                "details": e.details,
            }
            for i, e in enumerate(events)
        ]
        insert_rows(conn, history, rows)

    def history(
        self, conn: sa.Connection, root_id: str, *, reverse: bool, limit: int | None, next_token: str | None
    ) -> Page[HistoryEntry]:
        size = check_limit(limit)
        after = decode_token(next_token)
        query = (
            sa.select(history)
            .where(history.c.account_id == self.account, history.c.execution_id == root_id)
            .order_by(history.c.seq.desc() if reverse else history.c.seq)
            .limit(size + 1)
        )
        if isinstance(after, int):
            query = query.where(history.c.seq < after if reverse else history.c.seq > after)
        rows = conn.execute(query).all()
        found = [HistoryEntry(r.seq, r.seq - 1, r.type, r.at, r.details) for r in rows[:size]]
        return Page(found, encode_token(found[-1].id) if len(rows) > size else None)

    # --- work -------------------------------------------------------------------------------------
    def add_work(self, conn: sa.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        insert_rows(conn, work, [{"account_id": self.account, **r} for r in rows])

    def take_work(self, conn: sa.Connection, work_id: str) -> bool:
        """Delete a work row; ``False`` when it was already gone (done elsewhere, or cancelled)."""
        deleted = conn.execute(
            work.delete().where(work.c.account_id == self.account, work.c.work_id == work_id)
        )
        return bool(deleted.rowcount)

    def work_row(self, conn: sa.Connection, work_id: str) -> sa.Row[Any] | None:
        return conn.execute(
            sa.select(work).where(work.c.account_id == self.account, work.c.work_id == work_id)
        ).first()

    def move_work(self, conn: sa.Connection, work_id: str, due_at: datetime) -> bool:
        moved = conn.execute(
            work.update()
            .where(work.c.account_id == self.account, work.c.work_id == work_id)
            .values(due_at=due_at)
        )
        return bool(moved.rowcount)

    def extend_heartbeat(self, conn: sa.Connection, execution_id: str, token: str, now: datetime) -> bool:
        """Move the heartbeat deadline of a waiting task attempt; ``False`` when there is none."""
        row = conn.execute(
            sa.select(work.c.work_id, work.c.body).where(
                work.c.account_id == self.account,
                work.c.execution_id == execution_id,
                work.c.kind == "heartbeat",
                work.c.token == token,
            )
        ).first()
        if row is None:
            return False
        return self.move_work(conn, row.work_id, now + timedelta(seconds=int(row.body["seconds"])))

    def drop_work(self, conn: sa.Connection, root_id: str) -> None:
        conn.execute(work.delete().where(work.c.account_id == self.account, work.c.root_id == root_id))

    # --- helpers ----------------------------------------------------------------------------------
    def find_machine(self, conn: sa.Connection, name: str) -> sa.Row[Any] | None:
        """The machine's row (name, managed_by), or None."""
        columns: list[sa.ColumnElement[Any]] = [machines.c.name, machines.c.managed_by]
        return conn.execute(sa.select(*columns).where(*self._machine_key(name))).first()

    def _machine_key(self, name: str) -> tuple[sa.ColumnElement[bool], ...]:
        return (machines.c.account_id == self.account, machines.c.name == name)

    def _execution_key(self, execution_id: str) -> tuple[sa.ColumnElement[bool], ...]:
        return (executions.c.account_id == self.account, executions.c.execution_id == execution_id)

    def _machine(self, row: sa.Row[Any]) -> StateMachineInfo:
        return StateMachineInfo(
            name=row.name,
            arn=state_machine_arn(self.account, row.name),
            definition=row.definition,
            revision=row.revision,
            description=row.description,
            managed_by=row.managed_by,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


def _check_manager(name: str, manager: str | None, caller: str | None) -> None:
    """A stack's state machine changes only through that stack (as its rules do)."""
    if manager is not None and manager != caller:
        raise Conflict(
            f"State machine {name} is managed by stack {manager}; change it through the stack",
            state_machine=name,
            managed_by=manager,
        )
