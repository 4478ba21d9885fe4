"""The package's public surface stays small and importable."""

from __future__ import annotations

import silo.workflows
from silo.errors import ValidationError


def test_public_surface() -> None:
    assert sorted(silo.workflows.__all__) == [
        "Execution",
        "ExecutionInfo",
        "InvalidDefinition",
        "QueryLanguage",
        "State",
        "StateMachine",
        "StatesError",
        "Step",
        "new_execution",
        "parse_definition",
        "run_local",
        "step",
    ]
    assert issubclass(silo.workflows.InvalidDefinition, ValidationError)


def test_run_local_from_the_package() -> None:
    definition = '{"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "hi", "End": true}}}'
    outcome = silo.workflows.run_local(definition, {}, lambda resource, data: data)
    assert outcome == {"status": "SUCCEEDED", "output": "hi", "error": None, "cause": None}
