"""The parsed form of expressions, before placeholders are resolved (so it can be cached by text).

A :class:`Path` keeps its parts as written: a bare name, a ``#placeholder`` (a name part that
starts with ``#``), or a list index (``int``). :class:`ValueRef` is a ``:placeholder``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias


@dataclass(frozen=True, slots=True)
class Path:
    """A document path as written: ``parts`` with the character position of each."""

    parts: tuple[str | int, ...]
    positions: tuple[int, ...]

    @property
    def position(self) -> int:
        return self.positions[0]


@dataclass(frozen=True, slots=True)
class ValueRef:
    """An expression attribute value placeholder (``:v``)."""

    name: str
    position: int


@dataclass(frozen=True, slots=True)
class Call:
    """A function call: ``name(args...)``."""

    name: str
    args: tuple[Operand, ...]
    position: int


@dataclass(frozen=True, slots=True)
class Arithmetic:
    """``left + right`` or ``left - right`` (update expressions only)."""

    op: str
    left: Operand
    right: Operand
    position: int


Operand: TypeAlias = Path | ValueRef | Call


@dataclass(frozen=True, slots=True)
class Group:
    """A parenthesised operand or condition (kept until parsing is over, for the checks)."""

    inner: Node
    position: int


@dataclass(frozen=True, slots=True)
class Compare:
    """``left <op> right`` with one of ``= <> < <= > >=``."""

    op: str
    left: Operand
    right: Operand
    position: int


@dataclass(frozen=True, slots=True)
class Between:
    operand: Operand
    low: Operand
    high: Operand
    position: int


@dataclass(frozen=True, slots=True)
class In:
    operand: Operand
    options: tuple[Operand, ...]
    position: int


@dataclass(frozen=True, slots=True)
class And:
    left: Node
    right: Node
    position: int


@dataclass(frozen=True, slots=True)
class Or:
    left: Node
    right: Node
    position: int


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node
    position: int


Node: TypeAlias = Path | ValueRef | Call | Group | Compare | Between | In | And | Or | Not


@dataclass(frozen=True, slots=True)
class UpdateAction:
    """One action of an update clause: ``SET path = value``, ``REMOVE path``, ``ADD path :v``,
    ``DELETE path :v`` (``value`` is None for REMOVE)."""

    clause: str
    path: Path
    value: Operand | Arithmetic | None
    position: int


@dataclass(frozen=True, slots=True)
class ParsedUpdate:
    actions: tuple[UpdateAction, ...]


def unwrap(node: Node) -> Node:
    """The node inside any parentheses."""
    while isinstance(node, Group):
        node = node.inner
    return node


def is_condition(node: Node) -> bool:
    """Whether a node can stand as a condition (a comparison, a function call, a logical
    combination), rather than only as an operand (a path or a value)."""
    node = unwrap(node)
    return not isinstance(node, Path | ValueRef)


def is_operand(node: Node) -> bool:
    return isinstance(unwrap(node), Path | ValueRef | Call)
