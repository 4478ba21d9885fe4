"""Key condition expressions (``Query``): the partition key tested with ``=``, and at most one
condition on the sort key: ``= < <= > >=``, ``BETWEEN .. AND ..`` or ``begins_with``, joined by
``AND``. What the store needs comes out as fields: ``partition_value``, ``sort_op``,
``sort_values``; ``matches(item)`` checks an item against the whole condition.
"""

from __future__ import annotations

from collections.abc import Mapping

from silo.tables.errors import ValidationException
from silo.tables.expressions._ast import And, Between, Call, Compare, In, Node, Not, Or, unwrap
from silo.tables.expressions._functions import function_predicate
from silo.tables.expressions._paths import path_getter
from silo.tables.expressions._predicates import Compiled, Predicate, between, equality, ordering
from silo.tables.expressions._tokens import expression_error
from silo.tables.expressions.conditions import ConditionCompiler, parsed_condition
from silo.tables.expressions.context import ExpressionContext
from silo.tables.values import Item, TypedValue, kind_of

KIND = "KeyConditionExpression"
SORT_OPERATORS = ("=", "<", "<=", ">", ">=", "BETWEEN", "begins_with")
_FLIPPED = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_TYPE_MISMATCH = (
    "One or more parameter values were invalid: Condition parameter type does not match schema type"
)


class KeyCondition:
    """A compiled key condition (see the module docstring)."""

    __slots__ = (
        "_predicate",
        "partition_key",
        "partition_value",
        "sort_key",
        "sort_op",
        "sort_values",
        "text",
    )

    def __init__(
        self,
        text: str,
        partition_key: str,
        partition_value: TypedValue,
        sort_key: str | None,
        sort_op: str | None,
        sort_values: tuple[TypedValue, ...],
    ) -> None:
        self.text = text
        self.partition_key = partition_key
        self.partition_value = partition_value
        self.sort_key = sort_key
        self.sort_op = sort_op
        self.sort_values = sort_values
        self._predicate = _predicate(partition_key, partition_value, sort_key, sort_op, sort_values)

    def __repr__(self) -> str:
        return f"KeyCondition({self.text!r})"

    def matches(self, item: Item) -> bool:
        """Whether ``item``'s keys satisfy the condition."""
        return self._predicate(item)


def parse_key_condition(
    text: str,
    ctx: ExpressionContext,
    partition_key: str,
    sort_key: str | None = None,
    *,
    key_types: Mapping[str, str] | None = None,
) -> KeyCondition:
    """Parse and check a key condition against the key schema (``key_types`` maps each key
    attribute to S, N or B, when known, to refuse values of the wrong type)."""
    node = parsed_condition(text, KIND)
    leaves = _leaves(node)
    compiler = ConditionCompiler(ctx, KIND)
    compiled = [(leaf, _operands(compiler, leaf)) for leaf in leaves]
    if len(leaves) > 2:
        raise ValidationException("Conditions can be of length 1 or 2 only")
    found: dict[str, tuple[str, tuple[TypedValue, ...]]] = {}
    for leaf, operands in compiled:
        name, op, values = _key_test(leaf, operands)
        if name in found:
            raise ValidationException("KeyConditionExpressions must only contain one condition per key")
        found[name] = (op, values)
    for name in found:
        if name not in (partition_key, sort_key):
            if partition_key not in found:
                raise ValidationException(f"Query condition missed key schema element: {partition_key}")
            if sort_key is not None:
                raise ValidationException(f"Query condition missed key schema element: {sort_key}")
            raise ValidationException("Query key condition not supported")
    if partition_key not in found:
        raise ValidationException(f"Query condition missed key schema element: {partition_key}")
    pk_op, (pk_value,) = found[partition_key]
    if pk_op != "=":
        raise ValidationException("Query key condition not supported")
    types = key_types or {}
    sort_op: str | None = None
    sort_values: tuple[TypedValue, ...] = ()
    if sort_key is not None and sort_key in found:
        sort_op, sort_values = found[sort_key]
    for name, values in ((partition_key, (pk_value,)), (sort_key or "", sort_values)):
        for value in values:
            kind = kind_of(value)
            if kind not in ("S", "N", "B") or (name in types and types[name] != kind):
                raise ValidationException(_TYPE_MISMATCH)
    return KeyCondition(text, partition_key, pk_value, sort_key, sort_op, sort_values)


