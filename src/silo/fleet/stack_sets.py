"""Stack sets: a template checked and packaged once, then written as numbered versions.

``prepare`` runs before any transaction (it may be slow); ``create``, ``update`` and ``delete``
work inside the caller's write transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa

from silo.errors import Conflict, ValidationError
from silo.fleet import repository as repo
from silo.fleet.models import AutoDeployment, Operation, OperationAction, Preferences, StackSet, Wave
from silo.fleet.queueing import Exclude, every_instance, queue_operation
from silo.functions.packaging import CodeArchive
from silo.stacks import CodeMap, StacksEngine, package_code
from silo.store import utcnow
from silo.store.schema import fleet_stack_sets
from silo.templates import load_template, resolve

PLACEHOLDER_ACCOUNT = "000000000000"


@dataclass(frozen=True, slots=True)
class Prepared:
    """A template with its parameters, checked, and its code packaged: ready to store."""

    body: str
    parameters: dict[str, Any]
    template_sha256: str
    code: CodeMap
    archives: dict[str, CodeArchive]


def prepare(
    name: str,
    body: str,
    parameters: dict[str, Any],
    code: Mapping[str, bytes],
    *,
    known: CodeMap | None = None,
) -> Prepared:
    """Check the template resolves (for a placeholder account) and package its code."""
    resolved = resolve(load_template(body), dict(parameters), account_id=PLACEHOLDER_ACCOUNT, stack_name=name)
    codes, archives = package_code(resolved, code, known=known)
    return Prepared(body, parameters, hashlib.sha256(body.encode()).hexdigest(), codes, archives)


def create(
    conn: sa.Connection,
    stacks: StacksEngine,
    name: str,
    prepared: Prepared,
    description: str,
    auto: AutoDeployment,
) -> StackSet:
    """Version 1 of a new stack set (a deleted one's name may be taken again)."""
    now = utcnow()
    taken = conn.execute(sa.select(fleet_stack_sets.c.status).where(fleet_stack_sets.c.name == name)).scalar()
    if taken is not None and taken != "DELETED":
        raise Conflict(f"stack set {name!r} already exists", stack_set=name)
    if taken is not None:
        conn.execute(sa.delete(fleet_stack_sets).where(fleet_stack_sets.c.name == name))
    _store(conn, stacks, prepared)
    values = {
        "name": name,
        "description": description[:1024],
        "version": 1,
        "template_sha256": prepared.template_sha256,
        "parameters": prepared.parameters,
        "code": prepared.code,
        "auto_deployment": auto.to_dict(),
        "status": "ACTIVE",
        "created_at": now,
        "updated_at": now,
    }
    conn.execute(fleet_stack_sets.insert().values(**values))
    return shown(conn, stacks, repo.stack_set_from_row(values))


def update(
    conn: sa.Connection,
    stacks: StacksEngine,
    name: str,
    prepared: Prepared,
    description: str | None,
    preferences: Preferences | None,
    waves: Sequence[Wave],
    exclude: Exclude,
) -> Operation:
    """The next version, and an operation that rolls it out to every instance."""
    row = repo.stack_set_row(conn, name)
    _store(conn, stacks, prepared)
    version = row["version"] + 1
    conn.execute(
        sa.update(fleet_stack_sets)
        .where(fleet_stack_sets.c.name == name)
        .values(
            version=version,
            template_sha256=prepared.template_sha256,
            parameters=prepared.parameters,
            code=prepared.code,
            description=row["description"] if description is None else description[:1024],
            updated_at=utcnow(),
        )
    )
    instances = sorted(repo.instance_accounts(conn, name))
    if not instances:
        raise ValidationError(f"stack set {name!r} has no instances to update", field="targets")
    metas, chosen = every_instance(conn, waves, instances, exclude)
    spec = {
        "template_sha256": prepared.template_sha256,
        "parameters": prepared.parameters,
        "code": prepared.code,
    }
    return queue_operation(conn, name, OperationAction.UPDATE, version, spec, preferences, metas, chosen)


def delete(conn: sa.Connection, name: str) -> None:
    """Mark the stack set DELETED; refused while it has instances or an open operation."""
    repo.stack_set_row(conn, name)
    if repo.instance_accounts(conn, name):
        raise Conflict(f"stack set {name!r} still has instances; delete them first", stack_set=name)
    if any(op["stack_set"] == name for op in repo.open_operations(conn)):
        raise Conflict(f"stack set {name!r} has an operation in progress", stack_set=name)
    conn.execute(
        sa.update(fleet_stack_sets)
        .where(fleet_stack_sets.c.name == name)
        .values(status="DELETED", updated_at=utcnow())
    )


def shown(conn: sa.Connection, stacks: StacksEngine, stack_set: StackSet) -> StackSet:
    """The stack set as described: its ``NoEcho`` parameter values masked."""
    masked = stacks.shown_parameters(conn, stack_set.template_sha256, stack_set.parameters)
    return replace(stack_set, parameters=masked)


def _store(conn: sa.Connection, stacks: StacksEngine, prepared: Prepared) -> None:
    stacks.put_template(conn, prepared.body)
    stacks.put_code(conn, prepared.archives)
