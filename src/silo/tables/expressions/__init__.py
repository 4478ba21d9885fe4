"""DynamoDB expressions: conditions and filters, updates, projections, key conditions.

    ctx = ExpressionContext({"#s": "status"}, {":open": {"S": "open"}})
    condition = parse_condition("#s = :open", ctx)            # condition.evaluate(item) -> bool
    update = parse_update("SET #s = :open REMOVE draft", ...)  # update.apply(item) -> new item
    projection = parse_projection("id, #s", ...)               # projection.apply(item) -> item
    key = parse_key_condition("pk = :p AND sk > :s", ctx, "pk", "sk")
    ctx.check_unused()                                         # placeholders no expression used

Pure: no I/O. Parsing is cached by text; the placeholders are resolved (and the result compiled
into closures) per call, so one parse serves every request. Errors are
:class:`silo.tables.errors.ValidationException` with DynamoDB's messages.
"""

from silo.tables.expressions._reserved import RESERVED_WORDS, is_reserved
from silo.tables.expressions._tokens import MAX_EXPRESSION_BYTES
from silo.tables.expressions.conditions import Condition, parse_condition
from silo.tables.expressions.context import ExpressionContext
from silo.tables.expressions.key_conditions import SORT_OPERATORS, KeyCondition, parse_key_condition
from silo.tables.expressions.projections import Projection, parse_projection, project
from silo.tables.expressions.updates import Update, parse_update

__all__ = [
    "MAX_EXPRESSION_BYTES",
    "RESERVED_WORDS",
    "SORT_OPERATORS",
    "Condition",
    "ExpressionContext",
    "KeyCondition",
    "Projection",
    "Update",
    "is_reserved",
    "parse_condition",
    "parse_key_condition",
    "parse_projection",
    "parse_update",
    "project",
]
