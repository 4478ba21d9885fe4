"""Declared parameters (the ``Parameters`` section) and the values a stack gives them.

Values follow CloudFormation: a ``Number`` is checked as a number but stays a string, list types
are lists of strings, and a ``NoEcho`` value never appears in an error message.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from silo.templates._checks import check_keys, join, mapping, show, suggest
from silo.templates.model import TemplateError

TYPES = ("String", "Number", "List<Number>", "CommaDelimitedList")
MAX_PARAMETERS = 200
_NUMBER = re.compile(r"[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?")
_NAME = re.compile(r"[A-Za-z0-9]{1,255}")
_KEYS = (
    "Type",
    "Default",
    "AllowedValues",
    "AllowedPattern",
    "MinValue",
    "MaxValue",
    "MinLength",
    "MaxLength",
    "NoEcho",
    "Description",
    "ConstraintDescription",
)
_PLACEHOLDERS = ("placeholder", "a", "0", "A", "a-0")

ParameterValue = str | list[str]


@dataclass(frozen=True, slots=True)
class ParameterSpec:
    """One declared parameter. ``default`` is the text CloudFormation keeps (lists comma-joined)."""

    name: str
    type: str
    default: str | None = None
    allowed_values: tuple[str, ...] | None = None
    allowed_pattern: str | None = None
    min_value: float | None = None
    max_value: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    no_echo: bool = False
    description: str = ""
    constraint_description: str = ""
    _pattern: re.Pattern[str] | None = field(default=None, repr=False, compare=False)
    _default_value: ParameterValue | None = field(default=None, repr=False, compare=False)

    @property
    def required(self) -> bool:
        return self.default is None

    @property
    def is_list(self) -> bool:
        return self.type in ("List<Number>", "CommaDelimitedList")

    def check(self, raw: object) -> ParameterValue:
        """The value for ``raw`` (a string, or a list for list types), or a TemplateError."""
        path = f"Parameters.{self.name}"
        if self.is_list:
            if isinstance(raw, str):
                items = [item.strip() for item in raw.split(",")] if raw else []
            elif isinstance(raw, list | tuple):
                items = [self._scalar(item, path) for item in raw]
            else:
                raise TemplateError(
                    path, f"expected a comma-delimited string or a list, got {self._show(raw)}"
                )
            for item in items:
                self._check_one(item, path)
            return items
        value = self._scalar(raw, path)
        self._check_one(value, path)
        return value

    def _scalar(self, raw: object, path: str) -> str:
        if isinstance(raw, str):
            return raw
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return str(raw)
        raise TemplateError(path, f"expected a string, got {type(raw).__name__}")

    def _show(self, value: object) -> str:
        return "(hidden: NoEcho)" if self.no_echo else show(value)

    def _fail(self, path: str, problem: str) -> TemplateError:
        extra = f" ({self.constraint_description})" if self.constraint_description else ""
        return TemplateError(path, problem + extra)

    def _check_one(self, value: str, path: str) -> None:
        if self.type in ("Number", "List<Number>"):
            if not _NUMBER.fullmatch(value.strip()):
                raise self._fail(path, f"{self._show(value)} is not a number")
            number = float(value)
            if self.min_value is not None and number < self.min_value:
                raise self._fail(path, f"{self._show(value)} is less than MinValue {self.min_value:g}")
            if self.max_value is not None and number > self.max_value:
                raise self._fail(path, f"{self._show(value)} is greater than MaxValue {self.max_value:g}")
        if self.min_length is not None and len(value) < self.min_length:
            raise self._fail(path, f"{self._show(value)} is shorter than MinLength {self.min_length}")
        if self.max_length is not None and len(value) > self.max_length:
            raise self._fail(path, f"{self._show(value)} is longer than MaxLength {self.max_length}")
        if self._pattern is not None and not self._pattern.fullmatch(value):
            raise self._fail(
                path, f"{self._show(value)} does not match AllowedPattern {self.allowed_pattern!r}"
            )
        if self.allowed_values is not None and value not in self.allowed_values:
            raise self._fail(
                path, f"{self._show(value)} is not one of AllowedValues {', '.join(self.allowed_values)}"
            )


def parse_parameters(section: object) -> dict[str, ParameterSpec]:
    """Parse the ``Parameters`` section; defaults are checked against their own constraints."""
    specs: dict[str, ParameterSpec] = {}
    declared = mapping(section, "Parameters")
    if len(declared) > MAX_PARAMETERS:
        raise TemplateError("Parameters", f"at most {MAX_PARAMETERS} parameters, got {len(declared)}")
    for name, body in declared.items():
        path = join("Parameters", name)
        if not _NAME.fullmatch(name):
            raise TemplateError(path, "parameter names are 1-255 letters and digits")
        spec = _parse_spec(name, mapping(body, path), path)
        if spec.default is not None:
            spec = replace(spec, _default_value=spec.check(spec.default))
        specs[name] = spec
    return specs


def _parse_spec(name: str, body: dict[str, Any], path: str) -> ParameterSpec:
    check_keys(body, _KEYS, path)
    kind = body.get("Type")
    if not isinstance(kind, str):
        raise TemplateError(join(path, "Type"), f"required, one of {', '.join(TYPES)}")
    if kind not in TYPES:
        reason = "is not supported in Silo" if kind.startswith("AWS::") else "is not a parameter type"
        raise TemplateError(
            join(path, "Type"), f"{kind} {reason}{suggest(kind, TYPES)} (supported: {', '.join(TYPES)})"
        )
    default = body.get("Default")
    if isinstance(default, list):
        default = ",".join(str(item) for item in default)
    elif default is not None and not isinstance(default, str):
        if isinstance(default, bool) or not isinstance(default, int | float):
            raise TemplateError(join(path, "Default"), f"expected a string, got {show(default)}")
        default = str(default)
    allowed = body.get("AllowedValues")
    if allowed is not None:
        if not isinstance(allowed, list) or not allowed:
            raise TemplateError(join(path, "AllowedValues"), "expected a non-empty list")
        allowed = tuple("true" if v is True else "false" if v is False else str(v) for v in allowed)
    pattern = body.get("AllowedPattern")
    compiled = None
    if pattern is not None:
        if not isinstance(pattern, str):
            raise TemplateError(join(path, "AllowedPattern"), f"expected a string, got {show(pattern)}")
        try:
            with warnings.catch_warnings():
                # A FutureWarning about sets like "[[" would reach whoever loads the template.
                warnings.simplefilter("ignore")
                compiled = re.compile(pattern)
        except re.error as exc:
            raise TemplateError(join(path, "AllowedPattern"), f"not a valid pattern: {exc}") from None
    return ParameterSpec(
        name=name,
        type=kind,
        default=default,
        allowed_values=allowed,
        allowed_pattern=pattern,
        min_value=_number(body, "MinValue", path),
        max_value=_number(body, "MaxValue", path),
        min_length=_length(body, "MinLength", path),
        max_length=_length(body, "MaxLength", path),
        no_echo=str(body.get("NoEcho", False)).lower() == "true",
        description=str(body.get("Description", "")),
        constraint_description=str(body.get("ConstraintDescription", "")),
        _pattern=compiled,
    )


def _number(body: Mapping[str, Any], key: str, path: str) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not _NUMBER.fullmatch(str(value).strip()):
        raise TemplateError(join(path, key), f"expected a number, got {show(value)}")
    return float(value)


def _length(body: Mapping[str, Any], key: str, path: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not str(value).isdigit():
        raise TemplateError(join(path, key), f"expected a non-negative integer, got {show(value)}")
    return int(value)


def parameter_values(
    specs: Mapping[str, ParameterSpec], given: Mapping[str, object]
) -> dict[str, ParameterValue]:
    """Check ``given`` against ``specs`` and fill in defaults."""
    for name in given:
        if name not in specs:
            raise TemplateError(f"Parameters.{name}", f"not declared by the template{suggest(name, specs)}")
    values: dict[str, ParameterValue] = {}
    for name, spec in specs.items():
        raw = given.get(name)
        if raw is not None:
            values[name] = spec.check(raw)
        elif spec._default_value is not None:
            default = spec._default_value
            values[name] = list(default) if isinstance(default, list) else default
        else:
            raise TemplateError(f"Parameters.{name}", "required: no value given and no Default")
    return values


def placeholder(spec: ParameterSpec) -> str | None:
    """A value that satisfies ``spec``'s constraints, for validating without real values."""
    if spec.allowed_values:
        return spec.allowed_values[0]
    if spec.type in ("Number", "List<Number>"):
        candidates = [spec.min_value, spec.max_value, 0.0]
        values = [f"{c:g}" for c in candidates if c is not None]
    else:
        low, high = spec.min_length or 0, spec.max_length
        values = [(word + word[-1] * low)[: max(low, len(word))][:high] for word in _PLACEHOLDERS]
    for value in values:
        try:
            spec.check(value)
        except TemplateError:
            continue
        return value
    return None
