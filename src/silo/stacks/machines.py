"""A stack's ``state_machine`` resources: checked against the account's state machines when a batch is
planned, and written with the batch as ``state_machines`` and ``state_machine_revisions`` rows.

A stack's state machines carry ``managed_by`` = the stack's name (so UpdateStateMachine and
DeleteStateMachine refuse them, as PutRule refuses a stack's rules). A stack takes no state machine
it did not create: a name already used by one made by hand, or by another stack, fails the deploy.

Every put is a new revision, as an UpdateStateMachine is: running executions finish on the revision
they started with. A removed state machine's row goes, and so do its revisions that no running
execution still uses (what DeleteStateMachine does). The definitions were checked when the
template resolved (:mod:`silo.templates`, with the workflows engine's checks).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from silo.errors import Conflict
from silo.stacks.models import Change
from silo.stacks.planning import Desired
from silo.stacks.state import StackState
from silo.store.bulk import execute_many
from silo.store.schema import state_machine_revisions, state_machines, workflow_executions

KIND = "state_machine"

LiveMachines = Mapping[tuple[str, str], str | None]
"""(account, state machine) -> the stack that manages it (``None``: made by hand)."""


def load_machines(
    conn: sa.Connection, accounts: Sequence[str], jobs: Iterable[tuple[list[Desired], StackState]]
) -> dict[tuple[str, str], str | None]:
    """The state machines the batch's stacks name (wanted or recorded), with one query; none when
    its stacks have no state machines."""
    names: set[str] = set()
    for desired, state in jobs:
        names.update(d.physical_name for d in desired if d.kind == KIND)
        names.update(r.physical_name for r in state.resources.values() if r.kind == KIND)
    if not names:
        return {}
    c = state_machines.c
    query = sa.select(c.account_id, c.name, c.managed_by).where(
        c.account_id.in_(accounts), c.name.in_(sorted(names))
    )
    return {(a, n): m for a, n, m in conn.execute(query)}


def missing(account: str, d: Desired, live: LiveMachines) -> bool:
    """Whether a state machine the stack records is not in the account (recorded before state
    machines ran, or lost): a deploy creates it again."""
    return d.kind == KIND and (account, d.physical_name) not in live


def check_machines(account: str, stack: str, changes: Sequence[Change], live: LiveMachines) -> None:
    """Refuse to create (or rename into) a state machine the stack does not own."""
    for change in changes:
        if change.kind != KIND or change.action == "Remove":
            continue
        key = (account, change.physical_name)
        if key not in live or live[key] == stack:
            continue
        owner = live[key]
        where = f"Resources.{change.logical_id}"
        raise Conflict(
            f"{where}: state machine {change.physical_name!r} already exists in the account and "
            + (f"is managed by stack {owner!r}" if owner else "is not managed by this stack"),
            path=where,
        )


def definition_text(properties: Mapping[str, Any]) -> str:
    """The definition as stored (what DescribeStateMachine returns)."""
    return json.dumps(properties["definition"], indent=2)


def _bind(table: sa.Table, *columns: str) -> list[sa.ColumnElement[bool]]:
    return [table.c[name] == sa.bindparam(f"b_{name}") for name in columns]


_DELETE_MACHINE = sa.delete(state_machines).where(*_bind(state_machines, "account_id", "name", "managed_by"))
_RUNNING = sa.select(workflow_executions.c.revision).where(
    workflow_executions.c.account_id == sa.bindparam("b_account_id"),
    workflow_executions.c.state_machine == sa.bindparam("b_name"),
    workflow_executions.c.status == sa.literal_column("'RUNNING'"),
)
_STILL_THERE = sa.select(state_machines.c.name).where(
    state_machines.c.account_id == sa.bindparam("b_account_id"),
    state_machines.c.name == sa.bindparam("b_name"),
)
_DELETE_REVISIONS = sa.delete(state_machine_revisions).where(
    state_machine_revisions.c.account_id == sa.bindparam("b_account_id"),
    state_machine_revisions.c.state_machine == sa.bindparam("b_name"),
    state_machine_revisions.c.revision.not_in(_RUNNING),
    ~_STILL_THERE.exists(),
)
_INSERT_REVISION = state_machine_revisions.insert().values(
    {c.name: sa.bindparam(c.name) for c in state_machine_revisions.columns}
)


def _upsert(insert: Any) -> sa.Executable:
    """Insert a state machine row, or point the stack's row at its new revision (``created_at`` stays)."""
    statement = insert(state_machines).values({c.name: sa.bindparam(c.name) for c in state_machines.columns})
    upsert: sa.Executable = statement.on_conflict_do_update(
        index_elements=["account_id", "name"],
        set_={
            name: statement.excluded[name] for name in ("revision", "description", "managed_by", "updated_at")
        },
    )
    return upsert


_UPSERTS = {"postgresql": _upsert(pg_insert), "sqlite": _upsert(sqlite_insert)}


@dataclass(slots=True)
class MachineWrites:
    """The state machine rows of a batch of deploys, written with one statement each."""

    puts: list[dict[str, Any]] = field(default_factory=list)
    revisions: list[dict[str, Any]] = field(default_factory=list)
    deletes: list[dict[str, Any]] = field(default_factory=list)

    def put(self, account: str, stack: str, want: Desired, now: datetime) -> str:
        """Create or update the state machine (managed by ``stack``) as a new revision; returns it."""
        revision = uuid.uuid4().hex  # the stack records it too (like a function's revision)
        name = want.physical_name
        self.revisions.append(
            {
                "account_id": account,
                "state_machine": name,
                "revision": revision,
                "definition": definition_text(want.properties),
                "created_at": now,
            }
        )
        self.puts.append(
            {
                "account_id": account,
                "name": name,
                "revision": revision,
                "description": "",
                "managed_by": stack,
                "created_at": now,
                "updated_at": now,
            }
        )
        return revision

    def remove(self, account: str, stack: str, name: str) -> None:
        self.deletes.append({"b_account_id": account, "b_name": name, "b_managed_by": stack})

    def flush(self, conn: sa.Connection) -> None:
        """Deletes first (a name may move to another resource of the stack), then puts."""
        execute_many(conn, _DELETE_MACHINE, self.deletes)
        # Revisions go only with their state machine: never those of a machine the stack did not
        # delete (one made by hand under a name the stack recorded before it ran state machines).
        gone = [{"b_account_id": row["b_account_id"], "b_name": row["b_name"]} for row in self.deletes]
        execute_many(conn, _DELETE_REVISIONS, gone)
        execute_many(conn, _INSERT_REVISION, self.revisions)
        execute_many(conn, _UPSERTS[conn.dialect.name], self.puts)
