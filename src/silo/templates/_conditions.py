"""Condition functions (``Fn::Equals``, ``Fn::Not``, ``Fn::And``, ``Fn::Or``, ``Condition``).

They may appear only in the ``Conditions`` section; the values ``Fn::Equals`` compares are compiled
like any other expression, except that they may not reference resources.
"""

from __future__ import annotations

from typing import Any

from silo.templates._checks import join, show
from silo.templates._intrinsics import CONDITION_FUNCTIONS, Compiler
from silo.templates._scope import Test
from silo.templates.model import TemplateError


def compile_condition(compiler: Compiler, node: Any, path: str) -> Test:
    """Compile a condition function (the value of a ``Conditions`` entry or an argument of one)."""
    if not (type(node) is dict and len(node) == 1 and next(iter(node)) in CONDITION_FUNCTIONS):
        raise TemplateError(path, f"expected one of {', '.join(CONDITION_FUNCTIONS)}, got {show(node)}")
    ((key, arg),) = node.items()
    path = join(path, key)
    if key == "Condition":
        name = compiler.condition_name(arg, path)
        compiler.condition_refs.append(name)
        return lambda scope: scope.conditions[name]
    if key == "Fn::Equals":
        compiler.in_condition = True
        try:
            left, right = (
                compiler.value(item, f"{path}[{index}]")
                for index, item in enumerate(compiler.arguments(arg, 2, "[value, value]", path))
            )
        finally:
            compiler.in_condition = False
        return lambda scope: _canonical(left(scope)) == _canonical(right(scope))
    if key == "Fn::Not":
        (item,) = compiler.arguments(arg, 1, "[condition]", path)
        inner = compile_condition(compiler, item, f"{path}[0]")
        return lambda scope: not inner(scope)
    if not isinstance(arg, list) or not 2 <= len(arg) <= 10:
        raise TemplateError(path, f"expected a list of 2 to 10 conditions, got {show(arg)}")
    tests = [compile_condition(compiler, item, f"{path}[{index}]") for index, item in enumerate(arg)]
    if key == "Fn::And":
        return lambda scope: all(test(scope) for test in tests)
    return lambda scope: any(test(scope) for test in tests)


def _canonical(value: Any) -> Any:
    """Fn::Equals compares as CloudFormation does: everything as text."""
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
