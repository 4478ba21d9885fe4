"""ExpressionContext: checking the placeholders of a request, and refusing unused ones."""

from __future__ import annotations

from typing import Any

import pytest

from silo.tables.errors import ValidationException
from silo.tables.expressions import ExpressionContext, parse_condition, parse_projection, parse_update


def test_values_are_checked_and_normalised() -> None:
    ctx = ExpressionContext(None, {":n": {"N": "1.50"}})
    assert ctx.values == {":n": {"N": "1.5"}}


@pytest.mark.parametrize(
    ("names", "values", "message"),
    [
        ({}, None, "ExpressionAttributeNames must not be empty"),
        (None, {}, "ExpressionAttributeValues must not be empty"),
        ({"n": "a"}, None, 'ExpressionAttributeNames contains invalid key: Syntax error; key: "n"'),
        ({"#a-b": "a"}, None, 'ExpressionAttributeNames contains invalid key: Syntax error; key: "#a-b"'),
        (
            {"#n": ""},
            None,
            "ExpressionAttributeNames contains invalid value: Empty attribute name for key #n",
        ),
        (None, {"v": {"S": "x"}}, 'ExpressionAttributeValues contains invalid key: Syntax error; key: "v"'),
        (
            None,
            {":v": {"SS": []}},
            "ExpressionAttributeValues contains invalid value: One or more parameter values were invalid: "
            "An string set  may not be empty for key :v",
        ),
        (None, {":v": {"N": "x"}}, "The parameter cannot be converted to a numeric value: x for key :v"),
        ("names", None, "ExpressionAttributeNames must be an object"),
        (None, ["values"], "ExpressionAttributeValues must be an object"),
    ],
    ids=[
        "empty-names",
        "empty-values",
        "name-key-without-hash",
        "name-key-with-dash",
        "empty-name",
        "value-key-without-colon",
        "empty-set-value",
        "bad-number-value",
        "names-not-object",
        "values-not-object",
    ],
)
def test_invalid_placeholders(names: Any, values: Any, message: str) -> None:
    with pytest.raises(ValidationException) as caught:
        ExpressionContext(names, values)
    assert message in caught.value.message


def test_unused_across_several_expressions() -> None:
    ctx = ExpressionContext(
        {"#a": "a", "#b": "b", "#c": "c"}, {":x": {"N": "1"}, ":y": {"N": "2"}, ":z": {"N": "3"}}
    )
    parse_condition("#a = :x", ctx)
    parse_update("SET #b = :y", ctx)
    assert ctx.unused() == (["#c"], [":z"])
    with pytest.raises(ValidationException) as caught:
        ctx.check_unused()
    assert (
        caught.value.message == "Value provided in ExpressionAttributeNames unused in expressions: keys: {#c}"
    )
    parse_projection("#c", ctx)
    with pytest.raises(ValidationException) as caught:
        ctx.check_unused()
    assert (
        caught.value.message
        == "Value provided in ExpressionAttributeValues unused in expressions: keys: {:z}"
    )


def test_unused_lists_every_key() -> None:
    ctx = ExpressionContext(None, {":a": {"N": "1"}, ":b": {"N": "2"}})
    with pytest.raises(ValidationException, match=r"keys: \{:a, :b\}"):
        ctx.check_unused()


def test_placeholder_used_by_a_failing_expression_is_not_reported_unused() -> None:
    ctx = ExpressionContext({"#a": "a"}, {":x": {"N": "1"}})
    with pytest.raises(ValidationException):
        parse_condition("#a = :x AND", ctx)
    assert ctx.unused() == (["#a"], [":x"])
