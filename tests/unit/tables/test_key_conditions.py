"""Key condition expressions: the conformance table (fixtures/key_conditions.yaml)."""

from __future__ import annotations

from typing import Any

import pytest

from silo.tables.errors import ValidationException
from silo.tables.expressions import SORT_OPERATORS, ExpressionContext, KeyCondition, parse_key_condition
from tests.unit.tables._fixtures import error_params, match_params, params
from tests.unit.tables.test_conditions import assert_error

_KEYS = {
    "name",
    "expression",
    "names",
    "values",
    "partition_key",
    "sort_key",
    "key_types",
    "parsed",
    "matches",
    "rejects",
    "error",
}


def _parse(case: dict[str, Any]) -> KeyCondition:
    ctx = ExpressionContext(case.get("names"), case.get("values"))
    condition = parse_key_condition(
        case["expression"],
        ctx,
        case.get("partition_key", "pk"),
        case.get("sort_key", "sk"),
        key_types=case.get("key_types"),
    )
    assert ctx.unused() == ([], [])
    return condition


@pytest.mark.parametrize(
    ("case", "items"), [p for p in params("key_conditions.yaml", _KEYS) if "parsed" in p.values[0]]
)
def test_parsed(case: dict[str, Any], items: dict[str, Any]) -> None:
    condition = _parse(case)
    parsed = case["parsed"]
    assert condition.partition_value == parsed["partition_value"]
    assert condition.sort_op == parsed["sort_op"]
    assert list(condition.sort_values) == parsed["sort_values"]
    assert condition.sort_op is None or condition.sort_op in SORT_OPERATORS
    assert condition.partition_key == case.get("partition_key", "pk")


@pytest.mark.parametrize(("case", "item", "expected"), match_params("key_conditions.yaml", _KEYS))
def test_matches(case: dict[str, Any], item: dict[str, Any], expected: bool) -> None:
    assert _parse(case).matches(item) is expected


@pytest.mark.parametrize(("case", "items"), error_params("key_conditions.yaml", _KEYS))
def test_invalid(case: dict[str, Any], items: dict[str, Any]) -> None:
    with pytest.raises(ValidationException) as caught:
        _parse(case)
    assert_error(caught.value, case["error"])


def test_every_valid_case_says_what_it_parses_to() -> None:
    for param in params("key_conditions.yaml", _KEYS):
        case = param.values[0]
        assert ("parsed" in case) != ("error" in case), case["name"]
