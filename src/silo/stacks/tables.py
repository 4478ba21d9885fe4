"""A stack's ``table`` resources (``AWS::DynamoDB::Table``, ``AWS::Serverless::SimpleTable``) and the
``event_source`` resources a function's SAM ``DynamoDB`` events generate: checked against the
account's tables when a batch is planned, and written with the batch through the tables repository.

A stack's tables carry ``managed_by`` = the stack's name (DeleteTable refuses them). A stack takes
no table it did not create: a name already used by a table made by hand, or by another stack, fails
the deploy.

What a deploy does to a table of the stack:

* added: created empty (with its TTL, its stream and the stream's function, if a function of the
  stack has a ``DynamoDB`` event on it);
* TTL, stream view or the stream's function changed: updated in place, items kept;
* key schema or global secondary indexes changed: the table must be replaced, which deletes its
  items. As on CloudFormation this is refused for a table with a ``TableName`` (its name cannot
  stay while a new table is made; give it a new name, which creates the new table and deletes the
  old one); a table with a generated name is deleted and created again, empty, under the same name
  (unless its ``DeletionPolicy`` keeps it: then refused too, as the items would go);
* removed from the template, or the stack deleted: deleted with its items, unless its
  ``DeletionPolicy`` is ``Retain`` (or ``RetainExceptOnCreate``): then it stays in the account,
  no longer managed by the stack (and without the stack's stream function).

A table that keeps its name but moves to another logical id keeps its items. ``Snapshot`` and
``LocalSecondaryIndexes`` are refused: Silo has neither.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa

from silo.accounts import AccountContext
from silo.errors import Conflict, SiloError
from silo.stacks.models import Change
from silo.stacks.planning import Desired, Recorded
from silo.stacks.state import StackState
from silo.store.schema import kv_tables
from silo.tables.definitions import TableDefinition, parse_create_table
from silo.tables.models import StreamSpec
from silo.tables.repository import TablesRepository, stream_json
from silo.templates import TemplateError, default_name

KIND = "table"
STREAM_KIND = "event_source"
_RETAIN = ("Retain", "RetainExceptOnCreate")
_REPLACED = "(keys changed: the table is made again, empty)"


@dataclass(frozen=True, slots=True)
class LiveTable:
    """A table of the account as stored (only what a deploy compares)."""

    managed_by: str | None
    key_schema: Any
    indexes: Any
    ttl_attribute: str | None
    stream: Any


LiveTables = Mapping[tuple[str, str], LiveTable]
"""(account, table) -> the table."""


def load_tables(
    conn: sa.Connection, accounts: Sequence[str], jobs: Iterable[tuple[list[Desired], StackState]]
) -> dict[tuple[str, str], LiveTable]:
    """The tables the batch's stacks name (wanted or recorded), with one query; none when its stacks
    have no tables."""
    names: set[str] = set()
    for desired, state in jobs:
        names.update(d.physical_name for d in desired if d.kind == KIND)
        names.update(r.physical_name for r in state.resources.values() if r.kind == KIND)
    if not names:
        return {}
    c = kv_tables.c
    query = sa.select(
        c.account_id, c.name, c.managed_by, c.key_schema, c.indexes, c.ttl_attribute, c.stream
    ).where(c.account_id.in_(accounts), c.name.in_(sorted(names)))
    return {(r.account_id, r.name): LiveTable(*r[2:]) for r in conn.execute(query)}


def missing(account: str, d: Desired, live: LiveTables) -> bool:
    """Whether a table the stack records is not in the account (recorded before tables ran): a
    deploy creates it."""
    return d.kind == KIND and (account, d.physical_name) not in live


@dataclass(slots=True)
class TablePlan:
    """What one account's deploy does to its tables, decided when the deploy is checked."""

    deletes: list[str] = field(default_factory=list)
    """Deleted with their items (removed, or replaced: then also in ``creates``)."""
    releases: dict[str, Any] = field(default_factory=dict)
    """Retained: name -> the stream they keep (without the stack's function)."""
    creates: list[TableDefinition] = field(default_factory=list)
    updates: dict[str, dict[str, Any]] = field(default_factory=dict)
    """name -> the columns that change (``ttl_attribute``, ``stream``)."""

    def names(self) -> list[str]:
        """Every table the deploy changes (for the tables engine, once committed)."""
        found = [*self.deletes, *self.releases, *(d.name for d in self.creates), *self.updates]
        return list(dict.fromkeys(found))


