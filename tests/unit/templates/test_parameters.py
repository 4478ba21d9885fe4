"""Tests for parameter declarations and values (``Parameters``), mostly from parameters.yaml."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.templates._fixtures import cases, run_case


@pytest.mark.parametrize("case", cases("parameters.yaml"))
def test_parameters(case: dict[str, Any]) -> None:
    run_case(case)
