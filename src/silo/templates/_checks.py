"""Checks on resolved property values, shared by the per-kind builders.

Each returns the value in its normal form or raises :class:`TemplateError` naming ``path``. Like
CloudFormation, numbers may be written as numeric strings (a ``Number`` parameter is a string once
referenced) and text may be written as a number.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from silo.templates.model import TemplateError

_INTEGER = re.compile(r"-?[0-9]+")
_MISSING: Any = object()

Where = str | tuple[str, str]
"""A path, or (path, key) joined only when an error needs it: builders check many values per
resolution and almost all of them are fine."""


def where(path: Where) -> str:
    return path if isinstance(path, str) else join(*path)


def show(value: object) -> str:
    """A short repr of a bad value for an error message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def suggest(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str:
    """``"; did you mean 'X'?"`` when a close match exists, else ``""``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=cutoff)
    return f"; did you mean {close[0]!r}?" if close else ""


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def check_keys(value: Mapping[str, Any], allowed: Iterable[str], path: Where) -> None:
    """Refuse keys outside ``allowed``, naming the first unknown one and the allowed set."""
    names = set(allowed)
    for key in value:
        if key not in names:
            raise TemplateError(
                join(where(path), key),
                f"unknown key {key!r}{suggest(key, names)} (allowed: {', '.join(sorted(names))})",
            )


def text(value: object, path: Where) -> str:
    """A string; numbers and booleans are written as CloudFormation writes them."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise TemplateError(where(path), f"expected a string, got {type(value).__name__} {show(value)}")


def optional_text(props: Mapping[str, Any], key: str, path: Where, default: str | None = None) -> str | None:
    value = props.get(key, _MISSING)
    return default if value is _MISSING else text(value, (where(path), key))


def integer(value: object, path: Where, low: int, high: int) -> int:
    number = int(value) if isinstance(value, str) and _INTEGER.fullmatch(value.strip()) else value
    if not isinstance(number, int) or isinstance(number, bool) or not low <= number <= high:
        raise TemplateError(where(path), f"expected an integer from {low} to {high}, got {show(value)}")
    return number


def boolean(value: object, path: Where) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise TemplateError(where(path), f"expected true or false, got {show(value)}")


def mapping(value: object, path: Where) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TemplateError(where(path), f"expected a mapping, got {type(value).__name__} {show(value)}")
    return value


def sequence(value: object, path: Where) -> list[Any]:
    if not isinstance(value, list):
        raise TemplateError(where(path), f"expected a list, got {type(value).__name__} {show(value)}")
    return value


def one_of(value: object, choices: Iterable[str], path: Where) -> str:
    options = tuple(choices)
    if not isinstance(value, str) or value not in options:
        raise TemplateError(where(path), f"expected one of {', '.join(options)}; got {show(value)}")
    return value


def matching(value: object, pattern: re.Pattern[str], what: str, path: Where) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise TemplateError(where(path), f"expected {what}, got {show(value)}")
    return value


def json_text(value: object, path: Where) -> str:
    """Text that parses as JSON (a target's ``Input``); a mapping or list is written as JSON."""
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    raw = text(value, path)
    try:
        json.loads(raw)
    except ValueError as exc:
        raise TemplateError(where(path), f"not valid JSON: {exc}") from None
    return raw


def json_object(value: object, path: Where) -> dict[str, Any]:
    """A mapping, or JSON text of one (``EventPattern``, ``DefinitionString``)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise TemplateError(where(path), f"not valid JSON: {exc}") from None
    return mapping(value, path)


def tag_map(value: object, path: Where) -> dict[str, str]:
    """SAM tags: a mapping of key to value."""
    base = where(path)
    return {key: text(item, (base, key)) for key, item in mapping(value, path).items()}


def tag_list(value: object, path: Where) -> dict[str, str]:
    """CloudFormation tags: a list of ``{Key, Value}``."""
    out: dict[str, str] = {}
    for index, item in enumerate(sequence(value, path)):
        at = f"{where(path)}[{index}]"
        entry = mapping(item, at)
        check_keys(entry, ("Key", "Value"), at)
        if "Key" not in entry or "Value" not in entry:
            raise TemplateError(at, "a tag needs Key and Value")
        out[text(entry["Key"], (at, "Key"))] = text(entry["Value"], (at, "Value"))
    return out
