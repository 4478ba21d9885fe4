"""Writing into a copy of an item by document path, copying only the maps and lists on the way
(the original item, and every container the update does not touch, are shared, never changed)."""

from __future__ import annotations

from typing import Any

from silo.tables.errors import ValidationException
from silo.tables.expressions._paths import DocumentPath
from silo.tables.values import Item, TypedValue

INVALID_PATH = "The document path provided in the update expression is invalid for update"


def invalid_path() -> ValidationException:
    return ValidationException(INVALID_PATH)


class DocumentWriter:
    """A copy-on-write view of an item: ``root`` is the new item."""

    __slots__ = ("_copied", "root")

    def __init__(self, item: Item) -> None:
        self.root: Item = dict(item)
        self._copied: set[int] = set()

    def _container(self, parent: DocumentPath) -> dict[str, Any] | list[Any]:
        """The (copied) map or list at ``parent``; invalid_path when it is missing or neither."""
        node: dict[str, Any] | list[Any] = self.root
        for part in parent:
            if isinstance(node, dict):
                child = None if isinstance(part, int) else node.get(part)
            else:
                child = node[part] if isinstance(part, int) and part < len(node) else None
            if child is None:
                raise invalid_path()
            if "M" in child:
                kind, inner = "M", child["M"]
            elif "L" in child:
                kind, inner = "L", child["L"]
            else:
                raise invalid_path()
            if id(inner) not in self._copied:
                inner = dict(inner) if kind == "M" else list(inner)
                self._copied.add(id(inner))
                node[part] = {kind: inner}  # type: ignore[index]
            node = inner
        return node

    def read(self, path: DocumentPath) -> TypedValue | None:
        """The value at ``path`` (None when missing); invalid_path when its parent is missing."""
        node = self._container(path[:-1])
        last = path[-1]
        if isinstance(node, dict):
            if isinstance(last, int):
                raise invalid_path()
            return node.get(last)
        if not isinstance(last, int):
            raise invalid_path()
        return node[last] if last < len(node) else None

    def set(self, path: DocumentPath, value: TypedValue) -> None:
        """Write ``value`` at ``path``; a list index past the end appends."""
        node = self._container(path[:-1])
        last = path[-1]
        if isinstance(node, dict):
            if isinstance(last, int):
                raise invalid_path()
            node[last] = value
        elif not isinstance(last, int):
            raise invalid_path()
        elif last < len(node):
            node[last] = value
        else:
            node.append(value)

    def remove(self, path: DocumentPath) -> None:
        """Remove what is at ``path`` (nothing when it is already missing)."""
        node = self._container(path[:-1])
        last = path[-1]
        if isinstance(node, dict):
            if isinstance(last, int):
                raise invalid_path()
            node.pop(last, None)
        elif not isinstance(last, int):
            raise invalid_path()
        elif last < len(node):
            del node[last]
