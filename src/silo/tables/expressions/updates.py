"""Update expressions: ``SET``, ``REMOVE``, ``ADD``, ``DELETE`` (each clause at most once).

    update = parse_update("SET #c = #c + :one, tags = list_append(tags, :new) REMOVE draft", ctx)
    update.paths()          # ("c", "tags", "draft"): the top-level attributes it changes
    new_item = update.apply(item)      # a new item; ``item`` is left as it was

As DynamoDB does, every ``SET`` value is computed from the item as it was before the update; then
``SET`` actions apply (list elements past the end are appended, in index order), then ``REMOVE``
(list elements by their original index), ``ADD`` and ``DELETE``. A nested path whose parent is
missing, or not a map (list), is "invalid for update".
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Context, Decimal
from functools import lru_cache

from silo.tables.errors import ValidationException
from silo.tables.expressions._ast import Arithmetic, Call, Operand, ParsedUpdate, Path, ValueRef
from silo.tables.expressions._document import DocumentWriter
from silo.tables.expressions._parser import parse_update_syntax
from silo.tables.expressions._paths import DocumentPath, check_disjoint, read_path, resolve_path
from silo.tables.expressions._static import check_update, walk
from silo.tables.expressions._tokens import check_length, expression_error
from silo.tables.expressions.context import ExpressionContext
from silo.tables.values import Item, TypedValue, kind_of, normalize_number

KIND = "UpdateExpression"
UPDATE_FUNCTIONS = {"if_not_exists": 2, "list_append": 2}
MISSING = "The provided expression refers to an attribute that does not exist in the item"
WRONG_TYPE = "An operand in the update expression has an incorrect data type"
TYPE_NAMES = {"S": "STRING", "N": "NUMBER", "B": "BINARY", "NULL": "NULL", "BOOL": "BOOLEAN"}
TYPE_NAMES |= {"L": "LIST", "M": "MAP"}
_EXACT = Context(prec=1000, Emax=10**6, Emin=-(10**6))

Evaluator = Callable[[Item], TypedValue]
Operation = Callable[[Decimal, Decimal], Decimal]


class Update:
    """A compiled update expression; see the module docstring for how it applies."""

    __slots__ = ("_adds", "_deletes", "_removes", "_sets", "_written", "text")

    def __init__(
        self,
        text: str,
        sets: list[tuple[DocumentPath, Evaluator]],
        removes: list[DocumentPath],
        adds: list[tuple[DocumentPath, TypedValue]],
        deletes: list[tuple[DocumentPath, TypedValue]],
    ) -> None:
        self.text = text
        self._written = (
            *(path for path, _ in sets),
            *removes,
            *(path for path, _ in adds),
            *(path for path, _ in deletes),
        )
        self._sets = sorted(sets, key=lambda action: _path_order(action[0]))
        self._removes = sorted(removes, key=_path_order, reverse=True)
        self._adds = adds
        self._deletes = deletes

    def __repr__(self) -> str:
        return f"Update({self.text!r})"

    def document_paths(self) -> tuple[DocumentPath, ...]:
        """Every path the update writes (SET, REMOVE, ADD, DELETE targets), clause by clause in
        the order the expression gives them."""
        return self._written

    def paths(self) -> tuple[str, ...]:
        """The top-level attributes the update changes (to refuse updates of key attributes)."""
        return tuple(dict.fromkeys(str(path[0]) for path in self.document_paths()))

    def apply(self, item: Item) -> Item:
        """The item after the update (a new dict; ``item`` is not changed). ValidationException
        with DynamoDB's message when the update cannot apply to this item."""
        values = [(path, compute(item)) for path, compute in self._sets]
        writer = DocumentWriter(item)
        for path, value in values:
            writer.set(path, value)
        for path in self._removes:
            writer.remove(path)
        for path, value in self._adds:
            writer.set(path, _added(writer.read(path), value))
        for path, value in self._deletes:
            existing = writer.read(path)
            if existing is None:
                continue
            remaining = _deleted(existing, value)
            if remaining is None:
                writer.remove(path)
            else:
                writer.set(path, remaining)
        return writer.root


def _path_order(path: DocumentPath) -> tuple[tuple[int, str | int], ...]:
    """Sort key of paths: by part, list indexes numerically (paths that would compare a name with
    an index are refused as conflicting before)."""
    return tuple((0, part) if isinstance(part, int) else (1, part) for part in path)


@lru_cache(maxsize=1024)
def parsed_update(text: str) -> ParsedUpdate:
    """The checked syntax of an update expression (cached; errors are not)."""
    check_length(KIND, text)
    parsed = parse_update_syntax(text)
    check_update(parsed, KIND, UPDATE_FUNCTIONS)
    return parsed


