"""A stack's ``rule``, ``schedule`` and ``event_bus`` resources: checked against the account's live
buses and rules when a batch is planned, written as event rows (:mod:`silo.events.stack_rows`) with
the batch, and reported to the schedule timer once it commits.

A stack may take no rule or bus it did not create: a name already used by a rule made with PutRule
(or by another stack) fails the deploy, and so does removing a bus that still has rules the stack
does not manage. Rule targets may be functions, buses and state machines of the account.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from silo.errors import Conflict, ValidationError
from silo.events.models import Rule
from silo.events.stack_rows import (
    BUILT_IN_BUSES,
    RULE_KINDS,
    StackRule,
    as_rule,
    recorded_rule,
    rule_location,
    stack_rule,
)
from silo.stacks.event_writes import EventWrites
from silo.stacks.models import Change
from silo.stacks.planning import Desired
from silo.stacks.state import StackState, existing_buses, existing_rules, foreign_rules


@dataclass(frozen=True, slots=True)
class LiveEvents:
    """The batch's accounts' rules and buses that the stacks being deployed name."""

    rules: Mapping[tuple[str, str, str], str | None]
    """(account, bus, rule) -> the stack that manages it (``None``: made with PutRule)."""
    buses: AbstractSet[tuple[str, str]]
    """(account, bus) of the buses that have a row."""
    foreign: Mapping[tuple[str, str], list[str]]
    """(account, bus) -> rules the stack does not manage, for the buses it may remove."""


def load_live(
    conn: sa.Connection, accounts: Sequence[str], stack: str, jobs: Sequence[tuple[list[Desired], StackState]]
) -> LiveEvents:
    """One query per table for the whole batch (none when its stacks have no such resources)."""
    rules: set[str] = set()
    buses: set[str] = set()
    removed: set[str] = set()
    for desired, state in jobs:
        wanted = {d.physical_name for d in desired if d.kind == "event_bus"}
        for d in desired:
            if d.kind in RULE_KINDS:
                rules.add(d.physical_name)
                buses.add(rule_location(d.type, d.kind, d.properties)[0])
        for r in state.resources.values():
            if r.kind in RULE_KINDS:
                rules.add(r.physical_name)
            elif r.kind == "event_bus" and r.physical_name not in wanted:
                removed.add(r.physical_name)
        buses |= wanted | removed
    return LiveEvents(
        existing_rules(conn, accounts, rules),
        existing_buses(conn, accounts, buses - BUILT_IN_BUSES),
        foreign_rules(conn, accounts, removed, stack),
    )


def missing(account: str, d: Desired, live: LiveEvents) -> bool:
    """Whether a rule or bus the stack records is not in the account (deleted outside the stack,
    or recorded before this kind ran): a deploy creates it again."""
    if d.kind == "event_bus":
        return (account, d.physical_name) not in live.buses
    if d.kind not in RULE_KINDS:
        return False
    return (account, *rule_location(d.type, d.kind, d.properties)) not in live.rules


@dataclass(slots=True)
class EventChanges:
    """What one deploy does to its account's rules and buses, decided when it is checked."""

    put: dict[str, StackRule] = field(default_factory=dict)
    """Checked rules to create or update, by logical id."""
    remove: list[StackRule] = field(default_factory=list)
    add_buses: list[str] = field(default_factory=list)
    remove_buses: list[str] = field(default_factory=list)

    def write(
        self, rows: EventWrites, account: str, stack: str, now: datetime
    ) -> tuple[list[Rule], list[Rule]]:
        """Add the rows to the batch; returns the rules put and removed (for the schedule timer)."""
        for rule in self.remove:
            rows.remove_rule(account, stack, rule.key)
        for name in self.remove_buses:
            rows.remove_bus(account, name)
        for name in self.add_buses:
            rows.add_bus(account, name, now)
        for rule in self.put.values():
            rows.put_rule(account, stack, rule, now)
        return (
            [as_rule(account, stack, r, now) for r in self.put.values()],
            [as_rule(account, stack, r, now) for r in self.remove if r.schedule is not None],
        )


def check_events(
    account: str,
    stack: str,
    desired: list[Desired],
    state: StackState,
    changes: list[Change],
    live: LiveEvents,
) -> EventChanges:
    """Check the job's rules (patterns, schedules, targets, buses, names) and decide its writes."""
    plan = EventChanges()
    mine = {r.physical_name for r in state.resources.values() if r.kind == "event_bus"}
    wanted = {d.physical_name for d in desired if d.kind == "event_bus"}
    _check_buses_of_rules(account, desired, live, wanted, mine - wanted)
    by_id = {d.logical_id: d for d in desired}
    for change in changes:
        where = f"Resources.{change.logical_id}"
        old = state.resources.get(change.logical_id) if change.action != "Add" else None
        want = by_id.get(change.logical_id) if change.action != "Remove" else None
        put = None
        if want is not None and want.kind in RULE_KINDS:
            put = stack_rule(account, want.logical_id, want.type, want.kind, want.properties)
            owner = live.rules.get((account, *put.key), stack)
            if owner != stack:
                raise Conflict(
                    f"{where}: rule {put.name!r} of event bus {put.bus!r} already exists in the account and "
                    + (f"is managed by stack {owner!r}" if owner else "is not managed by this stack"),
                    path=where,
                )
            plan.put[want.logical_id] = put
        if old is not None and old.kind in RULE_KINDS:
            before = recorded_rule(old.type, old.kind, old.properties)
            if (put is None or before.key != put.key) and live.rules.get((account, *before.key)) == stack:
                plan.remove.append(before)
        if want is not None and want.kind == "event_bus":
            if (account, want.physical_name) in live.buses and want.physical_name not in mine:
                raise Conflict(
                    f"{where}: event bus {want.physical_name!r} already exists in the account and is not "
                    "managed by this stack",
                    path=where,
                )
            plan.add_buses.append(want.physical_name)
        if old is not None and old.kind == "event_bus" and old.physical_name not in wanted:
            others = live.foreign.get((account, old.physical_name))
            if others:
                raise Conflict(
                    f"{where}: event bus {old.physical_name!r} still has rules this stack does not manage "
                    f"({', '.join(others[:5])}); delete them first",
                    path=where,
                )
            if (account, old.physical_name) in live.buses:
                plan.remove_buses.append(old.physical_name)
    return plan


def _check_buses_of_rules(
    account: str,
    desired: list[Desired],
    live: LiveEvents,
    wanted: set[str],
    removed: set[str],
) -> None:
    """Every rule the stack runs is on a bus that exists (or that the stack creates), and no two
    resources are the same rule."""
    seen: dict[tuple[str, str], str] = {}
    for d in desired:
        if d.kind not in RULE_KINDS:
            continue
        bus, name = key = rule_location(d.type, d.kind, d.properties)
        where = f"Resources.{d.logical_id}"
        if key in seen:
            raise ValidationError(
                f"{where}: rule {name!r} of event bus {bus!r} is also Resources.{seen[key]}", path=where
            )
        seen[key] = d.logical_id
        if bus in BUILT_IN_BUSES or bus in wanted or ((account, bus) in live.buses and bus not in removed):
            continue
        raise ValidationError(
            f"{where}.Properties.EventBusName: event bus {bus!r} does not exist in the account",
            path=f"{where}.Properties.EventBusName",
        )
