"""Choice rules: checking them (for the definition) and evaluating them (for the interpreter).

JSONPath rules compare the value at ``Variable`` with one operator (``StringEquals``,
``NumericLessThanPath``, ``IsPresent``, ...) or combine rules with ``And``/``Or``/``Not``. A
comparison of a value of the wrong type is false, as in Step Functions; a ``Variable`` (or
``...Path`` operand) that is missing raises ``States.Runtime``, except for ``IsPresent``. JSONata
rules have a ``Condition``: a ``{% ... %}`` expression (or a literal boolean) that must give a boolean.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from silo.workflows import expressions
from silo.workflows.errors import QUERY_EVALUATION, StatesError
from silo.workflows.paths import cached_path

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": operator.eq,
    "LessThan": operator.lt,
    "GreaterThan": operator.gt,
    "LessThanEquals": operator.le,
    "GreaterThanEquals": operator.ge,
}
_KINDS = ("String", "Numeric", "Boolean", "Timestamp")
TESTS = ("IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp")
COMPARISONS = frozenset(
    f"{kind}{name}{suffix}"
    for kind in _KINDS
    for name in _COMPARE
    if kind != "Boolean" or name == "Equals"
    for suffix in ("", "Path")
) | {"StringMatches", *TESTS}
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


def parse_timestamp(value: Any) -> datetime | None:
    """An RFC 3339 timestamp (``2016-03-14T01:59:00Z``), or None when ``value`` is not one."""
    if not isinstance(value, str) or _TIMESTAMP.fullmatch(value) is None:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _kind_ok(kind: str, value: Any) -> bool:
    return {
        "String": lambda: isinstance(value, str),
        "Numeric": lambda: _is_number(value),
        "Boolean": lambda: isinstance(value, bool),
        "Timestamp": lambda: parse_timestamp(value) is not None,
    }[kind]()


def check_rule(rule: Any, where: str, *, top: bool) -> None:
    """Raise ValueError (starting with the JSON path) for a malformed JSONPath choice rule."""
    if not isinstance(rule, dict):
        raise ValueError(f"{where}: a choice rule must be an object")
    if top and not isinstance(rule.get("Next"), str):
        raise ValueError(f"{where}.Next: a top-level choice rule needs Next")
    if not top and "Next" in rule:
        raise ValueError(f"{where}.Next: only top-level choice rules have Next")
    allowed = {"Next", "Comment", "Variable", "And", "Or", "Not", "Assign", *COMPARISONS}
    for key in rule:
        if key not in allowed:
            raise ValueError(f"{where}.{key}: unknown comparison operator or field")
    combinators = [key for key in ("And", "Or", "Not") if key in rule]
    operators = [key for key in rule if key in COMPARISONS]
    if len(combinators) + len(operators) != 1:
        raise ValueError(f"{where}: a choice rule needs exactly one comparison operator or And/Or/Not")
    if combinators:
        key = combinators[0]
        if "Variable" in rule:
            raise ValueError(f"{where}.Variable: And/Or/Not take no Variable")
        if key == "Not":
            check_rule(rule["Not"], f"{where}.Not", top=False)
            return
        if not isinstance(rule[key], list) or not rule[key]:
            raise ValueError(f"{where}.{key}: must be a non-empty array of rules")
        for index, inner in enumerate(rule[key]):
            check_rule(inner, f"{where}.{key}[{index}]", top=False)
        return
    _check_comparison(rule, operators[0], where)


def _check_comparison(rule: dict[str, Any], name: str, where: str) -> None:
    if "Variable" not in rule:
        raise ValueError(f"{where}.Variable: a comparison needs Variable")
    _check_path(rule["Variable"], f"{where}.Variable")
    value = rule[name]
    at = f"{where}.{name}"
    if name in TESTS:
        if not isinstance(value, bool):
            raise ValueError(f"{at}: must be true or false")
    elif name.endswith("Path"):
        _check_path(value, at)
    elif name == "StringMatches" or name.startswith("String"):
        if not isinstance(value, str):
            raise ValueError(f"{at}: must be a string")
    elif not _kind_ok(next(kind for kind in _KINDS if name.startswith(kind)), value):
        raise ValueError(f"{at}: {value!r} is not a valid operand for {name}")


def _check_path(value: Any, at: str) -> None:
    try:
        cached_path(value, True)
    except ValueError as error:
        raise ValueError(f"{at}: {error}") from None


def evaluate_rule(rule: Mapping[str, Any], data: Any, context: Any, variables: Any) -> bool:
    """Whether a (checked) JSONPath choice rule matches ``data``."""
    if "And" in rule:
        return all(evaluate_rule(inner, data, context, variables) for inner in rule["And"])
    if "Or" in rule:
        return any(evaluate_rule(inner, data, context, variables) for inner in rule["Or"])
    if "Not" in rule:
        return not evaluate_rule(rule["Not"], data, context, variables)
    name = next(key for key in rule if key in COMPARISONS)
    variable = cached_path(rule["Variable"], True)
    expected = rule[name]
    if name == "IsPresent":
        return variable.exists(data, context, variables) is expected
    value = variable.get(data, context, variables)
    if name in TESTS:
        return _test(name, value) is expected
    if name.endswith("Path"):
        expected = cached_path(expected, True).get(data, context, variables)
        name = name.removesuffix("Path")
    if name == "StringMatches":
        return isinstance(value, str) and isinstance(expected, str) and string_matches(value, expected)
    kind = next(kind for kind in _KINDS if name.startswith(kind))
    if not (_kind_ok(kind, value) and _kind_ok(kind, expected)):
        return False
    if kind == "Timestamp":
        value, expected = parse_timestamp(value), parse_timestamp(expected)
    return _COMPARE[name.removeprefix(kind)](value, expected)


def _test(name: str, value: Any) -> bool:
    return {
        "IsNull": value is None,
        "IsNumeric": _is_number(value),
        "IsString": isinstance(value, str),
        "IsBoolean": isinstance(value, bool),
        "IsTimestamp": parse_timestamp(value) is not None,
    }[name]


def string_matches(value: str, pattern: str) -> bool:
    """``StringMatches``: ``*`` matches any run of characters; ``\\*`` and ``\\\\`` are literal."""
    parts: list[str] = []
    position = 0
    while position < len(pattern):
        char = pattern[position]
        if char == "\\" and position + 1 < len(pattern):
            parts.append(re.escape(pattern[position + 1]))
            position += 2
            continue
        parts.append(".*" if char == "*" else re.escape(char))
        position += 1
    return re.fullmatch("".join(parts), value, re.DOTALL) is not None


def evaluate_condition(condition: Any, states: dict[str, Any], variables: dict[str, Any]) -> bool:
    """A JSONata rule's ``Condition``; anything but a boolean raises States.QueryEvaluationError."""
    value = expressions.evaluate_template(condition, states, variables)
    if not isinstance(value, bool):
        raise StatesError(QUERY_EVALUATION, f"The Condition {condition!r} gave {value!r}, not a boolean")
    return value
