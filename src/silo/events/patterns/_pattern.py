"""A compiled pattern: a tree of :class:`Node` (objects) ending in :class:`Leaf` (match lists).

Matching walks the pattern, not the event, so an event's size matters only along the paths the
pattern names. A node is an AND of its fields and of its ``$or`` groups (each group: any one
alternative, on the same object). Where the event has an array of objects, the node must match
within one element: fields of different elements never combine, which is how EventBridge matches
arrays of objects (``{"a": {"x": [1], "y": [2]}}`` does not match ``{"a": [{"x": 1}, {"y": 2}]}``).
An object pattern meeting a missing field, a scalar or an array without objects sees an empty
object, so ``{"exists": false}`` under it matches.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any

from silo.events.patterns._leaf import MISSING, Leaf

_EMPTY: Mapping[str, Any] = MappingProxyType({})


class Node:
    """An object in the pattern; :attr:`matches` takes the event's value at its place,
    :attr:`match_object` an object (both closures built for this node)."""

    __slots__ = ("alternatives", "fields", "match_object", "matches")

    def __init__(
        self, fields: tuple[tuple[str, Node | Leaf], ...], alternatives: tuple[tuple[Node, ...], ...]
    ) -> None:
        self.fields = fields
        self.alternatives = alternatives
        self.match_object = _object_matcher(fields, alternatives)
        self.matches = _value_matcher(self.match_object)

    def without(self, keys: set[str]) -> Node:
        """This node less some fields (those an index has already checked)."""
        return Node(tuple(field for field in self.fields if field[0] not in keys), self.alternatives)


class Pattern:
    """A compiled EventBridge event pattern (from :func:`compile_pattern`)."""

    __slots__ = ("root", "source")

    def __init__(self, root: Node, source: dict[str, Any]) -> None:
        self.root = root
        self.source = source

    def matches(self, event: Mapping[str, Any]) -> bool:
        """Whether the event (a JSON object, e.g. the envelope :func:`build_event` makes) matches."""
        return (event.__class__ is dict or isinstance(event, Mapping)) and self.root.match_object(event)

    def exact_fields(self) -> list[tuple[tuple[str, ...], frozenset[str]]]:
        """(path, values) of the fields every matching event has with one of these exact strings;
        what :class:`RuleIndex` files a rule under."""
        found: list[tuple[tuple[str, ...], frozenset[str]]] = []
        pending: list[tuple[tuple[str, ...], Node]] = [((), self.root)]
        while pending:
            prefix, node = pending.pop()
            for key, child in node.fields:
                if isinstance(child, Node):
                    pending.append(((*prefix, key), child))
                elif child.index_values is not None:
                    found.append(((*prefix, key), child.index_values))
        return found

    @property
    def text(self) -> str:
        """The pattern as compact JSON, as a rule stores it."""
        return json.dumps(self.source, separators=(",", ":"), ensure_ascii=False)

    def __repr__(self) -> str:
        return f"Pattern({self.text})"


def _object_matcher(
    fields: tuple[tuple[str, Node | Leaf], ...], alternatives: tuple[tuple[Node, ...], ...]
) -> Callable[[Mapping[str, Any]], bool]:
    """AND of the fields and of the ``$or`` groups (any alternative of each, on the same object)."""
    checks = tuple((key, child.matches) for key, child in fields)
    groups = tuple(tuple(alternative.match_object for alternative in group) for group in alternatives)
    if len(checks) == 1 and not groups:
        ((only_key, only_check),) = checks
        return lambda obj: only_check(obj.get(only_key, MISSING))

    def match_object(obj: Mapping[str, Any]) -> bool:
        get = obj.get
        for key, check in checks:
            if not check(get(key, MISSING)):
                return False
        for group in groups:
            for alternative in group:
                if alternative(obj):
                    break
            else:
                return False
        return True

    return match_object


def _value_matcher(match_object: Callable[[Mapping[str, Any]], bool]) -> Callable[[Any], bool]:
    """The node against whatever the event has at its place."""

    def matches(value: Any) -> bool:
        cls = value.__class__
        if cls is dict:
            return match_object(value)
        if cls is list:
            found = False
            for item in _objects_of(value):
                found = True
                if match_object(item):
                    return True
            if found:
                return False
        return match_object(_EMPTY)

    return matches


def _objects_of(values: list[Any]) -> Iterator[Mapping[str, Any]]:
    """The objects in an event array, arrays in it flattened."""
    stack = [iter(values)]
    while stack:
        for item in stack[-1]:
            cls = item.__class__
            if cls is dict:
                yield item
            elif cls is list:
                stack.append(iter(item))
                break
        else:
            stack.pop()
