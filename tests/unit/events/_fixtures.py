"""Loading the YAML fixture tables next to this file.

Pattern files (``patterns_*.yaml``) hold cases of three kinds:

* ``pattern`` + ``matches`` / ``rejects``: lists of events the pattern must match / must not match;
  each event is one test case (``<name>/m<i>``, ``<name>/r<i>``);
* ``pattern`` + ``error``: ``path`` (the exact path of the InvalidPattern) and ``message``
  (a fragment of its reason).

``pattern`` is parsed JSON, or JSON text when it is a YAML string. Other files have their own
keys, checked by their test module; every file's case names are unique.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

FIXTURES = Path(__file__).parent / "fixtures"
_PATTERN_KEYS = {"name", "pattern", "matches", "rejects", "error", "source"}


def load(name: str) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = yaml.safe_load((FIXTURES / name).read_text())
    names = [case["name"] for case in cases]
    assert len(names) == len(set(names)), f"duplicate case names in {name}"
    return cases


def pattern_files() -> list[str]:
    return sorted(path.name for path in FIXTURES.glob("patterns_*.yaml"))


def match_cases() -> list[Any]:
    """One param per (pattern, event, expected) across all pattern files."""
    params = []
    for file in pattern_files():
        for case in load(file):
            assert set(case) <= _PATTERN_KEYS, f"{case['name']}: unknown keys {set(case) - _PATTERN_KEYS}"
            assert ("error" in case) != ("matches" in case or "rejects" in case), case["name"]
            for expected, key in ((True, "matches"), (False, "rejects")):
                for index, event in enumerate(case.get(key, [])):
                    ident = f"{file[9:-5]}/{case['name']}/{key[0]}{index}"
                    params.append(pytest.param(case["pattern"], event, expected, id=ident))
    return params


def error_cases() -> list[Any]:
    return [
        pytest.param(case["pattern"], case["error"], id=f"{file[9:-5]}/{case['name']}")
        for file in pattern_files()
        for case in load(file)
        if "error" in case
    ]


def all_patterns() -> list[tuple[str, Any, list[Any]]]:
    """(name, pattern, events) of every valid pattern case, for the index equivalence test."""
    return [
        (f"{file}/{case['name']}", case["pattern"], [*case.get("matches", []), *case.get("rejects", [])])
        for file in pattern_files()
        for case in load(file)
        if "error" not in case
    ]
