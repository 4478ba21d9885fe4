"""Rule, schedule and event bus drift, read through the account's events repository.

What a rule should be is rebuilt from the stack's recorded properties exactly as the deploy built
it (:func:`silo.events.stack_rows.stack_rule`: the same pattern text, schedule and targets), so a
rule nobody touched compares equal. A rule is an ``AWS::Events::Rule`` (or a SAM ``EventBridgeRule``
or ``Schedule``); a schedule an ``AWS::Scheduler::Schedule`` (SAM ``ScheduleV2``), with its one
target.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from silo.accounts import AccountContext
from silo.errors import NotFound
from silo.events.models import Rule, Target
from silo.events.repository import EventsRepository
from silo.events.stack_rows import StackRule, stack_rule
from silo.stacks.models import Drift


def check_rules(conn: sa.Connection, context: AccountContext, recorded: list[dict[str, Any]]) -> list[Drift]:
    """``rule`` and ``schedule`` resources: deleted, or their pattern/expression, state or targets."""
    repo = EventsRepository(context)
    drifts: list[Drift] = []
    for r in recorded:
        logical_id, name, kind = r["logical_id"], r["physical_name"], r["kind"]
        wanted = stack_rule(context.account_id, logical_id, r["type"], kind, r["properties"])
        try:
            live = repo.get_rule(conn, wanted.bus, wanted.name)
        except NotFound:
            drifts.append(Drift(logical_id, name, "DELETED"))
            continue
        targets = repo.targets(conn, wanted.bus, wanted.name)
        changed = _schedule(wanted, live, targets) if kind == "schedule" else _rule(wanted, live, targets)
        if changed:
            drifts.append(Drift(logical_id, name, "MODIFIED", tuple(sorted(changed))))
    return drifts


def check_buses(conn: sa.Connection, context: AccountContext, recorded: list[dict[str, Any]]) -> list[Drift]:
    """``event_bus`` resources: a bus has nothing a stack sets but its name, so it is there or deleted."""
    repo = EventsRepository(context)
    drifts: list[Drift] = []
    for r in recorded:
        try:
            repo.get_bus(conn, r["physical_name"])
        except NotFound:
            drifts.append(Drift(r["logical_id"], r["physical_name"], "DELETED"))
    return drifts


def _rule(wanted: StackRule, live: Rule, targets: Sequence[Target]) -> list[str]:
    """Named as the stack records a rule: ``pattern``, ``schedule``, ``enabled``, ``targets``."""
    changed = []
    if _pattern(live.pattern) != _pattern(wanted.pattern):
        changed.append("pattern")
    if live.schedule != wanted.schedule:
        changed.append("schedule")
    if live.state != wanted.state:
        changed.append("enabled")
    if _by_id(targets) != _by_id(wanted.targets):
        changed.append("targets")
    return changed


def _schedule(wanted: StackRule, live: Rule, targets: Sequence[Target]) -> list[str]:
    """Named as the stack records a schedule: ``expression``, ``enabled``, ``target`` (its function,
    or any other target), ``input`` (what the function receives)."""
    changed = []
    if live.schedule != wanted.schedule or _pattern(live.pattern) != _pattern(wanted.pattern):
        changed.append("expression")
    if live.state != wanted.state:
        changed.append("enabled")
    have, want = _by_id(targets), _by_id(wanted.targets)
    if {k: (arn, retry) for k, (arn, _, retry) in have.items()} != {
        k: (arn, retry) for k, (arn, _, retry) in want.items()
    }:
        changed.append("target")
    if any(have[k][1] != want[k][1] for k in have.keys() & want.keys()):
        changed.append("input")
    return changed


def _pattern(text: str | None) -> Any:
    """A pattern as JSON: the stack records its properties with sorted keys, so the text the deploy
    wrote and the one rebuilt from the record may order an object's keys differently."""
    return None if text is None else json.loads(text)


def _by_id(targets: Sequence[Target]) -> dict[str, tuple[str, Any, Any]]:
    """target id -> (ARN, input, retry policy): what a target is, less how its ARN was parsed."""
    return {t.target_id: (t.arn, t.input, t.retry_policy) for t in targets}
