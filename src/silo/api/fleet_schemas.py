"""Request bodies and views of the fleet endpoints: stack sets, instances, operations, events.

Targets name accounts explicitly, by OU (the whole subtree) and/or by tags; ``waves`` are ordered
target selections (a canary first). Preferences take the keys of ``Preferences.to_dict()``; their
values are checked by ``Preferences.from_dict`` (one rule, one place) and reported under
``preferences.``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from silo.api.schemas import RequestBody, Text
from silo.api.stack_schemas import CodeBundle, Parameters, decode_code
from silo.api.views import View
from silo.errors import ValidationError
from silo.fleet import (
    InstanceStatus,
    Operation,
    OperationAction,
    OperationStatus,
    Preferences,
    StackSet,
    Targets,
    Wave,
)

MAX_WAVES = 50
MAX_TARGET_ACCOUNTS = 100_000

Description = Annotated[Text, Field(max_length=1024)]


class TargetsBody(RequestBody):
    accounts: list[Text] = Field(default_factory=list, max_length=MAX_TARGET_ACCOUNTS)
    ous: list[Text] = Field(default_factory=list, max_length=1000)
    tags: dict[Text, Text] = Field(
        default_factory=dict,
        max_length=50,
        description="Accounts carrying all of these tags (alone), or a filter on accounts/OUs.",
    )

    @model_validator(mode="after")
    def _names_something(self) -> TargetsBody:
        if not (self.accounts or self.ous or self.tags):
            raise ValueError("name accounts, ous or tags")
        return self

    def targets(self) -> Targets:
        return Targets(accounts=tuple(self.accounts), ous=tuple(self.ous), tags=dict(self.tags))


class WaveBody(RequestBody):
    targets: TargetsBody
    name: Annotated[Text, Field(max_length=128)] = ""
    soak_seconds: float = Field(default=0.0, ge=0, le=86400, description="Wait after the wave finishes.")
    halt_on_failure: bool = Field(default=True, description="A failure in this wave stops the rollout.")

    def wave(self) -> Wave:
        return Wave(self.targets.targets(), self.name, self.soak_seconds, self.halt_on_failure)


class PreferencesBody(RequestBody):
    max_concurrent: int | Text | None = Field(
        default=None, description="A count (10) or a percentage ('25%')."
    )
    failure_tolerance: int | Text | None = Field(default=None, description="A count or a percentage.")
    concurrency_mode: Literal["strict", "soft"] | None = None
    max_attempts: int | None = Field(default=None, description="Attempts per account (1..20).")
    retry_base_seconds: float | None = None
    retry_max_seconds: float | None = None

    def preferences(self) -> Preferences:
        try:
            return Preferences.from_dict(self.model_dump(exclude_none=True))
        except ValidationError as exc:
            where = f"preferences.{exc.details.get('field', '')}".rstrip(".")
            raise ValidationError(f"preferences.{exc.message}", field=where) from None


def _preferences(body: PreferencesBody | None) -> Preferences | None:
    return body.preferences() if body is not None else None


def _waves(waves: list[WaveBody]) -> list[Wave]:
    return [w.wave() for w in waves]


class StackSetCreate(RequestBody):
    name: Text
    template: Text = Field(description="The template text: CloudFormation/SAM, YAML or JSON.")
    parameters: Parameters = Field(default_factory=dict)
    code: CodeBundle = Field(default_factory=dict)
    description: Description = ""
    auto_deployment: bool = Field(default=False, description="Deploy to accounts that join a targeted OU.")
    retain_stacks_on_removal: bool = Field(
        default=False, description="With auto_deployment: keep the stack when an account leaves."
    )

    def archives(self) -> dict[str, bytes]:
        return decode_code(self.code)


class StackSetUpdate(RequestBody):
    template: Text | None = Field(default=None, description="A new template (default: the current one).")
    parameters: Parameters | None = Field(default=None, description="Merged into the current parameters.")
    code: CodeBundle = Field(default_factory=dict)
    description: Description | None = None
    preferences: PreferencesBody | None = None
    waves: list[WaveBody] = Field(default_factory=list, max_length=MAX_WAVES)

    def archives(self) -> dict[str, bytes]:
        return decode_code(self.code)

    def options(self) -> dict[str, Any]:
        return {"preferences": _preferences(self.preferences), "waves": _waves(self.waves)}


class InstancesCreate(RequestBody):
    targets: TargetsBody | None = None
    waves: list[WaveBody] = Field(default_factory=list, max_length=MAX_WAVES)
    overrides: Parameters | None = Field(default=None, description="Parameter values for these accounts.")
    preferences: PreferencesBody | None = None

    def options(self) -> dict[str, Any]:
        return {
            "waves": _waves(self.waves),
            "overrides": self.overrides,
            "preferences": _preferences(self.preferences),
        }


class InstancesUpdate(RequestBody):
    targets: TargetsBody
    overrides: Parameters
    preferences: PreferencesBody | None = None


class InstancesDelete(RequestBody):
    targets: TargetsBody
    retain_stacks: bool = Field(default=False, description="Keep the stacks in the accounts, unmanaged.")
    preferences: PreferencesBody | None = None


# --- views -------------------------------------------------------------------------------------
class AutoDeploymentView(View):
    enabled: bool
    retain_stacks_on_removal: bool
    ous: list[str]


class StackSetView(View):
    name: str
    description: str
    version: int
    template_sha256: str
    parameters: dict[str, Any]
    auto_deployment: AutoDeploymentView
    status: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, stack_set: StackSet) -> StackSetView:
        return cls.model_validate(stack_set)


class StackSetList(BaseModel):
    items: list[StackSetView]


class InstanceView(View):
    stack_set: str
    account_id: str
    status: InstanceStatus
    status_reason: str
    version: int
    overrides: dict[str, Any]
    operation_id: str | None
    updated_at: datetime


class InstancePage(View):
    items: list[InstanceView]
    next_token: str | None


class PreferencesView(BaseModel):
    max_concurrent: str
    failure_tolerance: str
    concurrency_mode: str
    max_attempts: int
    retry_base_seconds: float
    retry_max_seconds: float


class OperationView(BaseModel):
    operation_id: str
    stack_set: str
    action: OperationAction
    status: OperationStatus
    status_reason: str
    version: int
    preferences: PreferencesView
    waves: int
    current_wave: int
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None

    @classmethod
    def of(cls, op: Operation) -> OperationView:
        return cls(
            operation_id=op.operation_id,
            stack_set=op.stack_set,
            action=op.action,
            status=op.status,
            status_reason=op.status_reason,
            version=op.version,
            preferences=PreferencesView.model_validate(op.preferences.to_dict()),
            waves=op.waves,
            current_wave=op.current_wave,
            created_at=op.created_at,
            started_at=op.started_at,
            ended_at=op.ended_at,
        )


class OperationPage(BaseModel):
    items: list[OperationView]
    next_token: str | None


class WaveProgressView(BaseModel):
    wave: int
    name: str
    total: int
    succeeded: int
    failed: int
    running: int
    pending: int
    cancelled: int


class ProgressView(BaseModel):
    """``Progress.to_dict()``: the operation, its counts overall and per wave, rate and ETA."""

    operation_id: str
    stack_set: str
    action: OperationAction
    status: OperationStatus
    status_reason: str
    version: int
    current_wave: int
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    total: int
    succeeded: int
    failed: int
    running: int
    pending: int
    cancelled: int
    rate_per_s: float
    eta_s: float | None
    waves: list[WaveProgressView]


class ManagementEventView(BaseModel):
    event_id: str
    at: datetime
    source: str
    detail_type: str
    detail: dict[str, Any]


class ManagementEventList(BaseModel):
    items: list[ManagementEventView]
