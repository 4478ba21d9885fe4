"""What compiled expressions evaluate against: the state of one resolution.

:class:`Scope` holds the parameter values, condition results and the resources resolved so far;
expressions read it and never keep it, so a compiled template is shared by every resolution.

A scope without an account (``account`` None) evaluates what the plan judged account-independent,
once for many accounts (see :mod:`silo.templates._evaluate`): there the account-bearing values do
not exist, and reading one raises :class:`AccountNeeded` instead of producing a wrong value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from silo.templates import _names
from silo.templates.model import TemplateError


class AccountNeeded(RuntimeError):
    """Internal error: something judged account-independent read an account-bearing value."""


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Any = _NoValue()
"""What ``Ref: AWS::NoValue`` evaluates to; containers drop it."""


@dataclass(slots=True)
class Target:
    """What other resources see of a resolved resource: its ``Ref`` value and ``Fn::GetAtt`` values.

    Without the account, a ``Ref`` that is an ARN is None and the ARN attributes are left out."""

    ref: str | None
    attributes: dict[str, str]


@dataclass(slots=True)
class Scope:
    """The per-resolution state the compiled expressions read."""

    account: str | None
    """None while evaluating the account-independent part of a plan."""
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

    def ref(self, logical_id: str, path: str) -> str:
        found = self.target(logical_id, path).ref
        if found is None:
            raise AccountNeeded(f"{path}: Ref {logical_id} is an ARN")
        return found

    def arn(self, service: str, resource: str) -> str:
        """An ARN in this scope's region and account."""
        if self.account is None:
            raise AccountNeeded(f"the ARN of {service} {resource}")
        return _names.arn(service, self.region, self.account, resource)


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
