"""What a rule's target receives: the event, ``Input``, ``InputPath`` or ``InputTransformer``.

Compiled once when the target is put (every problem is an :class:`InvalidTargetInput` naming the
field), rendered for each matched event as the JSON bytes the target is invoked with:

* nothing: the whole event, minified;
* ``Input``: that JSON text, as given;
* ``InputPath``: the JSON value at that path (``null`` when the event has nothing there);
* ``InputTransformer``: ``InputPathsMap`` (at most 100 variables, names of letters, digits, ``_``
  and ``-``, dot-notation paths) and ``InputTemplate`` with ``<variable>`` placeholders, plus the
  predefined ``<aws.events.rule-arn>``, ``<aws.events.rule-name>``,
  ``<aws.events.event.ingestion-time>``, ``<aws.events.event>`` (the event without ``detail``) and
  ``<aws.events.event.json>`` (the whole event); the last two only as a JSON value, not in a string.

Templates follow EventBridge's rules. A template that is JSON (an object, an array, a quoted
string...) gets a placeholder outside quotes as a JSON value (a string value quoted, ``null`` when
the path found nothing) and one inside quotes as text (nothing when the path found nothing); the
output is minified. A template that starts with ``{`` or ``[`` must be JSON and may not use a
placeholder as an object key. Any other template is text, its placeholders replaced by the raw
values. Two deliberate differences, because Silo's targets take JSON: text inserted inside quotes
is JSON-escaped (EventBridge inserts it raw and may produce invalid JSON), and a text template's
output is delivered as a JSON string.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from silo.events._paths import MISSING, EventPath, compile_path
from silo.events.errors import InvalidTargetInput

MAX_INPUT = 8192
MAX_TEMPLATE = 8192
MAX_VARIABLES = 100
MAX_VARIABLE_NAME = 256
PREDEFINED = frozenset(
    {
        "aws.events.rule-arn",
        "aws.events.rule-name",
        "aws.events.event",
        "aws.events.event.json",
        "aws.events.event.ingestion-time",
    }
)
_JSON_VALUE_ONLY = frozenset({"aws.events.event", "aws.events.event.json"})
_NAME = re.compile(r"[A-Za-z0-9_\-]+\Z")
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")
_IN_STRING_SAMPLE = "\ue000"  # stands for text inserted in a string while the template is checked
_TRANSFORMER_FIELDS = frozenset({"InputPathsMap", "InputTemplate"})


class TargetInput:
    """A compiled target input: :meth:`render` gives the payload for one matched event."""

    __slots__ = ()

    def render(self, event: Mapping[str, Any], *, ingestion_time: dt.datetime | None = None) -> bytes:
        return _compact(event)


@dataclass(frozen=True, slots=True)
class _Constant(TargetInput):
    text: str

    def render(self, event: Mapping[str, Any], *, ingestion_time: dt.datetime | None = None) -> bytes:
        return self.text.encode()


@dataclass(frozen=True, slots=True)
class _AtPath(TargetInput):
    path: EventPath

    def render(self, event: Mapping[str, Any], *, ingestion_time: dt.datetime | None = None) -> bytes:
        value = self.path.find(event)
        return b"null" if value is MISSING else _compact(value)


@dataclass(frozen=True, slots=True)
class _Slot:
    name: str
    context: Literal["value", "string", "text"]


@dataclass(frozen=True, slots=True)
class _Template(TargetInput):
    pieces: tuple[str | _Slot, ...]
    is_json: bool
    paths: Mapping[str, EventPath]
    rule_arn: str
    rule_name: str

    def render(self, event: Mapping[str, Any], *, ingestion_time: dt.datetime | None = None) -> bytes:
        values: dict[str, Any] = {}
        parts: list[str] = []
        for piece in self.pieces:
            if isinstance(piece, str):
                parts.append(piece)
                continue
            if piece.name not in values:
                values[piece.name] = self._value(piece.name, event, ingestion_time)
            parts.append(_fragment(values[piece.name], piece.context))
        text = "".join(parts)
        if self.is_json:
            return _compact(json.loads(text))
        return json.dumps(text, ensure_ascii=False).encode()

    def _value(self, name: str, event: Mapping[str, Any], ingestion_time: dt.datetime | None) -> Any:
        if name in self.paths:
            return self.paths[name].find(event)
        if name == "aws.events.rule-arn":
            return self.rule_arn
        if name == "aws.events.rule-name":
            return self.rule_name
        if name == "aws.events.event":
            return {key: value for key, value in event.items() if key != "detail"}
        if name == "aws.events.event.json":
            return dict(event)
        if ingestion_time is None:
            return event.get("time", MISSING)
        return ingestion_time.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def compile_target_input(
    target: Mapping[str, Any], *, rule_arn: str = "", rule_name: str = ""
) -> TargetInput:
    """Compile the input settings of a target (its other keys, e.g. ``Id`` and ``Arn``, are ignored).

    Raises:
        InvalidTargetInput: the field that is wrong, and why.
    """
    given = [field for field in ("Input", "InputPath", "InputTransformer") if target.get(field) is not None]
    if len(given) > 1:
        raise InvalidTargetInput(given[1], "only one of Input, InputPath and InputTransformer may be given")
    if not given:
        return TargetInput()
    field = given[0]
    value = target[field]
    if field == "Input":
        _check_json_text(value, "Input", MAX_INPUT)
        return _Constant(value)
    if field == "InputPath":
        return _AtPath(_path(value, "InputPath", brackets=True))
    return _transformer(value, rule_arn, rule_name)


def _transformer(value: Any, rule_arn: str, rule_name: str) -> _Template:
    if not isinstance(value, Mapping):
        raise InvalidTargetInput("InputTransformer", "must be an object with InputTemplate and InputPathsMap")
    for key in value:
        if key not in _TRANSFORMER_FIELDS:
            raise InvalidTargetInput(f"InputTransformer.{key}", "unknown field")
    paths_map = value.get("InputPathsMap") or {}
    if not isinstance(paths_map, Mapping):
        raise InvalidTargetInput("InputTransformer.InputPathsMap", "must be an object of variable: JSON path")
    if len(paths_map) > MAX_VARIABLES:
        raise InvalidTargetInput("InputTransformer.InputPathsMap", f"at most {MAX_VARIABLES} variables")
    paths: dict[str, EventPath] = {}
    for name, path in paths_map.items():
        where = f"InputTransformer.InputPathsMap.{name}"
        if not isinstance(name, str) or name in PREDEFINED or name.lower().startswith("aws."):
            raise InvalidTargetInput(where, "this variable name is reserved")
        if not _NAME.match(name) or len(name) > MAX_VARIABLE_NAME:
            raise InvalidTargetInput(
                where, "a variable name is letters, digits, _ and -, at most 256 characters"
            )
        paths[name] = _path(path, where, brackets=False)
    template = value.get("InputTemplate")
    where = "InputTransformer.InputTemplate"
    if not isinstance(template, str) or not template:
        raise InvalidTargetInput(where, "InputTemplate is required: a non-empty string")
    if len(template) > MAX_TEMPLATE:
        raise InvalidTargetInput(where, f"at most {MAX_TEMPLATE} characters")
    pieces = _tokens(template, set(paths) | PREDEFINED)
    is_json = _is_json(template, pieces, where)
    if not is_json:
        pieces = tuple(_Slot(piece.name, "text") if isinstance(piece, _Slot) else piece for piece in pieces)
    for piece in pieces:
        if isinstance(piece, _Slot) and piece.name in _JSON_VALUE_ONLY and piece.context != "value":
            raise InvalidTargetInput(where, f"<{piece.name}> can only be used as a JSON value, not in text")
    return _Template(pieces, is_json, paths, rule_arn, rule_name)


def _tokens(template: str, names: set[str]) -> tuple[str | _Slot, ...]:
    """Split the template at its placeholders, noting which are inside a JSON string."""
    pieces: list[str | _Slot] = []
    text: list[str] = []
    in_string = False
    at = 0
    while at < len(template):
        char = template[at]
        if char == "\\" and in_string:
            text.append(template[at : at + 2])
            at += 2
            continue
        if char == '"':
            in_string = not in_string
        elif char == "<" and (found := _PLACEHOLDER.match(template, at)) and found.group(1) in names:
            pieces.append("".join(text))
            text = []
            pieces.append(_Slot(found.group(1), "string" if in_string else "value"))
            at = found.end()
            continue
        text.append(char)
        at += 1
    pieces.append("".join(text))
    return tuple(piece for piece in pieces if piece != "")


def _is_json(template: str, pieces: tuple[str | _Slot, ...], where: str) -> bool:
    """Whether the template is JSON once its placeholders are filled (checked with samples)."""
    sample = "".join(
        piece if isinstance(piece, str) else ("null" if piece.context == "value" else _IN_STRING_SAMPLE)
        for piece in pieces
    )
    must = template.lstrip().startswith(("{", "["))

    def keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        if any(_IN_STRING_SAMPLE in key for key, _ in pairs):
            raise InvalidTargetInput(where, "a placeholder cannot be used as an object key")
        return dict(pairs)

    try:
        json.loads(sample, object_pairs_hook=keys)
    except ValueError as error:
        if not must:
            return False
        if any(isinstance(piece, _Slot) and piece.context == "value" for piece in pieces) and re.search(
            r">\s*:", template
        ):
            raise InvalidTargetInput(where, "a placeholder cannot be used as an object key") from None
        raise InvalidTargetInput(
            where, f"a template starting with {{ or [ must be valid JSON: {error}"
        ) from None
    return True


def _fragment(value: Any, context: str) -> str:
    if context == "value":
        return "null" if value is MISSING else _compact(value).decode()
    if value is MISSING:
        return ""
    text = value if isinstance(value, str) else _compact(value).decode()
    if context == "string":
        return json.dumps(text, ensure_ascii=False)[1:-1]
    return text


def _path(value: Any, field: str, *, brackets: bool) -> EventPath:
    try:
        return compile_path(value, brackets=brackets)
    except ValueError as error:
        raise InvalidTargetInput(field, str(error)) from None


def _check_json_text(value: Any, field: str, limit: int) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidTargetInput(field, "must be JSON text")
    if len(value) > limit:
        raise InvalidTargetInput(field, f"at most {limit} characters")
    try:
        json.loads(value)
    except ValueError as error:
        raise InvalidTargetInput(field, f"must be valid JSON: {error}") from None


def _compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
