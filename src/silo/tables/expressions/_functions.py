"""The functions of condition expressions: their checks (DynamoDB's messages) and predicates.

``attribute_exists(path)``, ``attribute_not_exists(path)``, ``attribute_type(path, :type)``,
``begins_with(path, operand)``, ``contains(path, operand)`` are conditions; ``size(path)`` is an
operand (a number). Names are case-sensitive.
"""

from __future__ import annotations

import base64
from decimal import Decimal

from silo.tables.expressions._paths import Getter, path_text
from silo.tables.expressions._predicates import Compiled, Predicate
from silo.tables.expressions._tokens import expression_error
from silo.tables.values import Item, TypedValue, equal

CONDITION_FUNCTIONS = {
    "attribute_exists": 1,
    "attribute_not_exists": 1,
    "attribute_type": 2,
    "begins_with": 2,
    "contains": 2,
    "size": 1,
}
ATTRIBUTE_TYPES = ("S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M")


def check_call(name: str, args: list[Compiled], kind: str, position: int) -> None:
    """DynamoDB's checks of a call, in its order: number of operands, distinct paths, types."""
    if len(args) != CONDITION_FUNCTIONS[name]:
        raise expression_error(
            kind,
            "Incorrect number of operands for operator or function; "
            f"operator or function: {name}, number of operands: {len(args)}",
            position,
        )
    check_distinct(name, args, kind, position)
    if name in ("attribute_exists", "attribute_not_exists") and args[0].path is None:
        raise expression_error(
            kind, f"Operator or function requires a document path; operator or function: {name}", position
        )
    if name == "begins_with":
        for arg in args:
            if arg.type is not None and arg.type not in ("S", "B"):
                raise operand_type_error(kind, name, arg.type, position)
    if name == "size" and args[0].type in ("N", "BOOL", "NULL"):
        raise operand_type_error(kind, name, args[0].type or "", position)
    if name == "attribute_type":
        wanted = args[1].constant
        if wanted is None or "S" not in wanted:
            shown = args[1].type or "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}"
            raise operand_type_error(kind, name, shown, position)
        if wanted["S"] not in ATTRIBUTE_TYPES:
            raise expression_error(
                kind,
                f"Invalid attribute type name found; type: {wanted['S']}, "
                "valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}",
                position,
            )


def check_distinct(operator: str, args: list[Compiled], kind: str, position: int) -> None:
    if len(args) == 2 and args[0].path is not None and args[0].path == args[1].path:
        raise expression_error(
            kind,
            "The first operand must be distinct from the remaining operands for this operator or "
            f"function; operator: {operator}, first operand: {path_text(args[0].path)}",
            position,
        )


def operand_type_error(kind: str, name: str, shown: str, position: int) -> Exception:
    return expression_error(
        kind,
        "Incorrect operand type for operator or function; "
        f"operator or function: {name}, operand type: {shown}",
        position,
    )


def function_predicate(name: str, args: list[Compiled]) -> Predicate:
    """The predicate of a condition function (checked by :func:`check_call`)."""
    get = args[0].get
    if name == "attribute_exists":
        return lambda item: get(item) is not None
    if name == "attribute_not_exists":
        return lambda item: get(item) is None
    if name == "attribute_type":
        assert args[1].constant is not None
        wanted = args[1].constant["S"]
        return lambda item: (found := get(item)) is not None and wanted in found
    if name == "begins_with":
        return _begins_with(get, args[1])
    return _contains(get, args[1].get)


def size_getter(get: Getter) -> Getter:
    """``size(path)``: characters of an S, bytes of a B, members of a set, list or map."""

    def size(item: Item) -> TypedValue | None:
        found = get(item)
        if found is None:
            return None
        ((kind, raw),) = found.items()
        if kind == "B":
            return {"N": str(len(base64.b64decode(raw)))}
        if kind in ("S", "SS", "NS", "BS", "L", "M"):
            return {"N": str(len(raw))}
        return None

    return size


def _begins_with(get: Getter, prefix: Compiled) -> Predicate:
    if prefix.constant is not None and "S" in prefix.constant:
        start = prefix.constant["S"]

        def begins_with_text(item: Item) -> bool:
            found = get(item)
            text = None if found is None else found.get("S")
            return text is not None and text.startswith(start)

        return begins_with_text
    get_prefix = prefix.get

    def begins_with(item: Item) -> bool:
        found, wanted = get(item), get_prefix(item)
        if found is None or wanted is None:
            return False
        ((kind, raw),) = found.items()
        ((other, start),) = wanted.items()
        if kind != other:
            return False
        if kind == "S":
            return bool(raw.startswith(start))
        if kind == "B":
            return base64.b64decode(raw).startswith(base64.b64decode(start))
        return False

    return begins_with


def _contains(get: Getter, get_member: Getter) -> Predicate:
    def contains(item: Item) -> bool:
        found, member = get(item), get_member(item)
        return found is not None and member is not None and value_contains(found, member)

    return contains


def value_contains(container: TypedValue, member: TypedValue) -> bool:
    """``contains``: a substring of an S (or B), a member of a set, an element of a list."""
    ((kind, raw),) = container.items()
    ((other, wanted),) = member.items()
    if kind == "L":
        return any(equal(element, member) for element in raw)
    if kind in ("S", "B"):
        if other != kind:
            return False
        if kind == "S":
            return bool(wanted in raw)
        return base64.b64decode(wanted) in base64.b64decode(raw)
    if kind in ("SS", "BS"):
        return other == kind[0] and wanted in raw
    if kind == "NS":
        if other != "N":
            return False
        number = Decimal(wanted)
        return any(Decimal(m) == number for m in raw)
    return False
