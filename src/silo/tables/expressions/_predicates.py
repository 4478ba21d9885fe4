"""Predicates over items, built once per expression and run per item (the hot path of a scan).

Each builder takes compiled operands and returns a closure ``item -> bool``, specialised when one
side is a constant (the usual ``attr = :v``) so that evaluating costs a dict lookup or two and one
comparison. Semantics are DynamoDB's: an operand that is missing, or of another type than the other
side, makes a comparison false (and ``<>`` true); ``<``, ``>``, ``BETWEEN`` order only S, N and B.
"""

from __future__ import annotations

import base64
import operator
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from silo.tables.expressions._paths import DocumentPath, Getter
from silo.tables.values import Item, TypedValue, equal

Predicate = Callable[[Item], bool]
ORDERED = ("S", "N", "B")
_ORDER_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "<>": "<>"}


@dataclass(frozen=True, slots=True)
class Compiled:
    """An operand ready to evaluate: ``get`` reads it from an item; ``path`` when it is a document
    path, ``constant`` when it is a value placeholder, ``type`` when its type is known up front
    (a constant's, ``N`` for ``size``), ``function`` when it is a function call."""

    get: Getter
    path: DocumentPath | None = None
    constant: TypedValue | None = None
    type: str | None = None
    function: str | None = None


def constant(value: bool) -> Predicate:
    return (lambda item: True) if value else (lambda item: False)


def order_key(value: TypedValue) -> tuple[str, Any] | None:
    """(type, comparable) of an S, N or B value; None for any other type."""
    ((kind, raw),) = value.items()
    if kind == "S":
        return kind, raw
    if kind == "N":
        return kind, Decimal(raw)
    if kind == "B":
        return kind, base64.b64decode(raw)
    return None


# --- = and <> ------------------------------------------------------------------------------------
def equality(left: Compiled, right: Compiled) -> Predicate:
    if right.constant is not None and left.constant is None:
        return _equals_constant(left.get, right.constant)
    if left.constant is not None and right.constant is None:
        return _equals_constant(right.get, left.constant)
    get_left, get_right = left.get, right.get

    def equals(item: Item) -> bool:
        a, b = get_left(item), get_right(item)
        return a is not None and b is not None and equal(a, b)

    return equals


def _equals_constant(get: Getter, value: TypedValue) -> Predicate:
    ((kind, raw),) = value.items()
    if kind in ("S", "BOOL", "B"):

        def equals_scalar(item: Item) -> bool:
            found = get(item)
            return found is not None and found.get(kind) == raw

        return equals_scalar
    if kind == "N":
        number = Decimal(raw)

        def equals_number(item: Item) -> bool:
            found = get(item)
            if found is None:
                return False
            text = found.get("N")
            return text is not None and (text == raw or Decimal(text) == number)

        return equals_number

    def equals_value(item: Item) -> bool:
        found = get(item)
        return found is not None and equal(found, value)

    return equals_value


def negation(predicate: Predicate) -> Predicate:
    return lambda item: not predicate(item)


# --- < <= > >= BETWEEN ---------------------------------------------------------------------------
def ordering(op: str, left: Compiled, right: Compiled) -> Predicate:
    if left.constant is not None and right.constant is None:
        return ordering(FLIPPED[op], right, left)
    test = _ORDER_OPS[op]
    if right.constant is not None:
        bound = order_key(right.constant)
        if bound is None:
            return constant(False)
        if left.constant is not None:
            key = order_key(left.constant)
            return constant(key is not None and key[0] == bound[0] and test(key[1], bound[1]))
        return _against_bound(left.get, bound[0], bound[1], test)
    get_left, get_right = left.get, right.get

    def compares(item: Item) -> bool:
        a, b = get_left(item), get_right(item)
        if a is None or b is None:
            return False
        key_a, key_b = order_key(a), order_key(b)
        return key_a is not None and key_b is not None and key_a[0] == key_b[0] and test(key_a[1], key_b[1])

    return compares


def _against_bound(get: Getter, kind: str, bound: Any, test: Callable[[Any, Any], bool]) -> Predicate:
    if kind == "S":

        def against_string(item: Item) -> bool:
            found = get(item)
            text = None if found is None else found.get("S")
            return text is not None and test(text, bound)

        return against_string
    if kind == "N":

        def against_number(item: Item) -> bool:
            found = get(item)
            text = None if found is None else found.get("N")
            return text is not None and test(Decimal(text), bound)

        return against_number

    def against_binary(item: Item) -> bool:
        found = get(item)
        data = None if found is None else found.get("B")
        return data is not None and test(base64.b64decode(data), bound)

    return against_binary


def between(operand: Compiled, low: Compiled, high: Compiled) -> Predicate:
    above = ordering(">=", operand, low)
    below = ordering("<=", operand, high)
    return lambda item: above(item) and below(item)


# --- IN ------------------------------------------------------------------------------------------
def membership(operand: Compiled, options: list[Compiled]) -> Predicate:
    get = operand.get
    if any(option.constant is None for option in options):
        getters = [option.get for option in options]

        def in_any(item: Item) -> bool:
            found = get(item)
            if found is None:
                return False
            for option in getters:
                value = option(item)
                if value is not None and equal(found, value):
                    return True
            return False

        return in_any
    hashed: dict[str, set[Any]] = {}
    others: list[TypedValue] = []
    for option in options:
        assert option.constant is not None
        ((kind, raw),) = option.constant.items()
        if kind in ("S", "B", "BOOL"):
            hashed.setdefault(kind, set()).add(raw)
        elif kind == "N":
            hashed.setdefault(kind, set()).add(Decimal(raw))
        else:
            others.append(option.constant)

    def in_constants(item: Item) -> bool:
        found = get(item)
        if found is None:
            return False
        ((kind, raw),) = found.items()
        members = hashed.get(kind)
        if members is not None:
            return (Decimal(raw) if kind == "N" else raw) in members
        return any(equal(found, other) for other in others)

    return in_constants
