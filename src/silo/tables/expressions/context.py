"""The placeholders of one request (``ExpressionAttributeNames`` / ``ExpressionAttributeValues``),
shared by all its expressions, and which of them the expressions used.

DynamoDB refuses a request that defines a placeholder none of its expressions uses:
:meth:`ExpressionContext.unused` says which, :meth:`ExpressionContext.check_unused` refuses them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from silo.tables.errors import ValidationException
from silo.tables.expressions._tokens import expression_error
from silo.tables.values import TypedValue, check_typed

_NAME_KEY = re.compile(r"#[A-Za-z0-9_]+\Z")
_VALUE_KEY = re.compile(r":[A-Za-z0-9_]+\Z")


class ExpressionContext:
    """``names`` (``{"#n": "attribute"}``) and ``values`` (``{":v": typed value}``) of one request;
    None when the request has none. Values are checked and normalised here."""

    __slots__ = ("_names", "_used_names", "_used_values", "_values")

    def __init__(
        self, names: Mapping[str, str] | None = None, values: Mapping[str, Any] | None = None
    ) -> None:
        self._names = _check_names(names)
        self._values = _check_values(values)
        self._used_names: set[str] = set()
        self._used_values: set[str] = set()

    @property
    def names(self) -> Mapping[str, str]:
        return self._names

    @property
    def values(self) -> Mapping[str, TypedValue]:
        return self._values

    def name(self, placeholder: str, kind: str, position: int | None = None) -> str:
        """The attribute name ``#placeholder`` stands for; marks it used."""
        try:
            name = self._names[placeholder]
        except KeyError:
            raise expression_error(
                kind,
                "An expression attribute name used in the document path is not defined; "
                f"attribute name: {placeholder}",
                position,
            ) from None
        self._used_names.add(placeholder)
        return name

    def value(self, placeholder: str, kind: str, position: int | None = None) -> TypedValue:
        """The typed value ``:placeholder`` stands for; marks it used."""
        try:
            value = self._values[placeholder]
        except KeyError:
            raise expression_error(
                kind,
                "An expression attribute value used in expression is not defined; "
                f"attribute value: {placeholder}",
                position,
            ) from None
        self._used_values.add(placeholder)
        return value

    def unused(self) -> tuple[list[str], list[str]]:
        """(names, values) placeholders that no expression parsed with this context used."""
        return (
            [key for key in self._names if key not in self._used_names],
            [key for key in self._values if key not in self._used_values],
        )

    def check_unused(self) -> None:
        """Refuse unused placeholders as DynamoDB does (names first)."""
        names, values = self.unused()
        for label, keys in (("ExpressionAttributeNames", names), ("ExpressionAttributeValues", values)):
            if keys:
                raise ValidationException(
                    f"Value provided in {label} unused in expressions: keys: {{{', '.join(keys)}}}",
                    field=label,
                    keys=keys,
                )


def _check_names(names: Mapping[str, str] | None) -> dict[str, str]:
    if names is None:
        return {}
    if not isinstance(names, Mapping):
        raise ValidationException(
            "ExpressionAttributeNames must be an object", field="ExpressionAttributeNames"
        )
    if not names:
        raise ValidationException(
            "ExpressionAttributeNames must not be empty", field="ExpressionAttributeNames"
        )
    for key, name in names.items():
        if not isinstance(key, str) or not _NAME_KEY.match(key):
            raise ValidationException(
                f'ExpressionAttributeNames contains invalid key: Syntax error; key: "{key}"',
                field="ExpressionAttributeNames",
            )
        if not isinstance(name, str) or not name:
            raise ValidationException(
                f"ExpressionAttributeNames contains invalid value: Empty attribute name for key {key}",
                field="ExpressionAttributeNames",
            )
    return dict(names)


def _check_values(values: Mapping[str, Any] | None) -> dict[str, TypedValue]:
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise ValidationException(
            "ExpressionAttributeValues must be an object", field="ExpressionAttributeValues"
        )
    if not values:
        raise ValidationException(
            "ExpressionAttributeValues must not be empty", field="ExpressionAttributeValues"
        )
    checked: dict[str, TypedValue] = {}
    for key, value in values.items():
        if not isinstance(key, str) or not _VALUE_KEY.match(key):
            raise ValidationException(
                f'ExpressionAttributeValues contains invalid key: Syntax error; key: "{key}"',
                field="ExpressionAttributeValues",
            )
        try:
            checked[key] = check_typed(value, f"ExpressionAttributeValues.{key}")
        except ValidationException as problem:
            reason = problem.details.get("reason", problem.message)
            raise ValidationException(
                f"ExpressionAttributeValues contains invalid value: {reason} for key {key}",
                field="ExpressionAttributeValues",
                key=key,
            ) from None
    return checked