def check_tables(
    account: str,
    stack: str,
    desired: Sequence[Desired],
    state: StackState,
    changes: list[Change],
    live: LiveTables,
) -> TablePlan:
    """Check the stack's table changes against the account's tables and decide the writes; a
    replacement is marked in ``changes``. Raises (and decides nothing) when the deploy must fail."""
    plan = TablePlan()
    wanted: dict[str, Desired] = {}
    for d in desired:
        if d.kind == KIND and wanted.setdefault(d.physical_name, d) is not d:
            raise TemplateError(
                f"Resources.{d.logical_id}.Properties.TableName",
                f"table {d.physical_name!r} is also the name of {wanted[d.physical_name].logical_id}",
            )
    streams = _stream_functions(desired, wanted)
    touched: set[str] = set()
    for change in changes:
        if change.kind == KIND and change.action != "Remove":
            touched.add(change.physical_name)
        if change.kind == STREAM_KIND:
            touched.update(wanted)  # a stream function moved, came or went: compare every table
        old = state.resources.get(change.logical_id)
        if old is None or old.kind != KIND or old.physical_name in wanted:
            continue
        if change.action == "Remove" or old.physical_name != change.physical_name or change.kind != KIND:
            _remove(plan, old, live.get((account, old.physical_name)), stack)
    for position, change in enumerate(changes):
        if change.kind != KIND or change.action == "Remove" or change.physical_name not in touched:
            continue
        touched.discard(change.physical_name)
        if _put(plan, account, stack, wanted[change.physical_name], streams, live):
            changes[position] = _replaced(change)
    for name in [n for n in wanted if n in touched]:  # unchanged, but their stream function may be
        _put(plan, account, stack, wanted[name], streams, live)
    return plan


def _remove(plan: TablePlan, old: Recorded, row: LiveTable | None, stack: str) -> None:
    if row is None or row.managed_by != stack:
        return  # gone already, or not the stack's: never touched
    if old.properties.get("deletion_policy") in _RETAIN:
        kept = row.stream if row.stream is None else {**row.stream, "function": None}
        plan.releases[old.physical_name] = kept
    else:
        plan.deletes.append(old.physical_name)


def _put(
    plan: TablePlan,
    account: str,
    stack: str,
    want: Desired,
    streams: Mapping[str, Desired],
    live: LiveTables,
) -> bool:
    """Create or update one wanted table; True when it is replaced."""
    definition = table_definition(want, streams.get(want.physical_name))
    name = definition.name
    where = f"Resources.{want.logical_id}"
    row = live.get((account, name))
    if row is None or (row.managed_by == stack and name in plan.deletes):
        plan.creates.append(definition)
        return False
    if row.managed_by != stack:
        owner = row.managed_by
        raise Conflict(
            f"{where}: table {name!r} already exists in the account and "
            + (f"is managed by stack {owner!r}" if owner else "is not managed by this stack"),
            path=where,
        )
    same_keys = row.key_schema == definition.keys.as_json()
    if not same_keys or row.indexes != [i.as_json() for i in definition.indexes]:
        what = f"{where}.Properties.{'KeySchema' if not same_keys else 'GlobalSecondaryIndexes'}"
        if name != default_name(stack, want.logical_id, 255):
            raise TemplateError(
                what,
                f"changing it replaces table {name!r}, which deletes its items, and a table with a "
                "TableName cannot be replaced under the same name: give it a new TableName (the old "
                "table and its items are then deleted), or keep the keys and indexes",
            )
        if want.properties.get("deletion_policy") in _RETAIN:
            raise TemplateError(
                what,
                f"changing it replaces table {name!r}, which deletes its items, and its DeletionPolicy "
                "keeps them: give it a TableName and change that (the old table is then retained)",
            )
        plan.deletes.append(name)
        plan.creates.append(definition)
        return True
    values: dict[str, Any] = {}
    if row.ttl_attribute != definition.ttl_attribute:
        values["ttl_attribute"] = definition.ttl_attribute
    stream = stream_json(definition.stream)
    if row.stream != stream:
        values["stream"] = stream
    if values:
        plan.updates[name] = values
    return False


