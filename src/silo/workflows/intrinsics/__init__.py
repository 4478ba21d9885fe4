"""Intrinsic functions of JSONPath states (``States.Format(...)`` in a ``.$`` value).

:func:`compile_intrinsic` parses a call and checks the function names (a ValueError says what is
wrong, for the definition checker); :func:`evaluate_intrinsic` evaluates a parsed call against the
state input, the context object and the variables. Randomness (``States.UUID``,
``States.MathRandom`` without a seed) comes from the ``random.Random`` the caller passes, so an
interpreter that seeds it per transition stays deterministic. Failures raise
:class:`~silo.workflows.errors.StatesError` ``States.IntrinsicFailure``.
"""

from __future__ import annotations

import random
from typing import Any

from silo.workflows._path import Path
from silo.workflows.errors import StatesError
from silo.workflows.intrinsics._functions import FUNCTIONS, fail
from silo.workflows.intrinsics._parse import Call, Literal, looks_like_call, parse_call

__all__ = ["FUNCTIONS", "Call", "compile_intrinsic", "evaluate_intrinsic", "looks_like_call"]


def compile_intrinsic(text: str) -> Call:
    """Parse ``text`` and check every function it calls exists. Raises ValueError."""
    call = parse_call(text)
    _check_names(call)
    return call


def _check_names(call: Call) -> None:
    if call.name not in FUNCTIONS:
        raise ValueError(f"{call.name} is not an intrinsic function")
    for arg in call.args:
        if isinstance(arg, Call):
            _check_names(arg)


def evaluate_intrinsic(
    call: Call, data: Any, context: Any = None, variables: Any = None, rng: random.Random | None = None
) -> Any:
    """Evaluate ``call``; paths in it read ``data`` (``$``), ``context`` (``$$``) and ``variables``."""
    source = rng if rng is not None else random.Random(0)
    args: list[Any] = []
    for position, arg in enumerate(call.args):
        if isinstance(arg, Literal):
            value = arg.value
            if isinstance(value, str) and not (call.name == "States.Format" and position == 0):
                value = value.replace("\\{", "{").replace("\\}", "}")
            args.append(value)
        elif isinstance(arg, Call):
            args.append(evaluate_intrinsic(arg, data, context, variables, source))
        else:
            args.append(_path_value(call, arg, data, context, variables))
    return FUNCTIONS[call.name](args, source)


def _path_value(call: Call, path: Path, data: Any, context: Any, variables: Any) -> Any:
    try:
        return path.get(data, context, variables)
    except StatesError as error:
        raise fail(call.name.removeprefix("States."), error.cause) from None
