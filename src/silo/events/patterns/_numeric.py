"""Numbers as EventBridge compares them, and the ``numeric`` operator.

EventBridge turns every number it compares into a fixed-point value: numbers between -5.0e9 and
+5.0e9 inclusive, six digits to the right of the decimal point (``floor(1e6 * (5e9 + x))``, in
double arithmetic). So ``300``, ``300.0`` and ``3.0e2`` are the same number, ``0.0000001`` is
``0``, and a number outside the range never matches a ``numeric`` range. Pattern numbers outside
the range are rejected.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from silo.events.errors import InvalidPattern

LIMIT = 5.0e9
_RANGE_ERROR = "Value must be between -5.0E9 and 5.0E9, inclusive"
_OPERATORS = ("<", "<=", "=", ">", ">=")


def is_number(value: Any) -> bool:
    """A JSON number (a bool is not one, though Python makes it an int)."""
    cls = value.__class__
    return cls is int or cls is float


def comparable(value: float) -> int | None:
    """The fixed-point form EventBridge compares, or None outside -5.0e9..5.0e9."""
    if -LIMIT <= value <= LIMIT:
        return int(1e6 * (LIMIT + value))
    return None


def pattern_number(value: Any, path: str) -> int:
    """A number written in a pattern, in fixed-point form; out of range is an error."""
    fixed = comparable(value)
    if fixed is None:
        raise InvalidPattern(_RANGE_ERROR, path)
    return fixed


def numeric_test(spec: Any, path: str) -> Callable[[Any], bool]:
    """Compile ``{"numeric": spec}``: ``["=", x]``, ``["<" | "<=", x]``, or ``[">" | ">=", x]``
    optionally followed by ``"<" | "<=", y`` with x < y. Messages as EventBridge's."""
    if not isinstance(spec, list):
        raise InvalidPattern("Value of numeric must be an array.", path)
    if not spec or not isinstance(spec[0], str):
        member = "]" if not spec else _text(spec[0])
        raise InvalidPattern(f"Invalid member in numeric match: {member}", path)
    operator = spec[0]
    if operator not in _OPERATORS:
        raise InvalidPattern(f"Unrecognized numeric range operator: {operator}", path)
    first = _operand(spec, 1, operator, path)
    if operator == "=":
        _no_more(spec, 2, "Too many elements in numeric expression", path)
        return _between(first, False, first, False)
    if operator in ("<", "<="):
        _no_more(spec, 2, "Too many elements in numeric expression", path)
        return _between(None, False, first, operator == "<")
    if len(spec) == 2:
        return _between(first, operator == ">", None, False)
    upper_operator = spec[2]
    if not isinstance(upper_operator, str):
        raise InvalidPattern(f"Bad value in numeric range: {_text(upper_operator)}", path)
    if upper_operator not in ("<", "<="):
        raise InvalidPattern(f"Bad numeric range operator: {upper_operator}", path)
    second = _operand(spec, 3, upper_operator, path)
    _no_more(spec, 4, "Too many terms in numeric range expression", path)
    if second <= first:
        raise InvalidPattern("Bottom must be less than top", path)
    return _between(first, operator == ">", second, upper_operator == "<")


def _operand(spec: list[Any], at: int, operator: str, path: str) -> int:
    if at >= len(spec) or not is_number(spec[at]):
        raise InvalidPattern(f"Value of {'equals' if operator == '=' else operator} must be numeric", path)
    return pattern_number(spec[at], path)


def _no_more(spec: list[Any], length: int, message: str, path: str) -> None:
    if len(spec) > length:
        raise InvalidPattern(message, path)


def _between(low: int | None, low_open: bool, high: int | None, high_open: bool) -> Callable[[Any], bool]:
    def test(value: Any) -> bool:
        cls = value.__class__
        if cls is not int and cls is not float:
            return False
        fixed = comparable(value)
        if fixed is None:
            return False
        if low is not None and (fixed <= low if low_open else fixed < low):
            return False
        return high is None or (fixed < high if high_open else fixed <= high)

    return test


def _text(value: Any) -> str:
    """A JSON member as the error message shows it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{"
    if isinstance(value, list):
        return "["
    return str(value)
