"""Condition and filter expressions: the conformance tables (fixtures/conditions_*.yaml), then
limits, placeholders shared across expressions, and the parse cache."""

from __future__ import annotations

from typing import Any

import pytest

from silo.tables.errors import ValidationException
from silo.tables.expressions import MAX_EXPRESSION_BYTES, ExpressionContext, parse_condition
from silo.tables.expressions.conditions import parsed_condition
from tests.unit.tables._fixtures import error_params, match_params

_KEYS = {"name", "expression", "names", "values", "kind", "matches", "rejects", "error"}


def _parse(case: dict[str, Any]) -> Any:
    ctx = ExpressionContext(case.get("names"), case.get("values"))
    return parse_condition(case["expression"], ctx, kind=case.get("kind", "ConditionExpression"))


@pytest.mark.parametrize(("case", "item", "expected"), match_params("conditions_*.yaml", _KEYS))
def test_condition(case: dict[str, Any], item: dict[str, Any], expected: bool) -> None:
    assert "error" not in case
    assert _parse(case).evaluate(item) is expected


@pytest.mark.parametrize(("case", "items"), error_params("conditions_*.yaml", _KEYS))
def test_invalid_condition(case: dict[str, Any], items: dict[str, Any]) -> None:
    with pytest.raises(ValidationException) as caught:
        _parse(case)
    assert_error(caught.value, case["error"])


def assert_error(problem: ValidationException, expected: dict[str, Any]) -> None:
    """The message holds the expected fragment; the position, when expected, is the one reported."""
    assert expected["message"] in problem.message, problem.message
    if "position" in expected:
        assert problem.details.get("position") == expected["position"], problem.details
    assert problem.code == "ValidationException" and problem.http_status == 400


def test_every_case_checks_something() -> None:
    for param in match_params("conditions_*.yaml", _KEYS):
        assert param.values[1] is not None
    assert len(match_params("conditions_*.yaml", _KEYS)) > 300


def test_syntax_error_details() -> None:
    with pytest.raises(ValidationException) as caught:
        parse_condition("a = AND", ExpressionContext())
    assert caught.value.details == {
        "expression": "ConditionExpression",
        "position": 4,
        "token": "AND",
        "near": "= AND",
    }


def test_expression_size_limit() -> None:
    clause = "a = :v OR "
    text = clause * (MAX_EXPRESSION_BYTES // len(clause)) + "a = :v OR a = :v"
    assert len(text) > MAX_EXPRESSION_BYTES
    with pytest.raises(ValidationException, match=f"expression size: {len(text)}"):
        parse_condition(text, ExpressionContext(None, {":v": {"N": "1"}}))
    fits = clause * 100 + "a = :v"
    assert parse_condition(fits, ExpressionContext(None, {":v": {"N": "1"}})).evaluate({"a": {"N": "1"}})


def test_in_takes_up_to_100_operands() -> None:
    values = {f":v{i}": {"N": str(i)} for i in range(101)}
    text = "a IN ({})".format(", ".join(values))
    with pytest.raises(ValidationException, match="number of operands: 101"):
        parse_condition(text, ExpressionContext(None, values))
    del values[":v100"]
    condition = parse_condition("a IN ({})".format(", ".join(values)), ExpressionContext(None, values))
    assert condition.evaluate({"a": {"N": "99"}}) and not condition.evaluate({"a": {"N": "100"}})


def test_placeholders_used_across_expressions() -> None:
    ctx = ExpressionContext({"#a": "a", "#b": "b"}, {":x": {"N": "1"}, ":y": {"N": "2"}})
    parse_condition("#a = :x", ctx)
    assert ctx.unused() == (["#b"], [":y"])
    parse_condition("#b = :y", ctx)
    assert ctx.unused() == ([], [])
    ctx.check_unused()


def test_parse_is_cached_by_text_but_values_are_not() -> None:
    parsed_condition.cache_clear()
    first = parse_condition("a = :v", ExpressionContext(None, {":v": {"N": "1"}}))
    second = parse_condition("a = :v", ExpressionContext(None, {":v": {"N": "2"}}))
    assert parsed_condition.cache_info().hits == 1
    assert first.evaluate({"a": {"N": "1"}}) and not first.evaluate({"a": {"N": "2"}})
    assert second.evaluate({"a": {"N": "2"}}) and not second.evaluate({"a": {"N": "1"}})


def test_cached_parse_still_marks_placeholders_used() -> None:
    parse_condition("#n = :v", ExpressionContext({"#n": "n"}, {":v": {"N": "1"}}))
    ctx = ExpressionContext({"#n": "n"}, {":v": {"N": "1"}})
    parse_condition("#n = :v", ctx)
    assert ctx.unused() == ([], [])


def test_errors_are_not_cached() -> None:
    with pytest.raises(ValidationException, match="attribute value: :v"):
        parse_condition("a = :v", ExpressionContext())
    assert parse_condition("a = :v", ExpressionContext(None, {":v": {"S": "x"}})).evaluate({"a": {"S": "x"}})


def test_condition_is_reusable_and_does_not_change_items() -> None:
    condition = parse_condition("size(tags) > :n", ExpressionContext(None, {":n": {"N": "1"}}))
    item = {"tags": {"SS": ["a", "b"]}}
    assert all(condition.evaluate(item) for _ in range(3))
    assert item == {"tags": {"SS": ["a", "b"]}}
    assert repr(condition) == "Condition('size(tags) > :n')"