def _leaves(node: Node) -> list[Node]:
    node = unwrap(node)
    if isinstance(node, And):
        return [*_leaves(node.left), *_leaves(node.right)]
    if isinstance(node, Or | Not | In):
        word = {Or: "OR", Not: "NOT", In: "IN"}[type(node)]
        raise expression_error(
            KIND, f"Invalid operator used in KeyConditionExpression: {word}", node.position
        )
    if isinstance(node, Compare) and node.op == "<>":
        raise expression_error(KIND, "Invalid operator used in KeyConditionExpression: <>", node.position)
    if isinstance(node, Call) and node.name != "begins_with":
        raise expression_error(
            KIND, f"Invalid operator used in KeyConditionExpression: {node.name}", node.position
        )
    return [node]


def _operands(compiler: ConditionCompiler, leaf: Node) -> list[Compiled]:
    """The leaf's operands, checked as a condition's would be (placeholders, types, bounds)."""
    if isinstance(leaf, Compare):
        return compiler.operands(leaf.left, leaf.right)
    if isinstance(leaf, Between):
        operands = compiler.operands(leaf.operand, leaf.low, leaf.high)
        compiler.check_bounds(operands[1], operands[2], leaf.position)
        return operands
    assert isinstance(leaf, Call)
    compiler.condition(leaf)
    return compiler.operands(*leaf.args)


def _key_test(leaf: Node, operands: list[Compiled]) -> tuple[str, str, tuple[TypedValue, ...]]:
    """(key attribute, operator, values) of one leaf: a top-level attribute tested against values."""
    op = leaf.op if isinstance(leaf, Compare) else "BETWEEN" if isinstance(leaf, Between) else "begins_with"
    if op in _FLIPPED and operands[0].path is None and operands[1].path is not None:
        operands, op = [operands[1], operands[0]], _FLIPPED[op]
    subject, *values = operands
    if subject.path is None or any(value.constant is None for value in values):
        raise expression_error(
            KIND, "Key conditions compare one key attribute with expression attribute values", _position(leaf)
        )
    if len(subject.path) != 1:
        raise expression_error(
            KIND, "Key conditions apply to top-level key attributes, not nested paths", _position(leaf)
        )
    return str(subject.path[0]), op, tuple(value.constant for value in values if value.constant is not None)


def _position(leaf: Node) -> int:
    assert isinstance(leaf, Compare | Between | Call)
    return leaf.position


def _predicate(
    partition_key: str,
    partition_value: TypedValue,
    sort_key: str | None,
    sort_op: str | None,
    sort_values: tuple[TypedValue, ...],
) -> Predicate:
    partition = equality(
        Compiled(path_getter((partition_key,)), path=(partition_key,)), _constant(partition_value)
    )
    if sort_key is None or sort_op is None:
        return partition
    subject = Compiled(path_getter((sort_key,)), path=(sort_key,))
    bounds = [_constant(value) for value in sort_values]
    if sort_op == "=":
        sort = equality(subject, bounds[0])
    elif sort_op == "BETWEEN":
        sort = between(subject, bounds[0], bounds[1])
    elif sort_op == "begins_with":
        sort = function_predicate("begins_with", [subject, bounds[0]])
    else:
        sort = ordering(sort_op, subject, bounds[0])
    return lambda item: partition(item) and sort(item)


def _constant(value: TypedValue) -> Compiled:
    return Compiled(lambda item: value, constant=value, type=kind_of(value))


__all__ = ["SORT_OPERATORS", "KeyCondition", "parse_key_condition"]
