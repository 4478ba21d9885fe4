"""Loading the YAML cases next to this file, and reading their UTC times."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

FIXTURES = Path(__file__).parent / "fixtures"


def cases(name: str, keys: set[str]) -> list[Any]:
    loaded: list[dict[str, Any]] = yaml.safe_load((FIXTURES / name).read_text())
    names = [case["name"] for case in loaded]
    assert len(names) == len(set(names)), f"duplicate case names in {name}"
    for case in loaded:
        assert set(case) <= keys, f"{case['name']}: unknown keys {set(case) - keys}"
    return [pytest.param(case, id=case["name"]) for case in loaded]


def utc(text: str | datetime) -> datetime:
    """A fixture time: YAML may already have made it a datetime."""
    moment = text if isinstance(text, datetime) else datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
