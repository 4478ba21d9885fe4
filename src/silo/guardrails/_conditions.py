"""Condition operators of guardrail statements: parsed and compiled once, evaluated many times.

Semantics follow IAM:

* A statement's conditions are ANDed: every operator block and every key under an operator must hold.
* Several values for one key are ORed: the key holds if the fact matches any of them.
* A multi-valued fact (a list) holds if any of its values matches. The negated operators
  (``StringNotEquals``, ``StringNotEqualsIgnoreCase``, ``StringNotLike``, ``NumericNotEquals``) are the
  exact negation of their positive twin: they hold only if no fact value matches any condition value.
* An absent key (missing, ``None`` or an empty list) makes every operator false, except:
  the negated operators (true, as in IAM), any ``...IfExists`` operator (true), and ``Null``
  (``{"Null": {"Key": true}}`` holds when the key is absent, ``false`` when it is present).
* Condition key names are matched case-insensitively against the facts; values are case-sensitive
  except for the ``...IgnoreCase`` operators.
* String operators compare the fact's text: ``True``/``False`` become ``"true"``/``"false"`` and numbers
  their ``str()``. ``StringLike`` globs use ``*`` (any run of characters) and ``?`` (one character).
* Numeric operators take JSON numbers only (a bool is not a number); a non-numeric fact value never
  satisfies them, ``NumericNotEquals`` included.
* ``Bool`` and ``Null`` take ``true``/``false`` or the strings ``"true"``/``"false"``; a ``Bool`` fact may be
  a bool or one of those strings, anything else does not match.
"""

from __future__ import annotations

import difflib
import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from silo.errors import InvalidPolicy

Scalar = str | int | float | bool
FactValues = tuple[Scalar, ...]

