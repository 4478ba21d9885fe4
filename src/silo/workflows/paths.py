"""Input and output processing of JSONPath states.

The order is the one of the ASL specification: ``InputPath`` selects the effective input from the
raw state input, ``Parameters`` (``ItemSelector`` in Map) builds the task input from it, the task
result goes through ``ResultSelector``, ``ResultPath`` places it into the raw state input, and
``OutputPath`` selects the state output from that.

Payload templates (``Parameters``, ``ResultSelector``, ``ItemSelector``, JSONPath ``Assign``) copy
their values, except under keys ending in ``.$``: those hold a path (``$.x``, ``$$.Execution.Id``,
``$variable``) or an intrinsic function call, and the key loses the ``.$``. Paths that find
nothing raise :class:`StatesError` ``States.Runtime``.
"""

from __future__ import annotations

import random
from functools import lru_cache
from typing import Any

from silo.workflows._path import Path, compile_path
from silo.workflows.errors import RUNTIME, StatesError
from silo.workflows.intrinsics import Call, compile_intrinsic, evaluate_intrinsic, looks_like_call

DEFAULT = "$"


@lru_cache(maxsize=4096)
def cached_path(text: str, reference: bool = False) -> Path:
    """A compiled path, cached; raises ValueError for a bad one."""
    return compile_path(text, reference=reference)


@lru_cache(maxsize=4096)
def cached_call(text: str) -> Call:
    return compile_intrinsic(text)


def select(path: str | None, data: Any, context: Any = None, variables: Any = None) -> Any:
    """``InputPath``/``OutputPath``: ``None`` (JSON null) gives ``{}``."""
    if path is None:
        return {}
    if path == DEFAULT:
        return data
    return cached_path(path).get(data, context, variables)


def apply_result_path(raw_input: Any, result: Any, path: str | None) -> Any:
    """``ResultPath``: ``None`` keeps the raw input and discards the result; ``$`` is the result."""
    if path is None:
        return raw_input
    return cached_path(path, True).put(raw_input, result)


def render(
    template: Any,
    data: Any,
    context: Any = None,
    variables: Any = None,
    rng: random.Random | None = None,
) -> Any:
    """Evaluate a payload template against ``data`` (``$``), ``context`` (``$$``) and variables."""
    if isinstance(template, dict):
        out: dict[str, Any] = {}
        for key, value in template.items():
            if key.endswith(".$"):
                out[key[:-2]] = _dynamic(value, data, context, variables, rng)
            else:
                out[key] = render(value, data, context, variables, rng)
        return out
    if isinstance(template, list):
        return [render(item, data, context, variables, rng) for item in template]
    return template


def _dynamic(text: str, data: Any, context: Any, variables: Any, rng: random.Random | None) -> Any:
    if looks_like_call(text):
        return evaluate_intrinsic(cached_call(text), data, context, variables, rng)
    try:
        return cached_path(text).get(data, context, variables)
    except StatesError as error:
        raise StatesError(RUNTIME, f"{error.cause} (in the template value {text!r})") from None


def check_template(template: Any, where: str) -> None:
    """Check every ``.$`` value of a payload template. Raises ValueError whose text starts with the
    JSON path of the bad value (``where`` is the template's own path)."""
    if isinstance(template, dict):
        for key, value in template.items():
            at = f"{where}.{key}" if key.isidentifier() or key.endswith(".$") else f"{where}[{key!r}]"
            if isinstance(key, str) and key.endswith(".$"):
                if not isinstance(value, str):
                    raise ValueError(f"{at}: a .$ value must be a path or an intrinsic function")
                try:
                    cached_call(value) if looks_like_call(value) else cached_path(value)
                except ValueError as error:
                    raise ValueError(f"{at}: {error}") from None
            else:
                check_template(value, at)
    elif isinstance(template, list):
        for index, item in enumerate(template):
            check_template(item, f"{where}[{index}]")