def _replaced(change: Change) -> Change:
    return Change(
        change.action,
        change.logical_id,
        change.type,
        change.kind,
        change.physical_name,
        True,
        (*change.properties, _REPLACED),
    )


def _stream_functions(desired: Sequence[Desired], wanted: Mapping[str, Desired]) -> dict[str, Desired]:
    """table name -> the ``event_source`` resource that sends its stream to a function."""
    found: dict[str, Desired] = {}
    for d in desired:
        if d.kind != STREAM_KIND:
            continue
        table = d.properties["table"]
        where = f"Resources.{d.logical_id}"
        if table not in wanted:
            raise TemplateError(
                f"{where}.Properties.Stream",
                f"the stream of table {table!r}: a DynamoDB event reads the stream of a table of its own "
                "stack in Silo",
            )
        if wanted[table].properties.get("stream_view_type") is None:
            raise TemplateError(f"{where}.Properties.Stream", f"table {table!r} has no StreamSpecification")
        if table in found:
            raise TemplateError(
                f"{where}.Properties.Stream",
                f"the stream of table {table!r} already goes to {found[table].properties['function']!r} "
                f"({found[table].logical_id}); a table's stream has one function in Silo",
            )
        found[table] = d
    return found


def table_definition(want: Desired, stream_function: Desired | None = None) -> TableDefinition:
    """The resolved table as the tables service's CreateTable would take it, checked by it."""
    props = want.properties
    where = f"Resources.{want.logical_id}"
    if props.get("local_secondary_indexes"):
        raise TemplateError(
            f"{where}.Properties.LocalSecondaryIndexes",
            "not supported by Silo tables; use GlobalSecondaryIndexes",
        )
    if props.get("deletion_policy") == "Snapshot":
        raise TemplateError(
            f"{where}.DeletionPolicy", "Snapshot is not supported for tables in Silo; use Retain or Delete"
        )
    request: dict[str, Any] = {
        "TableName": want.physical_name,
        "AttributeDefinitions": props["attributes"],
        "KeySchema": props["key_schema"],
    }
    if props.get("global_secondary_indexes"):
        request["GlobalSecondaryIndexes"] = props["global_secondary_indexes"]
    if props.get("stream_view_type"):
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": props["stream_view_type"]}
    if props.get("ttl_attribute"):
        request["TimeToLiveSpecification"] = {"Enabled": True, "AttributeName": props["ttl_attribute"]}
    try:
        definition = parse_create_table(request)
    except SiloError as exc:
        raise TemplateError(f"{where}.Properties", exc.message) from None
    if stream_function is not None and definition.stream is not None:
        p = stream_function.properties
        spec = StreamSpec(definition.stream.view_type, p["function"], p["batch_size"], p["max_attempts"])
        definition = replace(definition, stream=spec)
    return definition


@dataclass(slots=True)
class TableWrites:
    """The table writes of a batch of deploys, each through its account's tables repository."""

    plans: list[tuple[AccountContext, str, TablePlan]] = field(default_factory=list)

    def add(self, context: AccountContext, stack: str, plan: TablePlan) -> None:
        if plan.names():
            self.plans.append((context, stack, plan))

    def flush(self, conn: sa.Connection) -> None:
        """Per account: deletes first (a replaced table is made again), then releases, creates, updates."""
        for context, stack, plan in self.plans:
            repo = TablesRepository(context)
            for name in plan.deletes:
                repo.delete_table(conn, name)
            for name, stream in plan.releases.items():
                repo.update_table(conn, name, managed_by=None, stream=stream)
            for definition in plan.creates:
                repo.insert_table(conn, definition, stack)
            for name, values in plan.updates.items():
                repo.update_table(conn, name, **values)
