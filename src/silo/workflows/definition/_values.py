"""Checks of single field values; each raises InvalidDefinition naming the field's JSON path."""

from __future__ import annotations

import re
from typing import Any

from silo.workflows import expressions, paths
from silo.workflows.definition._model import QueryLanguage
from silo.workflows.errors import InvalidDefinition

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def at(where: str, key: str | int) -> str:
    """The JSON path of ``key`` under ``where``: ``$.States.A``, ``$.States['a b']``, ``x[0]``."""
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if _PLAIN_KEY.fullmatch(key) else f"{where}[{key!r}]"


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def integer(body: dict[str, Any], key: str, where: str, low: int, high: int) -> None:
    """``body[key]`` (when present) is an integer in [low, high], or a JSONata expression."""
    if key not in body or expressions.is_expression(body[key]):
        return
    value = body[key]
    if not is_int(value) or not low <= value <= high:
        raise InvalidDefinition(at(where, key), f"must be an integer from {low} to {high}, got {value!r}")


def exclusive(body: dict[str, Any], where: str, *keys: str, required: bool = False) -> None:
    present = [key for key in keys if key in body]
    if len(present) > 1:
        raise InvalidDefinition(at(where, present[1]), f"cannot be used with {present[0]}")
    if required and not present:
        raise InvalidDefinition(where, f"needs exactly one of {', '.join(keys)}")


def path_field(body: dict[str, Any], key: str, where: str, *, reference: bool, nullable: bool) -> None:
    if key not in body:
        return
    value = body[key]
    if value is None and nullable:
        return
    try:
        paths.cached_path(value, reference)
    except ValueError as error:
        raise InvalidDefinition(at(where, key), str(error)) from None


def path_or_call(body: dict[str, Any], key: str, where: str) -> None:
    """A reference path or an intrinsic function call (Fail ``ErrorPath``/``CausePath``)."""
    if key not in body:
        return
    try:
        paths.check_template({f"{key}.$": body[key]}, where)
    except ValueError as error:
        raise InvalidDefinition(at(where, key), str(error).split(": ", 1)[1]) from None


def template(body: dict[str, Any], key: str, where: str, language: QueryLanguage) -> None:
    """A payload template (JSONPath ``.$`` keys) or a JSONata value (``{% %}`` strings)."""
    if key not in body:
        return
    try:
        if language is QueryLanguage.JSONATA:
            expressions.check_template(body[key], at(where, key))
        else:
            paths.check_template(body[key], at(where, key))
    except ValueError as error:
        path, _, reason = str(error).partition(": ")
        raise InvalidDefinition(path, reason) from None


def assign(body: dict[str, Any], where: str, language: QueryLanguage) -> None:
    if "Assign" not in body:
        return
    value = body["Assign"]
    if not isinstance(value, dict):
        raise InvalidDefinition(at(where, "Assign"), "must be an object")
    for name in value:
        bare = name.removesuffix(".$") if language is QueryLanguage.JSONPATH else name
        if VARIABLE_NAME.fullmatch(bare) is None or bare == "states":
            raise InvalidDefinition(at(at(where, "Assign"), name), "is not a valid variable name")
    template(body, "Assign", where, language)


def string_or_expression(body: dict[str, Any], key: str, where: str) -> None:
    if key in body and not isinstance(body[key], str):
        raise InvalidDefinition(at(where, key), "must be a string")
    if key in body and expressions.is_expression(body[key]):
        template(body, key, where, QueryLanguage.JSONATA)
