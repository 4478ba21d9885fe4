"""Request bodies and views of the workflow endpoints (``/v1/account/workflows``).

A definition is taken as the JSON object itself or as its JSON text, and checked by
``silo.workflows`` (``InvalidDefinition`` naming the JSON path of the problem, ``$.States.A.Next``),
not here. Execution input and task output are any JSON value, passed on as they are (the service
checks their size). Answers use Silo's own field names (``started_at``, ``state_machine_arn``...), with
definitions, inputs and outputs as JSON values rather than the JSON text Step Functions returns.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field, JsonValue

from silo.api.schemas import RequestBody, Text
from silo.api.views import View
from silo.workflows.models import StateMachineInfo


def _definition(value: Any) -> Any:
    if not isinstance(value, dict | str):
        raise ValueError("expected the state machine definition: a JSON object, or its JSON text")
    return value


Definition = Annotated[
    dict[str, JsonValue] | Text,
    BeforeValidator(_definition),
    Field(description="The Amazon States Language definition: the JSON object, or its JSON text."),
]
Description = Annotated[Text, Field(max_length=256, description="What it is for (up to 256 characters).")]
TaskToken = Annotated[
    Text, Field(max_length=1024, description="The token the task was given (`$$.Task.Token`).")
]
ErrorName = Annotated[Text, Field(max_length=256, description="An error name (up to 256 characters).")]
Cause = Annotated[Text, Field(max_length=32768, description="Why (up to 32768 characters).")]


class StateMachineCreate(RequestBody):
    """CreateStateMachine."""

    name: Text = Field(description="1-80 letters, digits, '-' or '_'.")
    definition: Definition
    description: Description = ""


class StateMachineUpdate(RequestBody):
    """UpdateStateMachine: a new revision, replacing the definition and the description."""

    definition: Definition
    description: Description = ""


class ExecutionStart(RequestBody):
    """StartExecution; with a name, the same name and input while it runs is the same execution."""

    input: JsonValue = Field(default_factory=dict, description="Any JSON value, up to 256 KB (default {}).")
    name: Text | None = Field(default=None, description="1-80 letters, digits, '-' or '_' (default a UUID).")


class ExecutionStop(RequestBody):
    error: ErrorName | None = None
    cause: Cause | None = None


class TaskSuccess(RequestBody):
    task_token: TaskToken
    output: JsonValue = Field(description="The task's result: any JSON value, up to 256 KB.")


class TaskFailure(RequestBody):
    task_token: TaskToken
    error: ErrorName = ""
    cause: Cause = ""


class TaskHeartbeat(RequestBody):
    task_token: TaskToken


# --- views -------------------------------------------------------------------------------------
class StateMachineSummary(View):
    name: str
    arn: str
    type: str
    revision: str = Field(description="Changes with every update; executions keep the one they started on.")
    description: str
    managed_by: str | None = Field(description="The stack that manages the state machine, or null.")
    created_at: datetime
    updated_at: datetime


class StateMachineView(StateMachineSummary):
    definition: JsonValue = Field(description="The definition, as a JSON object.")

    @classmethod
    def of(cls, info: StateMachineInfo) -> StateMachineView:
        summary = StateMachineSummary.model_validate(info).model_dump()
        return cls(**summary, definition=json.loads(info.definition))


class StateMachinePage(View):
    items: list[StateMachineSummary]
    next_token: str | None


class ExecutionView(View):
    arn: str
    name: str
    state_machine: str
    state_machine_arn: str
    status: str = Field(description="RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED.")
    input: JsonValue
    output: JsonValue = Field(description="The result of a SUCCEEDED execution, else null.")
    error: str | None
    cause: str | None
    started_at: datetime
    stopped_at: datetime | None
    redrive_count: int


class ExecutionPage(View):
    items: list[ExecutionView]
    next_token: str | None


class HistoryEventView(View):
    id: int = Field(description="Counts from 1 in the order the events happened.")
    previous_id: int
    type: str = Field(description="ExecutionStarted, TaskStateEntered, TaskScheduled, ...")
    timestamp: datetime
    details: dict[str, Any]


class HistoryPage(View):
    items: list[HistoryEventView]
    next_token: str | None


class ExecutionStopped(BaseModel):
    stopped_at: datetime = Field(description="When it stopped (earlier, if it had ended already).")


class ExecutionRedriven(BaseModel):
    redriven_at: datetime
