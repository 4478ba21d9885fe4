"""The event bus, rule and target rows a batch of stack deploys writes, with one statement each.

Rules are upserted (``INSERT ... ON CONFLICT DO UPDATE``, on SQLite and PostgreSQL alike): a rule
a stack manages but someone deleted is simply written again, and an update keeps the rule's
``created_at`` and ``last_fired_at``. Every rule put or removed has its targets replaced, and every
bus whose rules changed gets its ``rules_version`` bumped, so cached indexes of it (on any node) are
rebuilt by the next PutEvents. The deployer has checked beforehand that every row touched here is
the stack's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from silo.events.stack_rows import BUILT_IN_BUSES, RuleKey, StackRule, bus_row, rule_row, target_rows
from silo.store.bulk import execute_many
from silo.store.schema import event_buses, event_rules, event_targets

_RULE_UPDATED = (
    "pattern",
    "schedule_expression",
    "schedule_timezone",
    "schedule_window_minutes",
    "state",
    "description",
    "managed_by",
    "updated_at",
)


def _where(table: sa.Table, *columns: str) -> list[sa.ColumnElement[bool]]:
    return [table.c[name] == sa.bindparam(f"b_{name}") for name in columns]


def _values(table: sa.Table) -> dict[str, sa.BindParameter[Any]]:
    return {c.name: sa.bindparam(c.name) for c in table.columns}


_DELETE_TARGETS = sa.delete(event_targets).where(
    *_where(event_targets, "account_id", "bus_name", "rule_name")
)
_DELETE_RULE = sa.delete(event_rules).where(
    *_where(event_rules, "account_id", "bus_name", "name", "managed_by")
)
_DELETE_BUS = sa.delete(event_buses).where(*_where(event_buses, "account_id", "name"))
_INSERT_TARGET = event_targets.insert().values(_values(event_targets))
_BUMP = (
    sa.update(event_buses)
    .where(*_where(event_buses, "account_id", "name"))
    .values(rules_version=event_buses.c.rules_version + sa.literal_column("1"))
)


def _upserts(insert: Any) -> tuple[sa.Executable, sa.Executable, sa.Executable]:
    """(rule upsert, bus insert unless it exists, bus bump that inserts the row when missing)."""
    rules = insert(event_rules).values(_values(event_rules))
    rules = rules.on_conflict_do_update(
        index_elements=["account_id", "bus_name", "name"],
        set_={name: rules.excluded[name] for name in _RULE_UPDATED},
    )
    buses = insert(event_buses).values(_values(event_buses))
    return (
        rules,
        buses.on_conflict_do_nothing(index_elements=["account_id", "name"]),
        buses.on_conflict_do_update(
            index_elements=["account_id", "name"],
            set_={"rules_version": event_buses.c.rules_version + sa.literal_column("1")},
        ),
    )


_UPSERTS = {"postgresql": _upserts(pg_insert), "sqlite": _upserts(sqlite_insert)}


@dataclass(slots=True)
class EventWrites:
    rule_puts: list[dict[str, Any]] = field(default_factory=list)
    rule_deletes: list[dict[str, Any]] = field(default_factory=list)
    target_deletes: list[dict[str, Any]] = field(default_factory=list)
    target_inserts: list[dict[str, Any]] = field(default_factory=list)
    bus_inserts: list[dict[str, Any]] = field(default_factory=list)
    bus_deletes: list[dict[str, Any]] = field(default_factory=list)
    touched: set[tuple[str, str]] = field(default_factory=set)
    """(account, bus) whose rules or targets change."""
    removed_buses: set[tuple[str, str]] = field(default_factory=set)

    def put_rule(self, account: str, stack: str, rule: StackRule, now: datetime) -> None:
        """Create or update the rule (managed by ``stack``) and replace its targets."""
        self.rule_puts.append(rule_row(account, stack, rule, now))
        self._replace_targets(account, rule.key)
        self.target_inserts.extend(target_rows(account, rule, now))

    def remove_rule(self, account: str, stack: str, key: RuleKey) -> None:
        bus, name = key
        self.rule_deletes.append(
            {"b_account_id": account, "b_bus_name": bus, "b_name": name, "b_managed_by": stack}
        )
        self._replace_targets(account, key)

    def add_bus(self, account: str, name: str, now: datetime) -> None:
        self.bus_inserts.append(bus_row(account, name, now))

    def remove_bus(self, account: str, name: str) -> None:
        self.bus_deletes.append({"b_account_id": account, "b_name": name})
        self.removed_buses.add((account, name))

    def _replace_targets(self, account: str, key: RuleKey) -> None:
        bus, name = key
        self.target_deletes.append({"b_account_id": account, "b_bus_name": bus, "b_rule_name": name})
        self.touched.add((account, bus))

    def flush(self, conn: sa.Connection, now: datetime) -> None:
        """Deletes first (a rule may move to another resource of the stack), then writes, then bumps."""
        put_rules, add_buses, bump_built_in = _UPSERTS[conn.dialect.name]
        execute_many(conn, _DELETE_TARGETS, self.target_deletes)
        execute_many(conn, _DELETE_RULE, self.rule_deletes)
        execute_many(conn, _DELETE_BUS, self.bus_deletes)
        execute_many(conn, add_buses, self.bus_inserts)
        execute_many(conn, put_rules, self.rule_puts)
        execute_many(conn, _INSERT_TARGET, self.target_inserts)
        # Sorted, so that concurrent batches lock bus rows in the same order.
        touched = sorted(self.touched - self.removed_buses)
        execute_many(
            conn,
            _BUMP,
            [{"b_account_id": a, "b_name": b} for a, b in touched if b not in BUILT_IN_BUSES],
        )
        execute_many(conn, bump_built_in, [bus_row(a, b, now) for a, b in touched if b in BUILT_IN_BUSES])
