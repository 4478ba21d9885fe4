"""Whole executions through the interpreter (run_local): fixtures/executions_*.yaml.

Keys: definition; input; tasks ({resource: [outcome, ...]}, an outcome being {output: X},
{error: E, cause: C} or "echo"; the last one repeats; a resource not listed echoes its input);
status; output | error + cause; calls ([[resource, input], ...] in order); scheduled_at (seconds
after the start at which each task was scheduled); history (the event types, in order).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from silo.workflows.errors import StatesError
from silo.workflows.interpreter import HistoryEvent
from silo.workflows.local import run_local
from tests.unit.workflows._fixtures import params

_KEYS = {
    "name",
    "definition",
    "input",
    "tasks",
    "status",
    "output",
    "error",
    "cause",
    "calls",
    "scheduled_at",
    "history",
}
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


class Tasks:
    def __init__(self, script: dict[str, list[Any]]) -> None:
        self.script = {resource: list(outcomes) for resource, outcomes in script.items()}
        self.calls: list[list[Any]] = []

    def __call__(self, resource: str, task_input: Any) -> Any:
        self.calls.append([resource, task_input])
        outcomes = self.script.get(resource, ["echo"])
        outcome = outcomes.pop(0) if len(outcomes) > 1 else outcomes[0]
        if outcome == "echo":
            return task_input
        if "error" in outcome:
            raise StatesError(outcome["error"], outcome.get("cause", ""))
        return outcome["output"]


@pytest.mark.parametrize("case", params("executions_*.yaml", _KEYS))
def test_execution(case: dict[str, Any]) -> None:
    tasks = Tasks(case.get("tasks", {}))
    history: list[HistoryEvent] = []
    outcome = run_local(
        case["definition"], case.get("input", {}), tasks, name="run-1", now=NOW, history=history
    )
    assert outcome["status"] == case["status"], outcome
    if case["status"] == "SUCCEEDED":
        assert outcome["output"] == case["output"]
    else:
        assert outcome["error"] == case["error"], outcome
        if "cause" in case:
            assert case["cause"] in (outcome["cause"] or ""), outcome
    if "calls" in case:
        assert tasks.calls == case["calls"]
    if "scheduled_at" in case:
        scheduled = [
            (event.timestamp - NOW).total_seconds() for event in history if event.type == "TaskScheduled"
        ]
        assert scheduled == case["scheduled_at"]
    if "history" in case:
        assert [event.type for event in history] == case["history"]
