"""Intrinsic functions: the fixture table fixtures/intrinsics.yaml, then parser errors."""

from __future__ import annotations

import random
from typing import Any

import pytest

from silo.workflows.errors import StatesError
from silo.workflows.intrinsics import compile_intrinsic, evaluate_intrinsic
from tests.unit.workflows._fixtures import params

_KEYS = {"name", "call", "input", "context", "variables", "result", "error", "invalid", "check"}


@pytest.mark.parametrize("case", params("intrinsics.yaml", _KEYS))
def test_intrinsic(case: dict[str, Any]) -> None:
    assert len({"result", "error", "invalid", "check"} & set(case)) == 1, case["name"]
    if "invalid" in case:
        with pytest.raises(ValueError, match=case["invalid"]):
            compile_intrinsic(case["call"])
        return
    call = compile_intrinsic(case["call"])
    args = (case.get("input", {}), case.get("context", {}), case.get("variables", {}), random.Random(7))
    if "error" in case:
        with pytest.raises(StatesError) as caught:
            evaluate_intrinsic(call, *args)
        assert caught.value.error == "States.IntrinsicFailure"
        assert case["error"] in caught.value.cause
        return
    value = evaluate_intrinsic(call, *args)
    if "check" in case:
        _check(case["check"], value)
    else:
        assert value == case["result"]
        assert type(value) is type(case["result"])


def _check(kind: str, value: Any) -> None:
    if kind == "uuid4":
        assert isinstance(value, str) and len(value) == 36 and value[14] == "4" and value[19] in "89ab"
    elif kind.startswith("int-in:"):
        low, high = (int(part) for part in kind[7:].split(","))
        assert isinstance(value, int) and low <= value < high
    else:
        raise AssertionError(f"unknown check {kind}")


def test_random_functions_are_deterministic_for_one_generator() -> None:
    call = compile_intrinsic("States.Array(States.UUID(), States.MathRandom(0, 1000000))")
    first = evaluate_intrinsic(call, {}, {}, {}, random.Random("run-1/3"))
    second = evaluate_intrinsic(call, {}, {}, {}, random.Random("run-1/3"))
    other = evaluate_intrinsic(call, {}, {}, {}, random.Random("run-2/3"))
    assert first == second
    assert first != other


def test_math_random_with_a_seed_ignores_the_generator() -> None:
    call = compile_intrinsic("States.MathRandom(1, 1000000, 42)")
    assert evaluate_intrinsic(call, {}, rng=random.Random(1)) == evaluate_intrinsic(
        call, {}, rng=random.Random(2)
    )
