"""Loading the YAML fixture tables next to this file (``fixtures/*.yaml``).

A fixture file is either a list of cases or a mapping with ``items`` (named items that cases refer
to by name, such as the ProductCatalog item of the DynamoDB docs) and ``cases``. Every case has a
unique ``name``; the test module of each engine says which other keys its cases have.
:func:`params` turns every file matching a glob into pytest params of (case, items); condition-like
cases with ``matches`` / ``rejects`` lists become one param per item (:func:`match_params`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

FIXTURES = Path(__file__).parent / "fixtures"


def load(path: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(cases, named items) of one file."""
    data = yaml.safe_load(path.read_text())
    cases, items = (data, {}) if isinstance(data, list) else (data["cases"], data.get("items", {}))
    names = [case["name"] for case in cases]
    assert len(names) == len(set(names)), f"duplicate case names in {path.name}"
    return cases, items


def item_of(ref: Any, items: dict[str, Any]) -> Any:
    """An item given inline, or by the name of one of the file's ``items``."""
    return items[ref] if isinstance(ref, str) else ref


def params(pattern: str, keys: set[str]) -> list[Any]:
    """One param (case, items) per case of every file matching ``pattern``; checks case keys."""
    found = []
    files = sorted(FIXTURES.glob(pattern))
    assert files, f"no fixture file matches {pattern}"
    for file in files:
        cases, items = load(file)
        for case in cases:
            unknown = set(case) - keys
            assert not unknown, f"{file.name}/{case['name']}: unknown keys {unknown}"
            found.append(pytest.param(case, items, id=f"{file.stem}/{case['name']}"))
    return found


def match_params(pattern: str, keys: set[str]) -> list[Any]:
    """One param (case, item, expected) per item of the ``matches`` / ``rejects`` of each case
    that has them."""
    found = []
    for param in params(pattern, keys):
        case, items = param.values
        for expected, key in ((True, "matches"), (False, "rejects")):
            for index, ref in enumerate(case.get(key, [])):
                ident = f"{param.id}/{key[0]}{index}"
                found.append(pytest.param(case, item_of(ref, items), expected, id=ident))
    return found


def error_params(pattern: str, keys: set[str]) -> list[Any]:
    """One param (case, items) per case of the files that has an ``error``."""
    return [param for param in params(pattern, keys) if "error" in param.values[0]]
