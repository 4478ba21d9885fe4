"""Condition and filter expressions: parsed once (cached by text), compiled against a request's
placeholders into closures, evaluated per item.

    condition = parse_condition("#s = :open AND size(tags) > :n", ctx)
    condition.evaluate(item)        # -> bool

Errors are DynamoDB's, in DynamoDB's order: syntax; redundant parentheses; unknown function;
misused function; reserved word; then, condition by condition, undefined placeholders, operand
counts, identical operands, operand types.
"""

from __future__ import annotations

import json
from functools import lru_cache

from silo.tables.expressions._ast import (
    And,
    Between,
    Call,
    Compare,
    In,
    Node,
    Not,
    Operand,
    Or,
    Path,
    ValueRef,
    unwrap,
)
from silo.tables.expressions._functions import (
    CONDITION_FUNCTIONS,
    check_call,
    check_distinct,
    function_predicate,
    size_getter,
)
from silo.tables.expressions._parser import parse_condition_syntax
from silo.tables.expressions._paths import path_getter, resolve_path
from silo.tables.expressions._predicates import (
    ORDERED,
    Compiled,
    Predicate,
    between,
    equality,
    membership,
    negation,
    ordering,
)
from silo.tables.expressions._static import check_condition, walk
from silo.tables.expressions._tokens import check_length, expression_error
from silo.tables.expressions.context import ExpressionContext
from silo.tables.values import TypedValue, compare, kind_of

MAX_IN_OPERANDS = 100


class Condition:
    """A compiled condition. ``evaluate(item) -> bool`` is a plain attribute (a closure) so that
    calling it per item costs no extra frame; an absent item is ``{}``."""

    __slots__ = ("evaluate", "text")

    def __init__(self, text: str, predicate: Predicate) -> None:
        self.text = text
        self.evaluate: Predicate = predicate

    def __repr__(self) -> str:
        return f"Condition({self.text!r})"


def parse_condition(text: str, ctx: ExpressionContext, *, kind: str = "ConditionExpression") -> Condition:
    """Parse and compile a condition; ``kind`` names the parameter in messages
    (``ConditionExpression``, ``FilterExpression``). ValidationException when it is not valid."""
    node = parsed_condition(text, kind)
    return Condition(text, ConditionCompiler(ctx, kind).condition(node))


@lru_cache(maxsize=1024)
def parsed_condition(text: str, kind: str) -> Node:
    """The checked syntax tree of a condition's text (cached; errors are not)."""
    check_length(kind, text)
    node, redundant = parse_condition_syntax(text, kind)
    check_condition(node, kind, CONDITION_FUNCTIONS, redundant)
    return node


class ConditionCompiler:
    """Resolves placeholders (marking them used), makes DynamoDB's checks, builds predicates."""

    def __init__(self, ctx: ExpressionContext, kind: str) -> None:
        self.ctx = ctx
        self.kind = kind

    def condition(self, node: Node) -> Predicate:
        node = unwrap(node)
        if isinstance(node, And):
            left, right = self.condition(node.left), self.condition(node.right)
            return lambda item: left(item) and right(item)
        if isinstance(node, Or):
            first, second = self.condition(node.left), self.condition(node.right)
            return lambda item: first(item) or second(item)
        if isinstance(node, Not):
            return negation(self.condition(node.operand))
        if isinstance(node, Compare):
            left_operand, right_operand = self.operands(node.left, node.right)
            check_distinct(node.op, [left_operand, right_operand], self.kind, node.position)
            if node.op == "=":
                return equality(left_operand, right_operand)
            if node.op == "<>":
                return negation(equality(left_operand, right_operand))
            return ordering(node.op, left_operand, right_operand)
        if isinstance(node, Between):
            operand, low, high = self.operands(node.operand, node.low, node.high)
            self.check_bounds(low, high, node.position)
            return between(operand, low, high)
        if isinstance(node, In):
            if len(node.options) > MAX_IN_OPERANDS:
                raise expression_error(
                    self.kind,
                    "The IN operator is provided with too many operands; "
                    f"number of operands: {len(node.options)}",
                    node.position,
                )
            operand, *options = self.operands(node.operand, *node.options)
            return membership(operand, options)
        assert isinstance(node, Call)
        args = self.operands(*node.args)
        check_call(node.name, args, self.kind, node.position)
        return function_predicate(node.name, args)

    def operands(self, *nodes: Operand) -> list[Compiled]:
        """Compile the operands of one condition, after resolving all their placeholders (so an
        undefined placeholder is reported before the condition's other problems)."""
        for node in nodes:
            for child, _ in walk(node, "operand"):
                if isinstance(child, Path):
                    resolve_path(child, self.ctx, self.kind)
                elif isinstance(child, ValueRef):
                    self.ctx.value(child.name, self.kind, child.position)
        return [self.operand(node) for node in nodes]

    def operand(self, node: Operand) -> Compiled:
        if isinstance(node, Path):
            path = resolve_path(node, self.ctx, self.kind)
            return Compiled(path_getter(path), path=path)
        if isinstance(node, ValueRef):
            value = self.ctx.value(node.name, self.kind, node.position)
            return Compiled(lambda item: value, constant=value, type=kind_of(value))
        args = [self.operand(arg) for arg in node.args]
        check_call(node.name, args, self.kind, node.position)
        return Compiled(size_getter(args[0].get), type="N", function=node.name)

    def check_bounds(self, low: Compiled, high: Compiled, position: int) -> None:
        if low.constant is None or high.constant is None:
            return
        shown = f"lower bound operand: AttributeValue: {_shown(low.constant)}, "
        shown += f"upper bound operand: AttributeValue: {_shown(high.constant)}"
        if low.type != high.type:
            raise expression_error(
                self.kind,
                f"The BETWEEN operator requires same data type for lower and upper bounds; {shown}",
                position,
            )
        if low.type in ORDERED and compare(low.constant, high.constant) > 0:
            raise expression_error(
                self.kind,
                "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; "
                + shown,
                position,
            )


def _shown(value: TypedValue) -> str:
    ((kind, raw),) = value.items()
    return f"{{{kind}:{raw if isinstance(raw, str) else json.dumps(raw)}}}"
