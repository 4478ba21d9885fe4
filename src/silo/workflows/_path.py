"""JSONPath as Step Functions uses it: paths into the state input, the context object ``$$`` or a
workflow variable ``$name``.

A *reference path* (``ResultPath``, a Choice ``Variable``, ``ItemsPath``, ``...Path`` fields) names
one node with ``.name``, ``['name']`` and ``[index]`` steps; this module evaluates those itself and
can also write through them (``ResultPath`` creates missing objects on the way). Any other path
(``InputPath``, ``OutputPath``, ``.$`` values) may use full JSONPath (``[*]``, ``..``, filters,
slices), evaluated by jsonpath-ng and yielding the list of what it found.

A path that finds nothing raises :class:`StatesError` ``States.Runtime``, as Step Functions does.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any, Literal

from jsonpath_ng import JSONPath
from jsonpath_ng.ext.parser import parse as parse_jsonpath

from silo.workflows.errors import RUNTIME, StatesError

Root = Literal["input", "context", "variable"]
MAX_PATH = 2048
_NAME = re.compile(r"\.([^.\[\]\s'\"*()@?,]+)")
_QUOTED = re.compile(r"\[\s*(?:'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\")\s*\]")
_INDEX = re.compile(r"\[\s*(\d+)\s*\]")
_VARIABLE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class Path:
    """A compiled path: ``steps`` for a reference path, else a jsonpath-ng ``expression``."""

    text: str
    root: Root
    variable: str
    steps: tuple[str | int, ...] | None
    expression: JSONPath | None

    @property
    def is_reference(self) -> bool:
        return self.steps is not None

    def get(self, data: Any, context: Any = None, variables: Any = None) -> Any:
        """The value the path selects (a list of matches for a non-reference path)."""
        base = self._base(data, context, variables)
        if self.steps is not None:
            node = base
            for step in self.steps:
                if isinstance(step, int):
                    if not isinstance(node, list) or step >= len(node):
                        raise self._no_match()
                    node = node[step]
                else:
                    if not isinstance(node, dict) or step not in node:
                        raise self._no_match()
                    node = node[step]
            return copy.deepcopy(node)
        assert self.expression is not None
        return [copy.deepcopy(match.value) for match in self.expression.find(base)]

    def exists(self, data: Any, context: Any = None, variables: Any = None) -> bool:
        try:
            found = self.get(data, context, variables)
        except StatesError:
            return False
        return self.is_reference or bool(found)

    def put(self, data: Any, value: Any) -> Any:
        """``data`` with ``value`` written at this reference path (``ResultPath``), creating objects.

        Raises StatesError ``States.ResultPathMatchFailure`` when a step meets a non-object.
        """
        if not self.steps:
            return value
        result = copy.deepcopy(data) if isinstance(data, dict | list) else data
        if not isinstance(result, dict | list):
            raise StatesError(
                "States.ResultPathMatchFailure",
                f"Unable to apply ResultPath {self.text!r} to input {result!r}: it is not an object",
            )
        node: Any = result
        for position, step in enumerate(self.steps):
            last = position == len(self.steps) - 1
            if isinstance(step, int):
                if not isinstance(node, list) or step >= len(node):
                    raise StatesError(
                        "States.ResultPathMatchFailure",
                        f"Unable to apply ResultPath {self.text!r}: no array element {step}",
                    )
            elif not isinstance(node, dict):
                raise StatesError(
                    "States.ResultPathMatchFailure",
                    f"Unable to apply ResultPath {self.text!r}: {step!r} is not in an object",
                )
            if last:
                node[step] = value
            else:
                if isinstance(node, dict) and step not in node:
                    node[step] = {}
                node = node[step]
        return result

    def _base(self, data: Any, context: Any, variables: Any) -> Any:
        if self.root == "input":
            return data
        if self.root == "context":
            return context if context is not None else {}
        if not isinstance(variables, dict) or self.variable not in variables:
            raise StatesError(RUNTIME, f"The variable ${self.variable} is not defined")
        return variables[self.variable]

    def _no_match(self) -> StatesError:
        return StatesError(RUNTIME, f"The JSONPath {self.text!r} could not be found in the input")


def compile_path(text: Any, *, reference: bool = False, variables: bool = True) -> Path:
    """Compile ``text``; ``reference`` accepts only single-node reference paths.

    Raises ValueError saying what is wrong.
    """
    if not isinstance(text, str) or not text.startswith("$"):
        raise ValueError(f"{text!r} is not a JSONPath: it must start with $")
    if len(text) > MAX_PATH:
        raise ValueError(f"a JSONPath is at most {MAX_PATH} characters")
    root: Root = "input"
    variable = ""
    rest = text[1:]
    if text.startswith("$$"):
        root, rest = "context", text[2:]
    elif (named := _VARIABLE.match(text)) is not None:
        if not variables:
            raise ValueError(f"{text!r}: variables cannot be used here")
        root, variable, rest = "variable", named.group(1), text[named.end() :]
    steps = _reference_steps(rest)
    if steps is not None:
        return Path(text, root, variable, steps, None)
    if reference:
        raise ValueError(f"{text!r} is not a valid reference path (one node: .name, ['name'], [0])")
    try:
        expression = parse_jsonpath("$" + rest)
    except Exception as error:  # ply and jsonpath-ng raise several kinds
        raise ValueError(f"{text!r} is not a valid JSONPath: {error}") from None
    return Path(text, root, variable, None, expression)


def _reference_steps(rest: str) -> tuple[str | int, ...] | None:
    steps: list[str | int] = []
    position = 0
    while position < len(rest):
        match = _NAME.match(rest, position) or _QUOTED.match(rest, position) or _INDEX.match(rest, position)
        if match is None:
            return None
        if match.re is _NAME:
            steps.append(match.group(1))
        elif match.re is _INDEX:
            steps.append(int(match.group(1)))
        else:
            raw = match.group(1) if match.group(1) is not None else match.group(2)
            steps.append(re.sub(r"\\(.)", r"\1", raw))
        position = match.end()
    return tuple(steps)
