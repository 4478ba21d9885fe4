"""Definitions: fixtures/definitions_*.yaml (valid ones parse, invalid ones name their JSON path)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from silo.errors import ValidationError
from silo.workflows.definition import QueryLanguage, parse_definition
from silo.workflows.errors import InvalidDefinition
from tests.unit.workflows._fixtures import params

_KEYS = {"name", "definition", "error", "states"}


@pytest.mark.parametrize("case", params("definitions_*.yaml", _KEYS))
def test_definition(case: dict[str, Any]) -> None:
    assert ("error" in case) != ("states" in case), case["name"]
    if "states" in case:
        machine = parse_definition(case["definition"])
        assert sorted(machine.states) == sorted(case["states"])
        assert parse_definition(json.dumps(case["definition"])) == machine
        return
    with pytest.raises(InvalidDefinition) as caught:
        parse_definition(case["definition"])
    path, message = case["error"]
    error = caught.value
    assert error.path == path, str(error)
    assert str(error).startswith(f"{path}: ")
    assert message in error.reason, str(error)


def test_invalid_definition_is_a_validation_error_with_a_code() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_definition('{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nope"}}}')
    assert caught.value.code == "InvalidDefinition"
    assert caught.value.http_status == 400
    assert caught.value.message == '$.States.A.Next: state "Nope" does not exist'


def test_not_json_text() -> None:
    with pytest.raises(InvalidDefinition, match=r"^\$: not valid JSON"):
        parse_definition("{nope")


def test_model_is_immutable_and_copies_values() -> None:
    source = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": {"x": [1]}, "End": True}}}
    machine = parse_definition(source)
    source["States"]["A"]["Result"]["x"].append(2)
    state = machine.state("A")
    state.get("Result")["x"].append(3)
    assert state.get("Result") == {"x": [1]}
    with pytest.raises(TypeError):
        state.fields["Result"] = 1  # type: ignore[index]
    with pytest.raises(AttributeError):
        state.name = "B"  # type: ignore[misc]


def test_query_language_is_inherited_by_states_and_branches() -> None:
    machine = parse_definition(
        {
            "QueryLanguage": "JSONata",
            "StartAt": "P",
            "States": {
                "P": {
                    "Type": "Parallel",
                    "Branches": [{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}],
                    "End": True,
                }
            },
        }
    )
    assert machine.query_language is QueryLanguage.JSONATA
    branch = machine.state("P").branches[0]
    assert branch.state("A").query_language is QueryLanguage.JSONATA


def test_retry_defaults() -> None:
    machine = parse_definition(
        {
            "StartAt": "T",
            "States": {
                "T": {"Type": "Task", "Resource": "f", "Retry": [{"ErrorEquals": ["E"]}], "End": True}
            },
        }
    )
    retrier = machine.state("T").retry[0]
    assert (retrier.interval_seconds, retrier.max_attempts, retrier.backoff_rate) == (1, 3, 2.0)
    assert retrier.max_delay_seconds is None and retrier.jitter == "NONE"
    assert [retrier.delay(n) for n in range(4)] == [1.0, 2.0, 4.0, 8.0]
