"""Request bodies and views of the template and stack endpoints (``/v1/account/...``).

Code travels with a template as ``{"code": {CodeUri path: base64 of a zip}}``, one entry per
directory the template's functions name (``silo.stacks.code_paths``); the CLI zips each directory
reproducibly. Template problems are the services' ``InvalidTemplate`` errors, naming the path.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from silo.api.schemas import RequestBody, Text
from silo.api.views import View
from silo.errors import ValidationError
from silo.stacks import ChangeSetStatus, Deployed, StackStatus
from silo.templates import ResolvedTemplate

MAX_PARAMETERS = 200
MAX_CODE_PATHS = 200

ParameterValue = Text | int | float | list[Text]
"""A parameter value: text (numbers are taken as their text) or, for list types, a list of text."""
Parameters = Annotated[dict[Text, ParameterValue], Field(max_length=MAX_PARAMETERS)]
CodeBundle = Annotated[
    dict[Text, str],
    Field(
        max_length=MAX_CODE_PATHS,
        description="CodeUri path (relative to the template) -> the directory's files as a zip, base64.",
    ),
]


def decode_code(code: Mapping[str, str]) -> dict[str, bytes]:
    """``{path: base64}`` -> ``{path: zip bytes}``; a bad entry is a 400 naming its path."""
    decoded: dict[str, bytes] = {}
    for path, text in code.items():
        try:
            decoded[path] = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError(f"code.{path}: not valid base64", field=f"code.{path}") from None
    return decoded


class TemplateBody(RequestBody):
    template: Text = Field(description="The template text: CloudFormation/SAM, YAML or JSON.")
    parameters: Parameters = Field(default_factory=dict)


class TemplateValidate(TemplateBody):
    stack_name: Text = Field(default="validate", description="The stack name to resolve physical names for.")


class StackDeploy(TemplateBody):
    code: CodeBundle = Field(default_factory=dict)

    def archives(self) -> dict[str, bytes]:
        return decode_code(self.code)


class ChangeSetCreate(StackDeploy):
    name: Text = Field(description="The change set's name: letters, digits and '-', starting with a letter.")


# --- views -------------------------------------------------------------------------------------
class ResolvedResourceView(BaseModel):
    logical_id: str
    type: str
    kind: str
    physical_name: str
    arn: str
    runnable: bool
    depends_on: list[str]
    generated_by: str | None


class OutputView(BaseModel):
    value: Any
    description: str
    export_name: str | None


class TemplateSummary(BaseModel):
    """What a template resolves to in the caller's account (nothing is deployed); ``NoEcho``
    parameter values are masked (``****``)."""

    description: str
    parameters: dict[str, Any]
    resources: list[ResolvedResourceView]
    outputs: dict[str, OutputView]
    not_runnable: list[str]
    code_paths: list[str]

    @classmethod
    def of(cls, resolved: ResolvedTemplate, code_paths: set[str]) -> TemplateSummary:
        return cls(
            description=resolved.description,
            parameters=resolved.shown_parameters(),
            resources=[
                ResolvedResourceView(
                    logical_id=r.logical_id,
                    type=r.type,
                    kind=r.kind,
                    physical_name=r.physical_name,
                    arn=r.arn,
                    runnable=r.runnable,
                    depends_on=list(r.depends_on),
                    generated_by=r.generated_by,
                )
                for r in resolved.resources.values()
            ],
            outputs={
                o.name: OutputView(value=o.value, description=o.description, export_name=o.export_name)
                for o in resolved.outputs.values()
            },
            not_runnable=list(resolved.not_runnable),
            code_paths=sorted(code_paths),
        )


class StackView(View):
    name: str
    stack_id: str
    status: StackStatus
    status_reason: str
    template_sha256: str
    parameters: dict[str, Any]
    outputs: dict[str, Any]
    description: str
    stack_set: str | None
    operation_id: str | None
    created_at: datetime
    updated_at: datetime


class StackPage(View):
    items: list[StackView]
    next_token: str | None


class ChangeView(View):
    action: str
    logical_id: str
    type: str
    kind: str
    physical_name: str
    replacement: bool
    properties: list[str]


class DeployedView(BaseModel):
    stack: StackView | None
    changes: list[ChangeView]

    @classmethod
    def of(cls, deployed: Deployed) -> DeployedView:
        stack = StackView.model_validate(deployed.stack) if deployed.stack is not None else None
        return cls(stack=stack, changes=[ChangeView.model_validate(c) for c in deployed.changes])


class ChangeSetView(View):
    name: str
    stack_name: str
    status: ChangeSetStatus
    changes: list[ChangeView]
    parameters: dict[str, Any]
    template_sha256: str
    created_at: datetime
    executed_at: datetime | None
    not_runnable: list[str]


class ChangeSetList(BaseModel):
    items: list[ChangeSetView]


class StackResourceView(View):
    logical_id: str
    type: str
    kind: str
    physical_name: str
    arn: str
    status: str
    runnable: bool
    updated_at: datetime


class StackResourceList(BaseModel):
    items: list[StackResourceView]


class StackEventView(View):
    event_id: str
    at: datetime
    logical_id: str
    resource_type: str
    status: str
    reason: str


class StackEventPage(View):
    items: list[StackEventView]
    next_token: str | None


class TemplateText(BaseModel):
    template: str


class DriftView(View):
    logical_id: str
    physical_name: str
    status: str
    properties: list[str]


class DriftList(BaseModel):
    drifted: bool
    items: list[DriftView]