def parse_update(text: str, ctx: ExpressionContext) -> Update:
    """Parse and compile an update expression; ValidationException when it is not valid."""
    parsed = parsed_update(text)
    targets = [resolve_path(action.path, ctx, KIND) for action in parsed.actions]
    operands = [
        child for action in parsed.actions if action.value is not None for child, _ in walk(action.value)
    ]
    for child in operands:
        if isinstance(child, Path):
            resolve_path(child, ctx, KIND)
    for child in operands:
        if isinstance(child, ValueRef):
            ctx.value(child.name, KIND, child.position)
    check_disjoint(targets, KIND)
    for action in parsed.actions:
        if action.clause in ("ADD", "DELETE"):
            assert isinstance(action.value, ValueRef)
            _check_operator(action.clause, ctx.value(action.value.name, KIND), action.value.position)
    for child in operands:
        _check_function(child, ctx)
    sets: list[tuple[DocumentPath, Evaluator]] = []
    removes: list[DocumentPath] = []
    adds: list[tuple[DocumentPath, TypedValue]] = []
    deletes: list[tuple[DocumentPath, TypedValue]] = []
    for action, path in zip(parsed.actions, targets, strict=True):
        if action.clause == "SET":
            assert action.value is not None
            sets.append((path, _evaluator(action.value, ctx)))
        elif action.clause == "REMOVE":
            removes.append(path)
        else:
            assert isinstance(action.value, ValueRef)
            value = ctx.value(action.value.name, KIND)
            (adds if action.clause == "ADD" else deletes).append((path, value))
    return Update(text, sets, removes, adds, deletes)


def _check_operator(clause: str, value: TypedValue, position: int) -> None:
    kind = kind_of(value)
    if kind in TYPE_NAMES and not (clause == "ADD" and kind == "N"):
        raise expression_error(
            KIND,
            "Incorrect operand type for operator or function; "
            f"operator: {clause}, operand type: {TYPE_NAMES[kind]}",
            position,
        )


def _check_function(node: object, ctx: ExpressionContext) -> None:
    if isinstance(node, Arithmetic):
        name, args, position, wanted = node.op, [node.left, node.right], node.position, "N"
    elif isinstance(node, Call):
        name, args, position, wanted = node.name, list(node.args), node.position, "L"
    else:
        return
    if len(args) != 2:
        raise expression_error(
            KIND,
            "Incorrect number of operands for operator or function; "
            f"operator or function: {name}, number of operands: {len(args)}",
            position,
        )
    if name == "if_not_exists":
        if not isinstance(args[0], Path):
            raise expression_error(
                KIND, f"Operator or function requires a document path; operator or function: {name}", position
            )
        return
    for arg in args:
        if isinstance(arg, ValueRef) and (kind := kind_of(ctx.value(arg.name, KIND))) != wanted:
            raise expression_error(
                KIND,
                "Incorrect operand type for operator or function; "
                f"operator or function: {name}, operand type: {kind}",
                position,
            )


def _evaluator(node: Operand | Arithmetic, ctx: ExpressionContext) -> Evaluator:
    """A closure ``item -> typed value`` computing a SET value from the item before the update."""
    if isinstance(node, ValueRef):
        value = ctx.value(node.name, KIND)
        return lambda item: value
    if isinstance(node, Path):
        path = resolve_path(node, ctx, KIND)

        def read(item: Item) -> TypedValue:
            found = read_path(item, path)
            if found is None:
                raise ValidationException(MISSING)
            return found

        return read
    if isinstance(node, Arithmetic):
        left, right = _evaluator(node.left, ctx), _evaluator(node.right, ctx)
        operation = _EXACT.add if node.op == "+" else _EXACT.subtract
        return lambda item: _arithmetic(operation, left(item), right(item))
    first, second = _evaluator(node.args[0], ctx), _evaluator(node.args[1], ctx)
    if node.name == "if_not_exists":
        assert isinstance(node.args[0], Path)
        path = resolve_path(node.args[0], ctx, KIND)

        def if_not_exists(item: Item) -> TypedValue:
            found = read_path(item, path)
            return found if found is not None else second(item)

        return if_not_exists

    def list_append(item: Item) -> TypedValue:
        head, tail = first(item), second(item)
        if "L" not in head or "L" not in tail:
            raise ValidationException(WRONG_TYPE)
        return {"L": [*head["L"], *tail["L"]]}

    return list_append


def _arithmetic(operation: Operation, left: TypedValue, right: TypedValue) -> TypedValue:
    if "N" not in left or "N" not in right:
        raise ValidationException(WRONG_TYPE)
    result = operation(Decimal(left["N"]), Decimal(right["N"]))
    try:
        return {"N": normalize_number(str(result))}
    except ValueError as problem:
        raise ValidationException(str(problem)) from None


def _added(existing: TypedValue | None, value: TypedValue) -> TypedValue:
    if existing is None:
        return value
    kind = kind_of(value)
    if kind not in existing:
        raise ValidationException(WRONG_TYPE)
    if kind == "N":
        return _arithmetic(_EXACT.add, existing, value)
    present = existing[kind]
    return {kind: [*present, *(member for member in value[kind] if member not in present)]}


def _deleted(existing: TypedValue, value: TypedValue) -> TypedValue | None:
    """The set left after DELETE, or None when nothing is left (the attribute goes)."""
    kind = kind_of(value)
    if kind not in existing:
        raise ValidationException(WRONG_TYPE)
    removed = set(value[kind])
    remaining = [member for member in existing[kind] if member not in removed]
    return {kind: remaining} if remaining else None


__all__ = ["Update", "parse_update", "parsed_update"]
