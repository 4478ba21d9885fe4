"""Compiled buses: each bus's enabled rules in a :class:`RuleIndex`, with their targets' compiled
inputs, cached per (account, bus) and checked against the bus's ``rules_version`` on every use.

The version check is one indexed read in the PutEvents transaction, so a rule changed on another
node is seen by the next PutEvents here. The cache is LRU-bounded: an account that stops sending
events costs nothing once its entry is evicted.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from silo.events.models import Rule, Target
from silo.events.patterns import RuleIndex, compile_pattern
from silo.events.repository import EventsRepository
from silo.events.target_input import TargetInput, compile_target_input

MAX_CACHED_BUSES = 10_000


@dataclass(frozen=True, slots=True)
class CompiledTarget:
    target: Target
    input: TargetInput


@dataclass(frozen=True, slots=True)
class CompiledRule:
    rule: Rule
    targets: tuple[CompiledTarget, ...]


@dataclass(frozen=True, slots=True)
class CompiledBus:
    version: int
    index: RuleIndex
    rules: Mapping[str, CompiledRule]

    def match(self, event: Mapping[str, Any]) -> list[CompiledRule]:
        if not self.rules:
            return []
        return [self.rules[name] for name in self.index.match(event)]


def compile_bus(version: int, contents: list[tuple[Rule, list[Target]]]) -> CompiledBus:
    index = RuleIndex()
    rules: dict[str, CompiledRule] = {}
    for rule, targets in contents:
        if rule.pattern is not None:  # a schedule-only rule fires from the timer, never by matching
            index.add(rule.name, compile_pattern(rule.pattern))
        compiled = tuple(
            CompiledTarget(t, compile_target_input(t.input or {}, rule_arn=rule.arn, rule_name=rule.name))
            for t in targets
        )
        rules[rule.name] = CompiledRule(rule, compiled)
    return CompiledBus(version, index, rules)


class BusIndexCache:
    def __init__(self, capacity: int = MAX_CACHED_BUSES) -> None:
        self._capacity = capacity
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str], CompiledBus] = OrderedDict()
        self.compiles = 0

    def get(self, conn: sa.Connection, repo: EventsRepository, account: str, bus: str) -> CompiledBus | None:
        """The bus compiled at its current version, or ``None`` when the bus does not exist."""
        version = repo.rules_version(conn, bus)
        if version is None:
            return None
        key = (account, bus)
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and hit.version == version:
                self._entries.move_to_end(key)
                return hit
        compiled = compile_bus(version, repo.bus_contents(conn, bus))
        with self._lock:
            self.compiles += 1
            self._entries[key] = compiled
            self._entries.move_to_end(key)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)
        return compiled

    def __len__(self) -> int:
        return len(self._entries)
