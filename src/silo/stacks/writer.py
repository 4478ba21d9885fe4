"""The rows a batch of stack deploys writes, collected first and written with one statement each."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from silo.stacks.event_writes import EventWrites
from silo.stacks.machines import MachineWrites
from silo.stacks.planning import Desired
from silo.stacks.state import event_id
from silo.stacks.tables import TableWrites
from silo.store.bulk import EncodedJSON, execute_many
from silo.store.schema import (
    function_aliases,
    function_versions,
    functions,
    stack_events,
    stack_resources,
    stacks,
)

_FUNCTION_VALUES = (
    "handler",
    "runtime",
    "memory_size",
    "timeout",
    "environment",
    "description",
    "reserved_concurrency",
    "tags",
    "max_retry_attempts",
    "max_event_age",
    "on_failure",
)

_UPDATE_FUNCTION = (
    sa.update(functions)
    .where(functions.c.account_id == sa.bindparam("b_account"), functions.c.name == sa.bindparam("b_name"))
    .values(
        {name: sa.bindparam(name) for name in (*_FUNCTION_VALUES, "code_sha256", "code_size", "revision")}
    )
    .values(updated_at=sa.bindparam("updated_at"))
)
_UPDATE_RESOURCE = (
    sa.update(stack_resources)
    .where(
        stack_resources.c.account_id == sa.bindparam("b_account"),
        stack_resources.c.stack_name == sa.bindparam("b_stack"),
        stack_resources.c.logical_id == sa.bindparam("b_logical"),
    )
    .values(
        {
            name: sa.bindparam(name)
            for name in (
                "type",
                "kind",
                "physical_name",
                "arn",
                "properties",
                "properties_sha256",
                "revision",
                "status",
                "updated_at",
            )
        }
    )
)
_UPDATE_STACK = (
    sa.update(stacks)
    .where(stacks.c.account_id == sa.bindparam("b_account"), stacks.c.name == sa.bindparam("b_name"))
    .values(
        {
            name: sa.bindparam(name)
            for name in (
                "status",
                "status_reason",
                "template_sha256",
                "parameters",
                "code",
                "outputs",
                "description",
                "stack_set",
                "operation_id",
                "updated_at",
            )
        }
    )
)


def _delete(table: sa.Table, *keys: str) -> sa.Delete:
    return sa.delete(table).where(*(table.c[k] == sa.bindparam(f"b_{k}") for k in ("account_id", *keys)))


_DELETE_FUNCTION = [
    _delete(functions, "name"),
    _delete(function_versions, "name"),
    _delete(function_aliases, "name"),
]
_DELETE_RESOURCE = _delete(stack_resources, "stack_name", "logical_id")
_INSERT = {
    t.name: t.insert().values({c.name: sa.bindparam(c.name) for c in t.columns})
    for t in (functions, stack_resources, stacks, stack_events)
}
_DELETE_STACK = [_delete(stacks, "name"), _delete(stack_events, "stack_name")]


@dataclass(slots=True)
class Writes:
    now: datetime
    function_inserts: list[dict[str, Any]] = field(default_factory=list)
    function_updates: list[dict[str, Any]] = field(default_factory=list)
    function_deletes: list[dict[str, Any]] = field(default_factory=list)
    resource_inserts: list[dict[str, Any]] = field(default_factory=list)
    resource_updates: list[dict[str, Any]] = field(default_factory=list)
    resource_deletes: list[dict[str, Any]] = field(default_factory=list)
    stack_inserts: list[dict[str, Any]] = field(default_factory=list)
    stack_updates: list[dict[str, Any]] = field(default_factory=list)
    stack_deletes: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    event_rows: EventWrites = field(default_factory=EventWrites)
    """Event buses, rules and targets (the ``rule``, ``schedule`` and ``event_bus`` resources)."""
    machine_rows: MachineWrites = field(default_factory=MachineWrites)
    """State machines and their revisions (the ``state_machine`` resources)."""
    table_rows: TableWrites = field(default_factory=TableWrites)
    """Tables (the ``table`` resources, with the stream functions of ``event_source`` ones)."""

    # --- functions ---------------------------------------------------------------------------
    def add_function(self, account: str, want: Desired) -> str:
        revision = uuid.uuid4().hex
        row = _function_values(want.properties)
        row.update(
            account_id=account,
            name=want.physical_name,
            code_sha256=want.properties["code"]["sha256"],
            code_size=want.properties["code"]["size"],
            revision=revision,
            last_version=0,
            created_at=self.now,
            updated_at=self.now,
        )
        self.function_inserts.append(row)
        return revision

    def update_function(self, account: str, want: Desired) -> str:
        revision = uuid.uuid4().hex
        row = _function_values(want.properties)
        row.update(
            b_account=account,
            b_name=want.physical_name,
            code_sha256=want.properties["code"]["sha256"],
            code_size=want.properties["code"]["size"],
            revision=revision,
            updated_at=self.now,
        )
        self.function_updates.append(row)
        return revision

    def remove_function(self, account: str, name: str) -> None:
        self.function_deletes.append({"b_account_id": account, "b_name": name})

    # --- stack resources ---------------------------------------------------------------------
    def add_resource(
        self, account: str, stack: str, want: Desired, revision: str | None, status: str
    ) -> None:
        self.resource_inserts.append(
            {
                "account_id": account,
                "stack_name": stack,
                "logical_id": want.logical_id,
                **_resource_values(want, revision, status, self.now),
            }
        )

    def update_resource(
        self, account: str, stack: str, want: Desired, revision: str | None, status: str
    ) -> None:
        self.resource_updates.append(
            {
                "b_account": account,
                "b_stack": stack,
                "b_logical": want.logical_id,
                **_resource_values(want, revision, status, self.now),
            }
        )

    def remove_resource(self, account: str, stack: str, logical_id: str) -> None:
        self.resource_deletes.append(
            {"b_account_id": account, "b_stack_name": stack, "b_logical_id": logical_id}
        )

    # --- stacks and events -------------------------------------------------------------------
    def put_stack(self, account: str, stack: str, values: dict[str, Any], *, exists: bool) -> None:
        """``values``: the columns ``_UPDATE_STACK`` sets; a new stack also gets its id and times."""
        if exists:
            self.stack_updates.append({"b_account": account, "b_name": stack, **values})
        else:
            self.stack_inserts.append(
                {"account_id": account, "name": stack, "created_at": self.now, **values}
            )

    def remove_stack(self, account: str, stack: str) -> None:
        self.stack_deletes.append({"b_account_id": account, "b_name": stack, "b_stack_name": stack})

    def event(
        self, account: str, stack: str, logical_id: str, type_: str, status: str, reason: str = ""
    ) -> None:
        self.events.append(
            {
                "account_id": account,
                "stack_name": stack,
                "event_id": event_id(),
                "at": self.now,
                "logical_id": logical_id,
                "resource_type": type_,
                "status": status,
                "reason": reason,
            }
        )

    def flush(self, conn: sa.Connection) -> None:
        """Deletes first (a replaced function's old name may be reused), then updates, then inserts."""
        for statement in _DELETE_FUNCTION:
            _many(conn, statement, self.function_deletes)
        _many(conn, _DELETE_RESOURCE, self.resource_deletes)
        for statement in _DELETE_STACK:
            _many(conn, statement, self.stack_deletes)
        _many(conn, _UPDATE_FUNCTION, self.function_updates)
        _many(conn, _UPDATE_RESOURCE, self.resource_updates)
        _many(conn, _UPDATE_STACK, self.stack_updates)
        for table, rows in (
            (functions, self.function_inserts),
            (stack_resources, self.resource_inserts),
            (stacks, self.stack_inserts),
            (stack_events, self.events),
        ):
            execute_many(conn, _INSERT[table.name], rows)
        self.event_rows.flush(conn, self.now)
        self.machine_rows.flush(conn)
        self.table_rows.flush(conn)


def _many(conn: sa.Connection, statement: sa.Executable, rows: list[dict[str, Any]]) -> None:
    execute_many(conn, statement, rows)


def _function_values(props: dict[str, Any]) -> dict[str, Any]:
    # JSON columns are encoded by ``execute_many``, once per shared dict in a batch.
    return {name: props.get(name) for name in _FUNCTION_VALUES}


def _resource_values(want: Desired, revision: str | None, status: str, now: datetime) -> dict[str, Any]:
    return {
        "type": want.type,
        "kind": want.kind,
        "physical_name": want.physical_name,
        "arn": want.arn,
        "properties": EncodedJSON(want.encoded) if want.encoded else want.properties,
        "properties_sha256": want.digest,
        "revision": revision,
        "status": status,
        "updated_at": now,
    }
