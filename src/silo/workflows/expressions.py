"""JSONata mode: values that are ``{% expression %}`` strings, evaluated by jsonata-python.

:func:`evaluate_template` walks a field (``Arguments``, ``Output``, ``Assign``, ``Items``, ...) and
replaces every ``{% ... %}`` string by the value of its expression; everything else is literal.
Expressions see ``$states`` (``input``, ``result``, ``errorOutput``, ``context``) and the workflow
variables as ``$name``. A failing expression raises :class:`StatesError`
``States.QueryEvaluationError``; :func:`check_template` reports syntax errors at definition time.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jsonata  # type: ignore[import-untyped]

from silo.workflows.errors import QUERY_EVALUATION, StatesError

OPEN, CLOSE = "{%", "%}"


def is_expression(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(OPEN) and value.endswith(CLOSE) and len(value) >= 4


@lru_cache(maxsize=4096)
def compile_expression(text: str) -> Any:
    """The compiled ``{% ... %}`` expression; raises ValueError saying why it does not parse."""
    body = text[len(OPEN) : -len(CLOSE)].strip()
    if not body:
        raise ValueError(f"{text!r} is an empty JSONata expression")
    try:
        return jsonata.Jsonata(body)
    except Exception as error:  # jsonata-python raises JException and others
        raise ValueError(f"{text!r} is not a valid JSONata expression: {error}") from None


def evaluate_expression(text: str, states: dict[str, Any], variables: dict[str, Any]) -> Any:
    """The value of one ``{% ... %}`` expression."""
    try:
        expression = compile_expression(text)
    except ValueError as error:
        raise StatesError(QUERY_EVALUATION, str(error)) from None
    bindings = {**variables, "states": states}
    try:
        return _plain(expression.evaluate(states.get("input"), bindings))
    except Exception as error:  # jsonata-python raises JException and others
        raise StatesError(QUERY_EVALUATION, f"{text}: {error}") from None


def evaluate_template(template: Any, states: dict[str, Any], variables: dict[str, Any]) -> Any:
    """``template`` with every ``{% ... %}`` string replaced by its value."""
    if is_expression(template):
        return evaluate_expression(template, states, variables)
    if isinstance(template, dict):
        return {key: evaluate_template(value, states, variables) for key, value in template.items()}
    if isinstance(template, list):
        return [evaluate_template(item, states, variables) for item in template]
    return template


def check_template(template: Any, where: str) -> None:
    """Raise ValueError, starting with the JSON path, for the first expression that does not parse."""
    if is_expression(template):
        try:
            compile_expression(template)
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from None
    elif isinstance(template, dict):
        for key, value in template.items():
            check_template(value, f"{where}.{key}")
    elif isinstance(template, list):
        for index, item in enumerate(template):
            check_template(item, f"{where}[{index}]")


def _plain(value: Any) -> Any:
    """JSON values only: jsonata-python may return its own sequence type, and floats for integers."""
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value
