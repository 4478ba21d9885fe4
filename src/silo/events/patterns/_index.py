"""RuleIndex: the rules of one bus, filed so an event is checked against few of them.

Each rule is filed under the (at most two) most selective fields that every matching event must
have with one of a few exact strings: ``source``, ``detail-type``, any exact field such as
``detail.tenant`` (fewest values first, then the shallower path). A *signature* is such a tuple
of paths; each signature keeps a table from value tuples to rules. To match an event, the index
reads the event's values at each signature's paths (few signatures: rules of one bus mostly share
their shape), looks the combinations up, and runs the rest of the pattern (the top-level fields the
lookup has already decided are left out) only on the rules found there and on the rules with no
exact field at all. Matching costs one lookup per signature plus one pattern per candidate, not one
pattern per rule; rules without any exact field are the linear part.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from silo.events.patterns._pattern import Node, Pattern

Path = tuple[str, ...]
Signature = tuple[Path, ...]
_MAX_COMBINATIONS = 64
_NONE: list[Any] = []


@dataclass(frozen=True, slots=True)
class _Filed:
    pattern: Pattern
    order: int
    signature: Signature
    keys: tuple[tuple[str, ...], ...]


class RuleIndex:
    """Rule id -> compiled pattern, matched together. Not thread-safe for writes."""

    def __init__(self) -> None:
        self._rules: dict[str, _Filed] = {}
        self._tables: dict[Signature, _Table] = {}
        self._unfiled: dict[str, Node] = {}
        self._plans: list[_Plan] = []
        self._order = itertools.count()

    def __len__(self) -> int:
        return len(self._rules)

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._rules

    def add(self, rule_id: str, pattern: Pattern) -> None:
        """File a rule (replacing any rule with this id)."""
        self.remove(rule_id)
        signature, keys = _filing(pattern)
        self._rules[rule_id] = _Filed(pattern, next(self._order), signature, keys)
        if not signature:
            self._unfiled[rule_id] = pattern.root
            return
        table = self._tables.get(signature)
        if table is None:
            table = self._tables[signature] = {}
            self._plans = _plans(self._tables)
        rest = pattern.root.without({path[0] for path in signature if len(path) == 1})
        for key in keys:
            table.setdefault(key, {})[rule_id] = rest

    def remove(self, rule_id: str) -> bool:
        """Forget a rule; False if there was none with this id."""
        filed = self._rules.pop(rule_id, None)
        if filed is None:
            return False
        if not filed.signature:
            del self._unfiled[rule_id]
            return True
        table = self._tables[filed.signature]
        for key in filed.keys:
            rules = table[key]
            del rules[rule_id]
            if not rules:
                del table[key]
        if not table:
            del self._tables[filed.signature]
            self._plans = _plans(self._tables)
        return True

    def candidates(self, event: Mapping[str, Any]) -> list[str]:
        """Ids of the rules whose exact fields the event has: the only ones :meth:`match` runs."""
        return self._run(event, check=False)

    def match(self, event: Mapping[str, Any]) -> list[str]:
        """Ids of the rules whose pattern matches the event, in the order they were added."""
        return self._run(event, check=True)

    def _run(self, event: Mapping[str, Any], *, check: bool) -> list[str]:
        if event.__class__ is not dict:
            if not isinstance(event, Mapping):
                return []
            event = dict(event)
        found = [rule_id for rule_id, root in self._unfiled.items() if not check or root.match_object(event)]
        get = event.get
        columns: dict[Path, tuple[str, ...]] = {}
        hits = 0
        for top, signature, table in self._plans:
            entries: list[dict[str, Node]] | None = None
            if len(top) == 2:  # the usual signatures: one or two top-level string fields
                a, b = get(top[0]), get(top[1])
                if a.__class__ is str and b.__class__ is str:
                    rules = table.get((a, b))
                    entries = [rules] if rules else _NONE
            elif top:
                a = get(top[0])
                if a.__class__ is str:
                    rules = table.get((a,))
                    entries = [rules] if rules else _NONE
            if entries is None:
                entries = _lookups(event, signature, table, columns)
            for rules in entries:
                hits += 1
                for rule_id, root in rules.items():
                    if not check or root.match_object(event):
                        found.append(rule_id)
        if hits > 1:  # one rule can sit under several keys the event hits (arrays)
            found = list(dict.fromkeys(found))
        if len(found) > 1:
            found.sort(key=lambda rule_id: self._rules[rule_id].order)
        return found


_Table = dict[tuple[str, ...], dict[str, Node]]
_Plan = tuple[tuple[str, ...], Signature, _Table]


def _plans(tables: dict[Signature, _Table]) -> list[_Plan]:
    """Per signature, its field names when all are top-level (the fast path), else ()."""
    plans: list[_Plan] = []
    for signature, table in tables.items():
        top = tuple(path[0] for path in signature if len(path) == 1)
        plans.append((top if len(top) == len(signature) else (), signature, table))
    return plans


def _lookups(
    event: Mapping[str, Any],
    signature: Signature,
    table: _Table,
    columns: dict[Path, tuple[str, ...]],
) -> list[dict[str, Node]]:
    """The table entries for every combination of the event's values at the signature's paths."""
    values: list[tuple[str, ...]] = []
    single = True
    for path in signature:
        column = columns.get(path)
        if column is None:
            column = columns[path] = _strings_at(event, path)
        if not column:
            return _NONE
        if len(column) > 1:
            single = False
        values.append(column)
    if single:
        rules = table.get(values[0] if len(values) == 1 else (values[0][0], values[1][0]))
        return [rules] if rules else _NONE
    return [rules for key in itertools.product(*values) if (rules := table.get(key))]


def _filing(pattern: Pattern) -> tuple[Signature, tuple[tuple[str, ...], ...]]:
    """The signature and value keys a pattern is filed under (empty: it has no exact field)."""
    fields = sorted(pattern.exact_fields(), key=lambda field: (len(field[1]), len(field[0]), field[0]))
    if not fields:
        return (), ()
    chosen = fields[:1]
    if len(fields) > 1 and len(fields[0][1]) * len(fields[1][1]) <= _MAX_COMBINATIONS:
        chosen = sorted(fields[:2])
    signature = tuple(path for path, _ in chosen)
    keys = tuple(itertools.product(*(sorted(values) for _, values in chosen)))
    return signature, keys


def _strings_at(event: Mapping[str, Any], path: Path) -> tuple[str, ...]:
    """The distinct strings at a path of the event, through objects and arrays."""
    if len(path) == 1:  # the usual cases: a top-level string, or objects down to a string
        value = event.get(path[0])
        if value.__class__ is str:
            return (value,)
    else:
        value = event
        for key in path:
            if value.__class__ is not dict:
                break
            value = value.get(key)
        else:
            if value.__class__ is str:
                return (value,)
    current: list[Any] = [event if event.__class__ is dict else dict(event)]
    for key in path:
        following: list[Any] = []
        for item in current:
            if item.__class__ is dict:
                if key in item:
                    following.append(item[key])
            elif item.__class__ is list:
                stack = list(item)
                while stack:
                    element = stack.pop()
                    if element.__class__ is dict and key in element:
                        following.append(element[key])
                    elif element.__class__ is list:
                        stack.extend(element)
        current = following
        if not current:
            return ()
    strings: dict[str, None] = {}
    while current:
        item = current.pop()
        if item.__class__ is str:
            strings[item] = None
        elif item.__class__ is list:
            current.extend(item)
    return tuple(strings)
