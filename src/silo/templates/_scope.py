"""What compiled expressions evaluate against: the state of one resolution.

:class:`Scope` holds the parameter values, condition results and the resources resolved so far;
expressions read it and never keep it, so a compiled template is shared by every resolution.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from silo.templates.model import TemplateError


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Any = _NoValue()
"""What ``Ref: AWS::NoValue`` evaluates to; containers drop it."""


@dataclass(slots=True)
class Target:
    """What other resources see of a resolved resource: its ``Ref`` value and ``Fn::GetAtt`` values."""

    ref: str
    attributes: dict[str, str]


@dataclass(slots=True)
class Scope:
    """The per-resolution state the compiled expressions read."""

    account: str
    region: str
    stack: str
    values: dict[str, Any]
    """Parameter and pseudo parameter values."""
    conditions: dict[str, bool] = field(default_factory=dict)
    targets: dict[str, Target] = field(default_factory=dict)
    excluded: dict[str, str] = field(default_factory=dict)
    """Logical id -> the false condition that left the resource out."""

    def target(self, logical_id: str, path: str) -> Target:
        found = self.targets.get(logical_id)
        if found is None:
            condition = self.excluded.get(logical_id)
            raise TemplateError(path, f"{logical_id} is not created: its condition {condition} is false")
        return found


Expr = Callable[[Scope], Any]
Test = Callable[[Scope], bool]


def copy_data(value: Any) -> Any:
    """Copy plain template data (dicts, lists, scalars); much cheaper than ``copy.deepcopy``."""
    if type(value) is dict:
        return {key: copy_data(item) for key, item in value.items()}
    if type(value) is list:
        return [copy_data(item) for item in value]
    return value


def is_container(value: Any) -> bool:
    return type(value) is dict or type(value) is list


def constant(value: Any) -> Expr:
    if is_container(value):
        return lambda scope: copy_data(value)
    return lambda scope: value