_STRING_OPS = (
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
)
_NUMERIC_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "NumericEquals": operator.eq,
    "NumericNotEquals": operator.eq,
    "NumericLessThan": operator.lt,
    "NumericLessThanEquals": operator.le,
    "NumericGreaterThan": operator.gt,
    "NumericGreaterThanEquals": operator.ge,
}
_NEGATED = frozenset({"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "NumericNotEquals"})
_BASE_OPS = (*_STRING_OPS, *_NUMERIC_CMP, "Bool", "Null")
OPERATORS: frozenset[str] = frozenset([*_BASE_OPS, *(f"{op}IfExists" for op in _BASE_OPS if op != "Null")])
_KEY_RE = re.compile(r"[A-Za-z][A-Za-z0-9_:./-]{0,127}")


def invalid(path: str, message: str) -> InvalidPolicy:
    """Build the InvalidPolicy error for ``path`` (``""`` is the whole document)."""
    return InvalidPolicy(f"{path or 'policy document'}: {message}", path=path)


def show(value: object) -> str:
    """A short repr of a bad value for an error message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def suggest(word: str, choices: list[str]) -> str:
    """``"; did you mean 'X'?"`` when a close match exists, else ``""``."""
    close = difflib.get_close_matches(word, choices, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def glob_to_regex(pattern: str) -> str:
    """Translate an IAM glob (``*`` and ``?`` only, no character classes) to a regex fragment."""
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _as_str(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def _as_bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


@dataclass(frozen=True, slots=True)
class Condition:
    """One ``operator: {key: values}`` test of a statement, compiled."""

    operator: str
    key: str
    values: tuple[Scalar, ...]
    when_absent: bool = field(repr=False, compare=False)
    test: Callable[[FactValues], bool] = field(repr=False, compare=False)

    def holds(self, facts: Mapping[str, FactValues]) -> bool:
        """Whether the condition holds for facts normalised by :func:`normalise_facts`."""
        present = facts.get(self.key.lower())
        return self.when_absent if present is None else self.test(present)


def _parse_value(base: str, value: object, path: str) -> Scalar:
    if base in _STRING_OPS:
        if not isinstance(value, str):
            raise invalid(path, f"expected a string, got {show(value)}")
        return value
    if base in _NUMERIC_CMP:
        if not _is_number(value) or not math.isfinite(value):
            raise invalid(path, f"expected a number, got {show(value)}")
        return value
    flag = _as_bool(value)
    if flag is None:
        raise invalid(path, f"expected true or false, got {show(value)}")
    return flag


def _compile(base: str, values: tuple[Scalar, ...]) -> Callable[[FactValues], bool]:
    hit: Callable[[FactValues], bool]
    if base in ("StringEquals", "StringNotEquals"):
        wanted = frozenset(values)
        hit = lambda facts: any(_as_str(f) in wanted for f in facts)  # noqa: E731
    elif base in ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"):
        folded = frozenset(_as_str(v).casefold() for v in values)
        hit = lambda facts: any(_as_str(f).casefold() in folded for f in facts)  # noqa: E731
    elif base in ("StringLike", "StringNotLike"):
        rx = re.compile("|".join(f"(?:{glob_to_regex(_as_str(v))})" for v in values), re.DOTALL)
        hit = lambda facts: any(rx.fullmatch(_as_str(f)) is not None for f in facts)  # noqa: E731
    elif base == "NumericNotEquals":
        return lambda facts: (
            all(_is_number(f) for f in facts) and not any(f == v for f in facts for v in values)
        )
    elif base in _NUMERIC_CMP:
        cmp = _NUMERIC_CMP[base]
        return lambda facts: any(_is_number(f) and cmp(f, v) for f in facts for v in values)
    elif base == "Bool":
        return lambda facts: any(_as_bool(f) in values for f in facts)
    else:  # Null, on a present key
        return lambda facts: False in values
    return (lambda facts: not hit(facts)) if base in _NEGATED else hit


def parse_conditions(raw: object, path: str) -> tuple[tuple[Condition, ...], dict[str, Any]]:
    """Validate and compile a statement's ``Condition`` block.

    Args:
        raw: The block as written: ``{operator: {key: value-or-list}}``.
        path: Where the block is, for error messages (``"Statement[0].Condition"``).

    Returns:
        The compiled conditions (all must hold) and the normalised block (values always lists).

    Raises:
        InvalidPolicy: The block, an operator, a key or a value is not valid; the message names its path.
    """
    if not isinstance(raw, dict) or not raw:
        raise invalid(path, f"expected a non-empty object of condition operators, got {show(raw)}")
    conditions: list[Condition] = []
    normalised: dict[str, Any] = {}
    for op, block in raw.items():
        op_path = f"{path}.{op}"
        if op not in OPERATORS:
            hint = suggest(str(op), sorted(OPERATORS))
            raise invalid(op_path, f"unknown condition operator {show(op)}{hint}")
        if not isinstance(block, dict) or not block:
            raise invalid(op_path, f"expected a non-empty object of condition keys, got {show(block)}")
        base = op.removesuffix("IfExists")
        normalised[op] = {}
        for key, value in block.items():
            key_path = f"{op_path}.{key}"
            if not isinstance(key, str) or not _KEY_RE.fullmatch(key):
                raise invalid(key_path, f"invalid condition key {show(key)}")
            if isinstance(value, list):
                if not value:
                    raise invalid(key_path, "expected at least one value, got an empty list")
                values = tuple(_parse_value(base, v, f"{key_path}[{i}]") for i, v in enumerate(value))
            else:
                values = (_parse_value(base, value, key_path),)
            absent = (True in values) if base == "Null" else (op != base or base in _NEGATED)
            conditions.append(Condition(op, key, values, absent, _compile(base, values)))
            normalised[op][key] = list(values)
    return tuple(conditions), normalised


def normalise_facts(facts: Mapping[str, object]) -> dict[str, FactValues]:
    """Fold fact keys to lower case and every value to a tuple; absent, ``None`` and ``[]`` are dropped.

    Raises:
        TypeError: A fact value is not a str, int, float, bool or a list/tuple/set of those.
        ValueError: Two fact keys differ only in case.
    """
    out: dict[str, FactValues] = {}
    for key, value in facts.items():
        if value is None:
            continue
        values = tuple(value) if isinstance(value, list | tuple | set | frozenset) else (value,)
        for v in values:
            if not isinstance(v, str | int | float):  # bool is an int
                raise TypeError(f"guardrail fact {key!r}: unsupported value {show(v)}")
        folded = key.lower()
        if folded in out:
            raise ValueError(f"guardrail facts: two keys differ only in case: {key!r}")
        if values:
            out[folded] = values
    return out
