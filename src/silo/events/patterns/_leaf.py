"""A leaf of a pattern: the list of match values for one field, any of which may match.

The event's value at the field is flattened first: an array contributes each of its scalars (arrays
in arrays too), objects contribute nothing. No scalar at all (field missing, an object, an empty
array) means the field is absent, which only ``{"exists": false}`` matches. Exact strings, numbers,
``true``, ``false`` and ``null`` are looked up in sets; operators are tests tried in order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from silo.events.patterns._numeric import comparable

MISSING: Final = object()
Test = Callable[[Any], bool]


class Leaf:
    """Compiled match values of one field; :attr:`matches` takes the event's value (or MISSING).

    ``matches`` is a closure built for this leaf's mix of values (exact strings only, one test
    only, ...): matching runs once per candidate rule per event, so it pays to do no more.
    """

    __slots__ = ("index_values", "matches")

    def __init__(self, builder: LeafBuilder) -> None:
        strings = frozenset(builder.strings)
        exact_only = not (
            builder.fixed or builder.floats or builder.tests or builder.present or builder.absent
        )
        literal = builder.true or builder.false or builder.null
        self.index_values = strings if strings and exact_only and not literal else None
        self.matches: Test = _field_matcher(_scalar_matcher(builder), builder.absent)


def _scalar_matcher(builder: LeafBuilder) -> Test:
    """One scalar value against the leaf's values, specialised to what the leaf has."""
    strings = frozenset(builder.strings)
    fixed_set, floats = frozenset(builder.fixed), frozenset(builder.floats)
    true, false, null, present = builder.true, builder.false, builder.null, builder.present
    tests = tuple(builder.tests)
    numbers = bool(fixed_set or floats)
    if present:
        return lambda value: True
    if not (numbers or true or false or null):
        if not tests:
            return lambda value: value.__class__ is str and value in strings
        if not strings and len(tests) == 1:
            return tests[0]

    def scalar(value: Any) -> bool:
        cls = value.__class__
        if cls is str:
            if value in strings:
                return True
        elif cls is bool:
            if true if value else false:
                return True
        elif value is None:
            if null:
                return True
        elif numbers and (cls is int or cls is float):
            fixed = comparable(value)
            if (fixed in fixed_set) if fixed is not None else (value in floats):
                return True
        for test in tests:  # noqa: SIM110 - a loop costs less than any() on this hot path
            if test(value):
                return True
        return False

    return scalar


def _field_matcher(scalar: Test, absent: bool) -> Test:
    """The event's value at the field: absent, one scalar, or an array of them."""

    def matches(value: Any) -> bool:
        cls = value.__class__
        if cls is list:
            scalars = scalars_of(value)
            if not scalars:
                return absent
            for item in scalars:  # noqa: SIM110 - as above
                if scalar(item):
                    return True
            return False
        if value is MISSING or cls is dict:
            return absent
        return scalar(value)

    return matches


class LeafBuilder:
    """Collects one field's match values while the compiler reads them."""

    def __init__(self) -> None:
        self.strings: set[str] = set()
        self.fixed: set[int] = set()
        self.floats: set[float] = set()
        self.true = self.false = self.null = False
        self.tests: list[Test] = []
        self.present = self.absent = False
        self.wildcards: list[tuple[str, ...]] = []

    def exact(self, value: str | int | float | bool | None) -> None:
        if value is None:
            self.null = True
        elif value is True:
            self.true = True
        elif value is False:
            self.false = True
        elif isinstance(value, str):
            self.strings.add(value)
        else:
            fixed = comparable(value)
            if fixed is None:
                self.floats.add(float(value))
            else:
                self.fixed.add(fixed)

    def build(self) -> Leaf:
        return Leaf(self)


def scalars_of(values: list[Any]) -> list[Any]:
    """The scalars of an event array, arrays in it flattened, objects left out (no recursion)."""
    result: list[Any] = []
    stack = [iter(values)]
    while stack:
        for item in stack[-1]:
            cls = item.__class__
            if cls is list:
                stack.append(iter(item))
                break
            if cls is not dict:
                result.append(item)
        else:
            stack.pop()
    return result
