"""Document paths once resolved (``("a", "b", 0)``): reading them from an item, naming them in
messages as DynamoDB does (``[a, b, [0]]``), and refusing paths that overlap or conflict."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from silo.tables.expressions._ast import Path
from silo.tables.expressions._tokens import expression_error
from silo.tables.expressions.context import ExpressionContext
from silo.tables.values import Item, TypedValue

DocumentPath = tuple[str | int, ...]
Getter = Callable[[Item], TypedValue | None]
MAX_DEPTH = 32


def resolve_path(path: Path, ctx: ExpressionContext, kind: str) -> DocumentPath:
    """The path with its ``#placeholders`` replaced (marking them used)."""
    parts: list[str | int] = []
    for part, position in zip(path.parts, path.positions, strict=True):
        if isinstance(part, str) and part.startswith("#"):
            parts.append(ctx.name(part, kind, position))
        else:
            parts.append(part)
    if len(parts) > MAX_DEPTH:
        raise expression_error(
            kind,
            f"The document path has too many nesting levels; nesting levels: {len(parts)}",
            path.position,
        )
    return tuple(parts)


def read_path(item: Item, path: DocumentPath) -> TypedValue | None:
    """The value at ``path`` in ``item``, or None when there is none."""
    value = item.get(str(path[0]))
    for part in path[1:]:
        if value is None:
            return None
        if isinstance(part, int):
            children = value.get("L")
            if children is None or part >= len(children):
                return None
            value = children[part]
        else:
            members = value.get("M")
            if members is None:
                return None
            value = members.get(part)
    return value


def path_getter(path: DocumentPath) -> Getter:
    """A fast reader of one path (a plain ``dict.get`` for a top-level attribute)."""
    head = str(path[0])
    if len(path) == 1:

        def top_level(item: Item) -> TypedValue | None:
            return item.get(head)

        return top_level

    def nested(item: Item) -> TypedValue | None:
        return read_path(item, path)

    return nested


def path_text(path: DocumentPath) -> str:
    """A path as DynamoDB's messages write it: ``[a, b, [0]]``."""
    return "[" + ", ".join(f"[{part}]" if isinstance(part, int) else part for part in path) + "]"


def check_disjoint(paths: Sequence[DocumentPath], kind: str) -> None:
    """Refuse two paths where one is (or starts with) the other ("overlap"), then two paths that
    use a map key and a list index at the same place ("conflict")."""
    conflict: str | None = None
    for later, path in enumerate(paths):
        for earlier in paths[:later]:
            relation = _relation(earlier, path)
            if relation == "overlap":
                raise expression_error(
                    kind,
                    "Two document paths overlap with each other; must remove or rewrite one of these "
                    f"paths; path one: {path_text(earlier)}, path two: {path_text(path)}",
                )
            if relation == "conflict" and conflict is None:
                conflict = (
                    "Two document paths conflict with each other; must remove or rewrite one of these "
                    f"paths; path one: {path_text(earlier)}, path two: {path_text(path)}"
                )
    if conflict is not None:
        raise expression_error(kind, conflict)


def _relation(one: DocumentPath, two: DocumentPath) -> str | None:
    for a, b in zip(one, two, strict=False):
        if isinstance(a, int) != isinstance(b, int):
            return "conflict"
        if a != b:
            return None
    return "overlap"
