"""compile_pattern: check an event pattern as PutRule does and build its matcher.

Limits: the pattern's JSON text is at most 2,048 characters by default (EventBridge's default
quota; it can be raised to 4,096), objects nest at most 100 deep, and ``$or`` may expand into at
most 1,000 alternatives (EventBridge publishes no numbers for these two; they are Silo's). Wildcard
complexity is limited as EventBridge limits it (see ``_wildcard``).

Errors name the place in the pattern: object keys joined with ``.``, ``$or[i]`` for the i-th
alternative, ``[i]`` for the i-th match value: ``detail.$or[1].price[0]: Value of < must be numeric``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from silo.events.errors import InvalidPattern
from silo.events.patterns._leaf import Leaf, LeafBuilder
from silo.events.patterns._numeric import is_number
from silo.events.patterns._operators import OPERATORS, add_expression
from silo.events.patterns._pattern import Node, Pattern
from silo.events.patterns._wildcard import COMPLEXITY_LIMIT, TOO_COMPLEX, complexity

MAX_LENGTH = 2048
MAX_LENGTH_CEILING = 4096
MAX_DEPTH = 100
MAX_ALTERNATIVES = 1000
OR = "$or"


def compile_pattern(pattern: str | Mapping[str, Any], *, max_length: int = MAX_LENGTH) -> Pattern:
    """Compile an event pattern given as JSON text or as already parsed JSON.

    Raises:
        InvalidPattern: the pattern is not valid; its ``path`` says where and its message says
            why, in EventBridge's words where EventBridge has them.
    """
    if not 0 < max_length <= MAX_LENGTH_CEILING:
        raise ValueError(f"max_length must be between 1 and {MAX_LENGTH_CEILING}")
    text = pattern if isinstance(pattern, str) else _dumps(pattern)
    if len(text) > max_length:
        raise InvalidPattern(f"Event pattern is {len(text)} characters long, the limit is {max_length}")
    parsed = _loads(text)
    if not isinstance(parsed, dict):
        raise InvalidPattern("Filter is not an object")
    compiler = _Compiler()
    root = compiler.node(parsed, "", 1, inside_or=False)
    for field, pieces in compiler.wildcards.items():
        if complexity(pieces) > COMPLEXITY_LIMIT:
            raise InvalidPattern(TOO_COMPLEX, field)
    if _alternatives(root) > MAX_ALTERNATIVES:
        raise InvalidPattern(
            f"Rule is too complex - $or expands into more than {MAX_ALTERNATIVES} alternatives"
        )
    return Pattern(root, parsed)


def _dumps(pattern: Mapping[str, Any]) -> str:
    try:
        return json.dumps(pattern, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as error:
        raise InvalidPattern(f"Filter is not valid JSON: {error}") from None


def _loads(text: str) -> Any:
    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not a JSON value")

    try:
        return json.loads(text, parse_constant=no_constants)
    except json.JSONDecodeError as error:
        reason = f"{error.msg} (line {error.lineno}, column {error.colno})"
        raise InvalidPattern(f"Filter is not valid JSON: {reason}") from None
    except (ValueError, RecursionError) as error:
        raise InvalidPattern(f"Filter is not valid JSON: {error}") from None


class _Compiler:
    def __init__(self) -> None:
        self.wildcards: dict[str, list[tuple[str, ...]]] = {}

    def node(self, obj: dict[str, Any], path: str, depth: int, *, inside_or: bool) -> Node:
        if depth > MAX_DEPTH:
            raise InvalidPattern(f"Objects nest more than {MAX_DEPTH} deep", path)
        if not obj:
            raise InvalidPattern("Empty objects are not allowed", path)
        fields: list[tuple[str, Node | Leaf]] = []
        groups: list[tuple[Node, ...]] = []
        for key, value in obj.items():
            if key == OR:
                groups.append(self.alternatives(value, path, depth))
                continue
            where = f"{path}.{key}" if path else key
            if inside_or and key in OPERATORS:
                raise InvalidPattern(
                    f"{key} is Ruler reserved fieldName which cannot be used inside $or.", where
                )
            if isinstance(value, dict):
                fields.append((key, self.node(value, where, depth + 1, inside_or=inside_or)))
            elif isinstance(value, list):
                fields.append((key, self.leaf(value, where)))
            else:
                raise InvalidPattern(f'"{key}" must be an object or an array', where)
        return Node(tuple(fields), tuple(groups))

    def alternatives(self, value: Any, path: str, depth: int) -> tuple[Node, ...]:
        where = f"{path}.{OR}" if path else OR
        if not isinstance(value, list):
            raise InvalidPattern("It must be an Array followed with $or.", where)
        if not all(isinstance(item, dict) for item in value):
            raise InvalidPattern("Only JSON object is allowed in array of $or relationship.", where)
        if len(value) < 2:
            raise InvalidPattern("There must have at least 2 Objects in $or relationship.", where)
        return tuple(
            self.node(item, f"{where}[{i}]", depth + 1, inside_or=True) for i, item in enumerate(value)
        )

    def leaf(self, values: list[Any], field: str) -> Leaf:
        if not values:
            raise InvalidPattern("Empty arrays are not allowed", field)
        builder = LeafBuilder()
        for index, value in enumerate(values):
            where = f"{field}[{index}]"
            if isinstance(value, dict):
                add_expression(value, where, builder)
            elif (
                value is None or isinstance(value, str | bool) or (is_number(value) and math.isfinite(value))
            ):
                builder.exact(value)
            else:
                raise InvalidPattern("Match value must be String, number, true, false, or null", where)
        if builder.wildcards:
            self.wildcards.setdefault(_field_of(field), []).extend(builder.wildcards)
        return builder.build()


def _field_of(path: str) -> str:
    """The event field a path names: ``$or`` steps dropped (they share the event's field)."""
    return ".".join(part.split("[", 1)[0] for part in path.split(".") if not part.startswith(OR))


def _alternatives(node: Node) -> int:
    """How many plain (``$or``-free) patterns this node stands for."""
    count = 1
    for _, child in node.fields:
        if isinstance(child, Node):
            count *= _alternatives(child)
    for group in node.alternatives:
        count *= sum(_alternatives(alternative) for alternative in group)
    return min(count, MAX_ALTERNATIVES + 1)
