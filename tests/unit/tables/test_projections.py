"""Projection expressions: the conformance table (fixtures/projections.yaml), then ``project``."""

from __future__ import annotations

from typing import Any

import pytest

from silo.tables.errors import ValidationException
from silo.tables.expressions import ExpressionContext, parse_projection, project
from tests.unit.tables._fixtures import item_of, params
from tests.unit.tables.test_conditions import assert_error

_KEYS = {"name", "expression", "names", "item", "result", "error"}


@pytest.mark.parametrize(("case", "items"), params("projections.yaml", _KEYS))
def test_projection(case: dict[str, Any], items: dict[str, Any]) -> None:
    assert ("result" in case) != ("error" in case), case["name"]
    ctx = ExpressionContext(case.get("names"))
    if "error" in case:
        with pytest.raises(ValidationException) as caught:
            parse_projection(case["expression"], ctx)
        assert_error(caught.value, case["error"])
        return
    projection = parse_projection(case["expression"], ctx)
    assert ctx.unused() == ([], [])
    item = item_of(case["item"], items)
    assert projection.apply(item) == case["result"]


def test_top_level_projection_shares_values() -> None:
    item = {"a": {"M": {"x": {"S": "y"}}}, "b": {"N": "1"}}
    projected = parse_projection("a", ExpressionContext()).apply(item)
    assert projected == {"a": item["a"]} and projected["a"] is item["a"]


def test_project_by_resolved_paths() -> None:
    item = {
        "a": {"M": {"x": {"N": "1"}, "y": {"N": "2"}}},
        "l": {"L": [{"S": "p"}, {"S": "q"}]},
        "z": {"N": "0"},
    }
    assert project(item, [("a", "y"), ("l", 1), ("missing",)]) == {
        "a": {"M": {"y": {"N": "2"}}},
        "l": {"L": [{"S": "q"}]},
    }


def test_paths_and_repr() -> None:
    projection = parse_projection("#a.b[1], c", ExpressionContext({"#a": "a"}))
    assert projection.paths == (("a", "b", 1), ("c",))
    assert repr(projection) == "Projection('#a.b[1], c')"
