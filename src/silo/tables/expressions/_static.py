"""The checks DynamoDB makes on an expression's text once it parses, before looking at any
placeholder, in DynamoDB's order: redundant parentheses, unknown functions, functions used where
they do not belong, reserved words. They depend on the text only, so their result is cached with
the parse."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from silo.tables.expressions._ast import (
    And,
    Arithmetic,
    Between,
    Call,
    Compare,
    Group,
    In,
    Node,
    Not,
    Or,
    ParsedUpdate,
    Path,
)
from silo.tables.expressions._reserved import is_reserved
from silo.tables.expressions._tokens import expression_error


def walk(node: Node | Arithmetic, role: str = "condition") -> Iterator[tuple[Node | Arithmetic, str]]:
    """Every node, left to right, with its role: ``condition`` or ``operand``."""
    yield node, role
    if isinstance(node, Group):
        yield from walk(node.inner, role)
    elif isinstance(node, And | Or):
        yield from walk(node.left)
        yield from walk(node.right)
    elif isinstance(node, Not):
        yield from walk(node.operand)
    elif isinstance(node, Compare):
        yield from walk(node.left, "operand")
        yield from walk(node.right, "operand")
    elif isinstance(node, Between):
        for child in (node.operand, node.low, node.high):
            yield from walk(child, "operand")
    elif isinstance(node, In):
        for child in (node.operand, *node.options):
            yield from walk(child, "operand")
    elif isinstance(node, Call):
        for arg in node.args:
            yield from walk(arg, "operand")
    elif isinstance(node, Arithmetic):
        yield from walk(node.left, "operand")
        yield from walk(node.right, "operand")


def check_condition(node: Node, kind: str, functions: Mapping[str, int], redundant: int | None) -> None:
    if redundant is not None:
        raise expression_error(kind, "The expression has redundant parentheses;", redundant)
    nodes = list(walk(node))
    check_functions([child for child, _ in nodes], kind, functions)
    for child, role in nodes:
        if isinstance(child, Call) and (role == "operand") != (child.name == "size"):
            raise expression_error(
                kind,
                f"The function is not allowed to be used this way in an expression; function: {child.name}",
                child.position,
            )
    check_reserved([child for child, _ in nodes], kind)


def check_update(update: ParsedUpdate, kind: str, functions: Mapping[str, int]) -> None:
    nodes: list[Node | Arithmetic] = []
    for action in update.actions:
        nodes.append(action.path)
        if action.value is not None:
            nodes.extend(child for child, _ in walk(action.value, "operand"))
    check_reserved(nodes, kind)
    check_functions(nodes, kind, functions)
    seen: set[str] = set()
    for clause, position in dict.fromkeys((action.clause, action.position) for action in update.actions):
        if clause in seen:
            raise expression_error(
                kind, f'The "{clause}" section can only be used once in an update expression;', position
            )
        seen.add(clause)


def check_functions(nodes: list[Node | Arithmetic], kind: str, functions: Mapping[str, int]) -> None:
    for node in nodes:
        if isinstance(node, Call) and node.name not in functions:
            raise expression_error(kind, f"Invalid function name; function: {node.name}", node.position)


def check_reserved(nodes: list[Node | Arithmetic] | list[Path], kind: str) -> None:
    for node in nodes:
        if isinstance(node, Path):
            for part, position in zip(node.parts, node.positions, strict=True):
                if isinstance(part, str) and not part.startswith("#") and is_reserved(part):
                    raise expression_error(
                        kind, f"Attribute name is a reserved keyword; reserved keyword: {part}", position
                    )
