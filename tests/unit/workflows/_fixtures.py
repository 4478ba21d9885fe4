"""Loading the YAML fixture tables next to this file (``fixtures/*.yaml``).

Each file is a list of cases with a unique ``name``; the test module of each engine says which keys
its cases have. :func:`params` turns a file (or every file matching a glob) into pytest params.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = yaml.safe_load((FIXTURES / name).read_text())
    names = [case["name"] for case in cases]
    assert len(names) == len(set(names)), f"duplicate case names in {name}"
    return cases


def params(pattern: str, keys: set[str]) -> list[Any]:
    """One param per case of every file matching ``pattern``; checks each case's keys."""
    found = []
    files = sorted(FIXTURES.glob(pattern))
    assert files, f"no fixture file matches {pattern}"
    for file in files:
        for case in load(file.name):
            unknown = set(case) - keys
            assert not unknown, f"{file.name}/{case['name']}: unknown keys {unknown}"
            found.append(pytest.param(case, id=f"{file.stem}/{case['name']}"))
    return found
