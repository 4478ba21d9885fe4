"""Choice rules: fixtures/choice.yaml (JSONPath rules and JSONata conditions)."""

from __future__ import annotations

from typing import Any

import pytest

from silo.workflows.choice import check_rule, evaluate_condition, evaluate_rule
from silo.workflows.errors import StatesError
from tests.unit.workflows._fixtures import params

_KEYS = {"name", "rule", "condition", "input", "variables", "matches", "error", "invalid"}


@pytest.mark.parametrize("case", params("choice.yaml", _KEYS))
def test_choice_rule(case: dict[str, Any]) -> None:
    assert len({"matches", "error", "invalid"} & set(case)) == 1, case["name"]
    variables = case.get("variables", {})
    data = case.get("input", {})
    if "condition" in case:
        states = {"input": data, "context": {}}
        if "error" in case:
            with pytest.raises(StatesError) as caught:
                evaluate_condition(case["condition"], states, variables)
            assert caught.value.error == case["error"]
        else:
            assert evaluate_condition(case["condition"], states, variables) is case["matches"]
        return
    rule = {**case["rule"], "Next": "X"}
    if "invalid" in case:
        with pytest.raises(ValueError) as invalid:
            check_rule(rule, "$.States.C.Choices[0]", top=True)
        path, message = case["invalid"]
        assert str(invalid.value).startswith(f"{path}: ")
        assert message in str(invalid.value)
        return
    check_rule(rule, "$.States.C.Choices[0]", top=True)
    if "error" in case:
        with pytest.raises(StatesError) as caught:
            evaluate_rule(rule, data, {}, variables)
        assert caught.value.error == case["error"]
    else:
        assert evaluate_rule(rule, data, {}, variables) is case["matches"]
