"""The pattern conformance tables (fixtures/patterns_*.yaml), then limits and the compiled object."""

from __future__ import annotations

import json
from typing import Any

import pytest

from silo.errors import ValidationError
from silo.events import InvalidPattern, Pattern, compile_pattern
from silo.events.patterns import MAX_LENGTH, MAX_LENGTH_CEILING
from tests.unit.events._fixtures import error_cases, match_cases


@pytest.mark.parametrize(("pattern", "event", "expected"), match_cases())
def test_match(pattern: Any, event: dict[str, Any], expected: bool) -> None:
    assert compile_pattern(pattern).matches(event) is expected


@pytest.mark.parametrize(("pattern", "error"), error_cases())
def test_invalid(pattern: Any, error: dict[str, str]) -> None:
    with pytest.raises(InvalidPattern) as caught:
        compile_pattern(pattern)
    problem = caught.value
    assert problem.path == error["path"], problem.message
    assert error["message"] in problem.reason, problem.message
    assert problem.message == (f"{problem.path}: {problem.reason}" if problem.path else problem.reason)
    assert problem.code == "InvalidEventPattern" and problem.http_status == 400
    assert isinstance(problem, ValidationError)
    assert problem.to_dict()["details"] == {"path": problem.path}


def test_text_and_parsed_forms_compile_alike() -> None:
    text = '{"source": ["shop"], "detail": {"total": [{"numeric": [">", 100]}]}}'
    from_text, from_dict = compile_pattern(text), compile_pattern(json.loads(text))
    event = {"source": "shop", "detail": {"total": 150}}
    assert from_text.matches(event) and from_dict.matches(event)
    assert from_text.source == from_dict.source == json.loads(text)
    assert from_text.text == '{"source":["shop"],"detail":{"total":[{"numeric":[">",100]}]}}'
    assert repr(from_text) == f"Pattern({from_text.text})"
    assert isinstance(from_text, Pattern)


@pytest.mark.parametrize(
    "bad",
    [{"a": [{1, 2}]}, {"a": [float("nan")]}, {"a": [float("inf")]}, {"a": [object()]}],
    ids=["set", "nan", "inf", "object"],
)
def test_parsed_patterns_must_be_json(bad: Any) -> None:
    with pytest.raises(InvalidPattern, match=r"not valid JSON|Match value must be"):
        compile_pattern(bad)


def test_length_limit_default_and_raised() -> None:
    values = ", ".join(f'"value-{n:04d}"' for n in range(200))
    text = f'{{"source": [{values}]}}'
    assert MAX_LENGTH < len(text) <= MAX_LENGTH_CEILING
    with pytest.raises(InvalidPattern, match=f"characters long, the limit is {MAX_LENGTH}"):
        compile_pattern(text)
    assert compile_pattern(text, max_length=MAX_LENGTH_CEILING).matches({"source": "value-0199"})
    with pytest.raises(ValueError, match="max_length"):
        compile_pattern(text, max_length=MAX_LENGTH_CEILING + 1)


def test_length_counts_parsed_patterns_compactly() -> None:
    pattern = {"source": [f"v{n:05d}" for n in range(300)]}
    with pytest.raises(InvalidPattern, match="the limit is 2048"):
        compile_pattern(pattern)


def test_nesting_limit() -> None:
    fine: dict[str, Any] = {"x": [1]}
    for _ in range(99):
        fine = {"a": fine}
    assert compile_pattern(fine, max_length=MAX_LENGTH_CEILING).matches(_nest({"x": 1}, 99))
    with pytest.raises(InvalidPattern) as caught:
        compile_pattern({"a": fine}, max_length=MAX_LENGTH_CEILING)
    assert "nest more than 100 deep" in caught.value.reason
    assert caught.value.path == ".".join(["a"] * 100)


def _nest(leaf: dict[str, Any], depth: int) -> dict[str, Any]:
    for _ in range(depth):
        leaf = {"a": leaf}
    return leaf


def test_deeply_nested_event_arrays_do_not_recurse() -> None:
    value: Any = 7
    for _ in range(5000):
        value = [value]
    assert compile_pattern({"detail": {"n": [7]}}).matches({"detail": {"n": value}})
    assert compile_pattern({"detail": {"n": {"m": [1]}}}).matches({"detail": {"n": [[[{"m": 1}]]]}})


def test_non_object_events_never_match() -> None:
    pattern = compile_pattern({"a": [{"exists": False}]})
    assert pattern.matches({})
    assert not pattern.matches([])  # type: ignore[arg-type]
    assert not pattern.matches("text")  # type: ignore[arg-type]


def test_exact_fields_are_the_and_of_exact_strings() -> None:
    pattern = compile_pattern(
        {
            "source": ["a", "b"],
            "detail-type": ["T"],
            "detail": {"tenant": ["acme"], "n": [1], "s": ["x", {"prefix": "y"}], "e": ["z", None]},
            "$or": [{"x": ["1"]}, {"y": ["2"]}],
        }
    )
    assert sorted(pattern.exact_fields()) == [
        (("detail", "tenant"), frozenset({"acme"})),
        (("detail-type",), frozenset({"T"})),
        (("source",), frozenset({"a", "b"})),
    ]
