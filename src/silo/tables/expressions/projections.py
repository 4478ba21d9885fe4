"""Projection expressions: which attributes (or parts of them) a read returns.

    projection = parse_projection("Title, Pictures.FrontView, RelatedItems[0], #c", ctx)
    projection.apply(item)      # -> a new item with just those parts

As DynamoDB returns them: nested paths keep their enclosing maps, list elements picked by index
come back as a shorter list in index order, and parts that do not exist are left out (a map or
list none of whose picked parts exist is left out too).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from silo.tables.expressions._ast import Path
from silo.tables.expressions._parser import parse_projection_syntax
from silo.tables.expressions._paths import DocumentPath, check_disjoint, resolve_path
from silo.tables.expressions._static import check_reserved
from silo.tables.expressions._tokens import check_length
from silo.tables.expressions.context import ExpressionContext
from silo.tables.values import Item, TypedValue

KIND = "ProjectionExpression"

# A selection tree: attribute name (or list index) -> None (all of it) or the selection inside.
Selection = dict[Any, "Selection | None"]


class Projection:
    """A compiled projection; ``apply(item) -> item``."""

    __slots__ = ("_selection", "_top_level", "paths", "text")

    def __init__(self, text: str, paths: tuple[DocumentPath, ...]) -> None:
        self.text = text
        self.paths = paths
        self._selection = selection_of(paths)
        self._top_level = (
            tuple(str(path[0]) for path in paths) if all(len(path) == 1 for path in paths) else None
        )

    def __repr__(self) -> str:
        return f"Projection({self.text!r})"

    def apply(self, item: Item) -> Item:
        """The parts of ``item`` the projection names (a new dict)."""
        if self._top_level is not None:
            return {name: item[name] for name in self._top_level if name in item}
        return _project_map(item, self._selection)


@lru_cache(maxsize=1024)
def parsed_projection(text: str) -> tuple[Path, ...]:
    """The checked paths of a projection's text (cached; errors are not)."""
    check_length(KIND, text)
    paths = parse_projection_syntax(text)
    check_reserved(list(paths), KIND)
    return paths


def parse_projection(text: str, ctx: ExpressionContext) -> Projection:
    """Parse and compile a projection; ValidationException when it is not valid (including two
    paths that overlap, like ``a, a.b``, or conflict, like ``a.b, a[0]``)."""
    resolved = tuple(resolve_path(path, ctx, KIND) for path in parsed_projection(text))
    check_disjoint(resolved, KIND)
    return Projection(text, resolved)


def project(item: Item, paths: Iterable[DocumentPath]) -> Item:
    """The parts of ``item`` at ``paths`` (already resolved and disjoint), as a projection would
    return them: for ``ReturnValues: UPDATED_OLD / UPDATED_NEW``, for instance."""
    return _project_map(item, selection_of(paths))


def selection_of(paths: Iterable[DocumentPath]) -> Selection:
    tree: Selection = {}
    for path in paths:
        node = tree
        for part in path[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            node = child
        node[path[-1]] = None
    return tree


def _project_map(members: dict[str, TypedValue], selection: Selection) -> dict[str, TypedValue]:
    picked: dict[str, TypedValue] = {}
    for name, inner in selection.items():
        value = members.get(name)
        if value is None:
            continue
        if inner is None:
            picked[name] = value
        else:
            part = _project_value(value, inner)
            if part is not None:
                picked[name] = part
    return picked


def _project_value(value: TypedValue, selection: Selection) -> TypedValue | None:
    if isinstance(next(iter(selection)), int):
        elements = value.get("L")
        if elements is None:
            return None
        kept: list[TypedValue] = []
        for index in sorted(selection):
            if index < len(elements):
                inner = selection[index]
                part = elements[index] if inner is None else _project_value(elements[index], inner)
                if part is not None:
                    kept.append(part)
        return {"L": kept} if kept else None
    members = value.get("M")
    if members is None:
        return None
    picked = _project_map(members, selection)
    return {"M": picked} if picked else None
