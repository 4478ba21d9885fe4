"""JSON paths into an event, for ``InputPath`` and ``InputPathsMap`` (evaluated by jsonpath-ng).

EventBridge supports dot notation with letters, digits, ``-``, ``_`` and ``/`` in names, array
indices and ``*`` wildcards: ``$.detail.items[0].sku``, ``$.detail.items[*].sku``. Those are built
straight into jsonpath-ng expressions (its parser does not take ``/`` in a dotted name).
``InputPath`` may also use bracket notation (``$['detail']['a b']``), parsed by jsonpath-ng.

A path that selects with a wildcard yields the list of what it found; any other yields the one
value, or :data:`MISSING` when the event has nothing there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from jsonpath_ng.jsonpath import Child, Fields, Index, JSONPath, Root, Wildcard
from jsonpath_ng.parser import parse

MISSING: Final = object()
MAX_PATH = 256
_STEP = re.compile(r"\.([A-Za-z0-9_\-/]+)|\.\*|\[(\d+)\]|\[\*\]")


@dataclass(frozen=True, slots=True)
class EventPath:
    """A compiled path; :meth:`find` evaluates it on an event."""

    text: str
    expression: JSONPath
    many: bool

    def find(self, event: Any) -> Any:
        found = [match.value for match in self.expression.find(event)]
        if self.many:
            return found
        return found[0] if found else MISSING


def compile_path(text: Any, *, brackets: bool) -> EventPath:
    """Compile ``text``; ``brackets`` allows bracket notation too. Raises ValueError saying why."""
    if not isinstance(text, str) or not text:
        raise ValueError("a JSON path is a non-empty string")
    if len(text) > MAX_PATH:
        raise ValueError(f"a JSON path is at most {MAX_PATH} characters")
    if not text.startswith("$"):
        raise ValueError(f"{text!r} is not a JSON path: it must start with $")
    dotted = _dotted(text)
    if dotted is not None:
        return dotted
    if not brackets:
        raise ValueError(f"{text!r} is not a supported JSON path: use dot notation, e.g. $.detail.name")
    try:
        expression = parse(text)
    except Exception as error:  # ply and jsonpath-ng raise several kinds
        raise ValueError(f"{text!r} is not a valid JSON path: {error}") from None
    return EventPath(text, expression, many="*" in text or ".." in text or ":" in text)


def _dotted(text: str) -> EventPath | None:
    expression: JSONPath = Root()
    many = False
    at = 1
    while at < len(text):
        step = _STEP.match(text, at)
        if step is None:
            return None
        name, index = step.group(1), step.group(2)
        if name is not None:
            expression = Child(expression, Fields(name))
        elif index is not None:
            expression = Child(expression, Index(int(index)))
        else:
            expression = Child(expression, Wildcard())
            many = True
        at = step.end()
    return EventPath(text, expression, many)
