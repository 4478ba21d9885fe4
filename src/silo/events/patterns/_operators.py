"""Match expressions: the ``{"operator": argument}`` objects in a field's list of match values.

Each one is checked as EventBridge checks it (same reasons, word for word where EventBridge has
one) and added to the field's :class:`LeafBuilder` as a test. String operators only ever match
string values; ``anything-but`` matches every present value that is not excluded, whatever its type
(``null`` and numbers included), but never a missing field.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from silo.events.errors import InvalidPattern
from silo.events.patterns._leaf import LeafBuilder, Test
from silo.events.patterns._numeric import comparable, is_number, numeric_test, pattern_number
from silo.events.patterns._wildcard import parse_wildcard, wildcard_test

OPERATORS = frozenset(
    {"anything-but", "cidr", "equals-ignore-case", "exists", "numeric", "prefix", "suffix", "wildcard"}
)
_ANYTHING_BUT_VALUE = "Value of anything-but must be an array or single string/number value."
_WILDCARD_TYPE = "wildcard match pattern must be a string"
_IGNORE_CASE_LIST = "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."


def add_expression(expression: dict[str, Any], path: str, leaf: LeafBuilder) -> None:
    """Check one match expression and add it to ``leaf``."""
    operator, argument = _single(expression, "Match expression name not found", path)
    if operator == "exists":
        if not isinstance(argument, bool):
            raise InvalidPattern("exists match pattern must be either true or false.", path)
        if argument:
            leaf.present = True
        else:
            leaf.absent = True
    elif operator in ("prefix", "suffix"):
        leaf.tests.append(_affix(operator, argument, path))
    elif operator == "equals-ignore-case":
        if not isinstance(argument, str):
            raise InvalidPattern("equals-ignore-case match pattern must be a string", path)
        lowered = argument.lower()
        leaf.tests.append(lambda value: value.__class__ is str and value.lower() == lowered)
    elif operator == "wildcard":
        if not isinstance(argument, str):
            raise InvalidPattern(_WILDCARD_TYPE, path)
        pieces = parse_wildcard(argument, path)
        leaf.wildcards.append(pieces)
        leaf.tests.append(wildcard_test(pieces))
    elif operator == "numeric":
        leaf.tests.append(numeric_test(argument, path))
    elif operator == "cidr":
        leaf.tests.append(_cidr(argument, path))
    elif operator == "anything-but":
        leaf.tests.append(_anything_but(argument, path, leaf))
    else:
        raise InvalidPattern(f"Unrecognized match type {operator}", path)


def _single(expression: dict[str, Any], empty: str, path: str) -> tuple[str, Any]:
    if not expression:
        raise InvalidPattern(empty, path)
    if len(expression) > 1:
        raise InvalidPattern("Only one key allowed in match expression", path)
    return next(iter(expression.items()))


def _affix(operator: str, argument: Any, path: str) -> Test:
    """``prefix`` / ``suffix``, plain or ``{"equals-ignore-case": ...}``."""
    ignore_case = False
    if isinstance(argument, dict):
        inner, argument = _single(argument, "Match expression name not found", path)
        if inner != "equals-ignore-case":
            raise InvalidPattern(f"Unsupported {operator} pattern: {inner}", path)
        if not isinstance(argument, str):
            raise InvalidPattern("equals-ignore-case match pattern must be a string", path)
        ignore_case = True
    if not isinstance(argument, str):
        raise InvalidPattern(f"{operator} match pattern must be a string", path)
    text = argument.lower() if ignore_case else argument
    if operator == "prefix":
        if ignore_case:
            return lambda value: value.__class__ is str and value.lower().startswith(text)
        return lambda value: value.__class__ is str and value.startswith(text)
    if ignore_case:
        return lambda value: value.__class__ is str and value.lower().endswith(text)
    return lambda value: value.__class__ is str and value.endswith(text)


def _cidr(argument: Any, path: str) -> Test:
    if not isinstance(argument, str):
        raise InvalidPattern("prefix match pattern must be a string", path)  # EventBridge's wording
    parts = argument.split("/")
    if len(parts) != 2:
        raise InvalidPattern("Malformed CIDR, one '/' required", path)
    address_text, bits = parts
    if not (bits.isascii() and bits.isdigit()):
        raise InvalidPattern("Malformed CIDR, mask bits must be an integer", path)
    address = _ip(address_text)
    if address is None:
        raise InvalidPattern(f"Nonstandard IP address: {address_text}", path)
    if int(bits) > address.max_prefixlen:
        raise InvalidPattern(f"Malformed CIDR, mask bits must be between 0 and {address.max_prefixlen}", path)
    network = ipaddress.ip_network(f"{address}/{int(bits)}", strict=False)

    def test(value: Any) -> bool:
        if value.__class__ is not str:
            return False
        parsed = _ip(value)
        return parsed is not None and parsed in network  # False across IPv4 / IPv6

    return test


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if "%" in text:  # zone ids are not addresses EventBridge compares
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _anything_but(argument: Any, path: str, leaf: LeafBuilder) -> Test:
    if isinstance(argument, dict):
        operator, inner = _single(argument, "Anything-But expression name not found", path)
        if operator in ("prefix", "suffix"):
            texts = _strings(inner, "prefix/suffix match pattern must be a string", path)
            if "" in texts:
                raise InvalidPattern("Null prefix/suffix not allowed", path)
            found = _affix_any(operator, tuple(texts))
            return lambda value: not found(value)
        if operator == "equals-ignore-case":
            lowered = frozenset(text.lower() for text in _strings(inner, _IGNORE_CASE_LIST, path))
            return lambda value: not (value.__class__ is str and value.lower() in lowered)
        if operator == "wildcard":
            all_pieces = [parse_wildcard(text, path) for text in _strings(inner, _WILDCARD_TYPE, path)]
            leaf.wildcards.extend(all_pieces)
            tests = [wildcard_test(pieces) for pieces in all_pieces]
            return lambda value: not any(test(value) for test in tests)
        raise InvalidPattern(f"Unsupported anything-but pattern: {operator}", path)
    if isinstance(argument, str):
        return _not_strings(frozenset([argument]))
    if is_number(argument):
        return _not_numbers(frozenset([pattern_number(argument, path)]))
    if not isinstance(argument, list):
        raise InvalidPattern(_ANYTHING_BUT_VALUE, path)
    if any(not (isinstance(item, str) or is_number(item)) for item in argument):
        raise InvalidPattern("Inside anything but list, start|null|boolean is not supported.", path)
    strings = [item for item in argument if isinstance(item, str)]
    if not argument or (strings and len(strings) != len(argument)):
        raise InvalidPattern(
            "Inside anything but list, either all values are number or string, mixed type is not supported",
            path,
        )
    if strings:
        return _not_strings(frozenset(strings))
    return _not_numbers(frozenset(pattern_number(item, path) for item in argument))


def _strings(inner: Any, message: str, path: str) -> list[str]:
    """A string or a non-empty list of strings, as ``anything-but``'s nested operators take."""
    if isinstance(inner, str):
        return [inner]
    if isinstance(inner, dict):
        raise InvalidPattern(_ANYTHING_BUT_VALUE, path)
    if not isinstance(inner, list) or not all(isinstance(item, str) for item in inner):
        raise InvalidPattern(message, path)
    if not inner:
        raise InvalidPattern("Empty arrays are not allowed", path)
    return list(inner)


def _affix_any(operator: str, texts: tuple[str, ...]) -> Test:
    if operator == "prefix":
        return lambda value: value.__class__ is str and value.startswith(texts)
    return lambda value: value.__class__ is str and value.endswith(texts)


def _not_strings(excluded: frozenset[str]) -> Test:
    return lambda value: not (value.__class__ is str and value in excluded)


def _not_numbers(excluded: frozenset[int]) -> Test:
    def test(value: Any) -> bool:
        return not (is_number(value) and comparable(value) in excluded)

    return test
