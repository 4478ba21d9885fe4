"""The runner for the YAML fixture cases next to this file.

A case is a template (YAML or JSON text), optional ``parameters``, ``stack``, ``account`` and
``region``, and either ``expect`` (dotted paths into the resolved template, as plain data, each
with its exact value), ``order`` (the exact resource ids, in order) or ``error`` (``path``: the
exact path of the TemplateError, ``message``: a fragment of its message).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from silo.templates import ResolvedTemplate, TemplateError, load_template, resolve

FIXTURES = Path(__file__).parent / "fixtures"
_CASE_KEYS = {"name", "template", "parameters", "stack", "account", "region", "expect", "order", "error"}


def cases(name: str) -> list[Any]:
    loaded: list[dict[str, Any]] = yaml.safe_load((FIXTURES / name).read_text())
    names = [case["name"] for case in loaded]
    assert len(names) == len(set(names)), f"duplicate case names in {name}"
    for case in loaded:
        assert set(case) <= _CASE_KEYS, f"{case['name']}: unknown keys {set(case) - _CASE_KEYS}"
        assert ("error" in case) != ("expect" in case or "order" in case), f"{case['name']}: expect or error"
    return [pytest.param(case, id=case["name"]) for case in loaded]


def resolve_case(case: dict[str, Any]) -> ResolvedTemplate:
    template = load_template(case["template"], source="case.yaml")
    return resolve(
        template,
        case.get("parameters"),
        account_id=case.get("account", "123456789012"),
        stack_name=case.get("stack", "shop"),
        region=case.get("region", "local"),
    )


def lookup(data: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(data, list):
            data = data[int(part)]
        else:
            assert part in data, f"{part!r} not in {sorted(data)} (looking up {path})"
            data = data[part]
    return data


def _lists(value: Any) -> Any:
    """Tuples as lists, as YAML writes them."""
    if isinstance(value, dict):
        return {key: _lists(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_lists(item) for item in value]
    return value


def run_case(case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(TemplateError) as caught:
            resolve_case(case)
        error = caught.value
        assert error.path == case["error"]["path"], error.message
        assert case["error"]["message"] in error.problem, error.message
        assert error.message.startswith(f"{error.path}: ") or not error.path
        assert error.code == "InvalidTemplate" and error.http_status == 400
        return
    resolved = resolve_case(case)
    if "order" in case:
        assert list(resolved.resources) == case["order"]
    plain = _lists(dataclasses.asdict(resolved))
    for path, expected in case.get("expect", {}).items():
        assert lookup(plain, path) == expected, path
