"""Loading a template: text to a checked, compiled :class:`Template`.

:func:`load_template` raises every error that does not depend on parameter values or on the
account (syntax, sections, resource types and properties, references, cycles); :func:`resolve`
raises the rest. A ``Template`` is immutable and may be resolved for any number of accounts.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from silo.templates import _checks
from silo.templates._parameters import ParameterSpec, parse_parameters
from silo.templates._parse import parse
from silo.templates._plan import Plan, build_plan
from silo.templates.model import TemplateError

FORMAT_VERSION = "2010-09-09"
SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
SECTIONS = (
    "AWSTemplateFormatVersion",
    "Transform",
    "Description",
    "Metadata",
    "Parameters",
    "Mappings",
    "Conditions",
    "Globals",
    "Resources",
    "Outputs",
)
_UNSUPPORTED_SECTIONS = ("Rules",)
MAX_DESCRIPTION_BYTES = 1024


@dataclass(frozen=True, slots=True)
class Template:
    """A loaded template. ``document`` is the parsed text with short-form tags in long form;
    ``sha256`` is the hash of its canonical JSON (sorted keys, no spaces), the same for a YAML and a
    JSON spelling of one template."""

    document: dict[str, Any]
    format_version: str | None
    transform: str | None
    description: str
    parameters: dict[str, ParameterSpec]
    sha256: str
    plan: Plan = field(repr=False, compare=False)
    """Internal: the compiled, account-independent part of resolution."""

    @property
    def no_echo(self) -> frozenset[str]:
        """The parameters declared ``NoEcho``: their values are masked wherever they are shown."""
        return frozenset(name for name, spec in self.parameters.items() if spec.no_echo)


def load_template(text: str | bytes, *, source: str = "template") -> Template:
    """Parse and check a template (YAML or JSON), and compile it for :func:`resolve`.

    Args:
        text: the template text; JSON when its first non-space character is ``{``.
        source: what to call the text in syntax errors (e.g. a file name).

    Raises:
        TemplateError: naming the path of the first problem, e.g. ``Resources.Fn.Properties.Timeout``.
    """
    document = parse(text, source)
    if not isinstance(document, dict):
        raise TemplateError(source, f"expected a mapping of sections, got {type(document).__name__}")
    for section in document:
        if section in _UNSUPPORTED_SECTIONS:
            raise TemplateError(section, "is not supported in Silo")
        if section not in SECTIONS:
            raise TemplateError(
                section,
                f"unknown section{_checks.suggest(section, SECTIONS)} (allowed: {', '.join(SECTIONS)})",
            )
    version = document.get("AWSTemplateFormatVersion")
    if version is not None and version != FORMAT_VERSION:
        raise TemplateError(
            "AWSTemplateFormatVersion", f"expected {FORMAT_VERSION!r}, got {_checks.show(version)}"
        )
    transform = _transform(document.get("Transform"))
    description = _checks.text(document.get("Description", ""), "Description")
    if len(description.encode()) > MAX_DESCRIPTION_BYTES:
        raise TemplateError("Description", f"at most {MAX_DESCRIPTION_BYTES} bytes")
    _checks.mapping(document.get("Metadata", {}), "Metadata")
    parameters = parse_parameters(document.get("Parameters", {}))
    plan = build_plan(document, parameters, sam=transform is not None)
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return Template(
        document=document,
        format_version=version,
        transform=transform,
        description=description,
        parameters=parameters,
        sha256=hashlib.sha256(canonical.encode()).hexdigest(),
        plan=plan,
    )


def _transform(value: object) -> str | None:
    if value is None:
        return None
    names = value if isinstance(value, list) else [value]
    for index, name in enumerate(names):
        if name != SAM_TRANSFORM:
            where = "Transform" if value is not names else f"Transform[{index}]"
            raise TemplateError(
                where, f"{_checks.show(name)} is not supported in Silo (supported: {SAM_TRANSFORM})"
            )
    return SAM_TRANSFORM if names else None
