"""JSONPath input/output processing: fixtures/paths.yaml run as one Task or Pass state."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from silo.workflows._path import compile_path
from silo.workflows.errors import StatesError
from silo.workflows.local import run_local
from tests.unit.workflows._fixtures import params

_KEYS = {"name", "task", "pass", "input", "result", "task_input", "output", "error"}
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize("case", params("paths.yaml", _KEYS))
def test_paths(case: dict[str, Any]) -> None:
    assert ("output" in case) != ("error" in case), case["name"]
    if "task" in case:
        state = {"Type": "Task", "Resource": "fn", "End": True, **case["task"]}
    else:
        state = {"Type": "Pass", "End": True, **case["pass"]}
    definition = {"StartAt": "S", "States": {"S": state}}
    calls: list[Any] = []

    def handler(resource: str, task_input: Any) -> Any:
        calls.append(task_input)
        return case.get("result")

    outcome = run_local(definition, case["input"], handler, name="run-1", now=NOW)
    if "task_input" in case:
        assert calls == [case["task_input"]]
    if "error" in case:
        assert outcome["status"] == "FAILED"
        assert outcome["error"] == case["error"][0]
        assert case["error"][1] in outcome["cause"]
    else:
        assert outcome == {"status": "SUCCEEDED", "output": case["output"], "error": None, "cause": None}


def test_reference_path_put_creates_objects_and_copies() -> None:
    data = {"a": {"b": 1}}
    written = compile_path("$.a.c.d", reference=True).put(data, 2)
    assert written == {"a": {"b": 1, "c": {"d": 2}}}
    assert data == {"a": {"b": 1}}


def test_reference_path_put_into_a_scalar_fails() -> None:
    with pytest.raises(StatesError) as caught:
        compile_path("$.a.b", reference=True).put({"a": 5}, 1)
    assert caught.value.error == "States.ResultPathMatchFailure"


@pytest.mark.parametrize(
    ("text", "reference"),
    [("$.a[*]", True), ("$..a", True), ("a", False), ("$.a[", False), ("$x.y", True)],
)
def test_path_syntax(text: str, reference: bool) -> None:
    if text == "$x.y":
        assert compile_path(text, reference=reference).root == "variable"
        with pytest.raises(ValueError, match="variables cannot be used here"):
            compile_path(text, reference=reference, variables=False)
        return
    with pytest.raises(ValueError):
        compile_path(text, reference=reference)
