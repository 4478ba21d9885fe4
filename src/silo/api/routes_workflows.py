"""``/v1/account/workflows``: the caller's state machines, their executions, and task callbacks.

As everywhere under ``/v1/account``, the account comes from the key. A state machine is named in the
path by its name or its ARN, an execution by its ARN (``arn:silo:states:local:ACCOUNT:execution:
MACHINE:NAME``, as ``start`` answers it); an ARN of another account is a 400, never a look-up there.
The task callbacks take the token in the body: it names the execution, which must be the caller's.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Response

from silo.api.auth import OwnAccount
from silo.api.params import PageParams
from silo.api.schemas import Empty
from silo.api.views import ERROR_RESPONSES
from silo.api.workflow_schemas import (
    ExecutionPage,
    ExecutionRedriven,
    ExecutionStart,
    ExecutionStop,
    ExecutionStopped,
    ExecutionView,
    HistoryPage,
    StateMachineCreate,
    StateMachinePage,
    StateMachineUpdate,
    StateMachineView,
    TaskFailure,
    TaskHeartbeat,
    TaskSuccess,
)

router = APIRouter(prefix="/v1/account/workflows", tags=["workflows"], responses=ERROR_RESPONSES)

Status = Annotated[
    str | None, Query(max_length=16, description="Only executions with this status (RUNNING, FAILED, ...).")
]
Reverse = Annotated[bool, Query(description="Newest event first.")]
NoBody = Annotated[Empty | None, Body()]
StopBody = Annotated[ExecutionStop | None, Body()]


# --- state machines -----------------------------------------------------------------------------
@router.get("/state-machines")
def list_state_machines(account: OwnAccount, page: PageParams) -> StateMachinePage:
    """The account's state machines, by name (without their definitions)."""
    listed = account.workflows.list_state_machines(limit=page.limit, next_token=page.next_token)
    return StateMachinePage.model_validate(listed)


@router.post("/state-machines", status_code=201)
def create_state_machine(body: StateMachineCreate, account: OwnAccount) -> StateMachineView:
    """CreateStateMachine; a definition that does not validate is a 400 naming its JSON path."""
    made = account.workflows.create_state_machine(body.name, body.definition, description=body.description)
    return StateMachineView.of(made)


@router.get("/state-machines/{name}")
def describe_state_machine(name: str, account: OwnAccount) -> StateMachineView:
    return StateMachineView.of(account.workflows.describe_state_machine(name))


@router.put("/state-machines/{name}")
def update_state_machine(name: str, body: StateMachineUpdate, account: OwnAccount) -> StateMachineView:
    """UpdateStateMachine: a new revision; running executions finish on the one they started with."""
    updated = account.workflows.update_state_machine(name, body.definition, description=body.description)
    return StateMachineView.of(updated)


@router.delete("/state-machines/{name}", status_code=204, response_class=Response)
def delete_state_machine(name: str, account: OwnAccount) -> Response:
    """Delete a state machine; executions still running finish on their revision."""
    account.workflows.delete_state_machine(name)
    return Response(status_code=204)


# --- executions ---------------------------------------------------------------------------------
@router.get("/state-machines/{name}/executions")
def list_executions(account: OwnAccount, page: PageParams, name: str, status: Status = None) -> ExecutionPage:
    """A state machine's executions, newest first."""
    listed = account.workflows.list_executions(
        name, status=status, limit=page.limit, next_token=page.next_token
    )
    return ExecutionPage.model_validate(listed)


@router.post("/state-machines/{name}/executions", status_code=201)
def start_execution(name: str, body: ExecutionStart, account: OwnAccount) -> ExecutionView:
    """StartExecution: durable when it answers (a workflow of Pass/Choice states may have finished)."""
    started = account.workflows.start_execution(name, body.input, name=body.name)
    return ExecutionView.model_validate(started)


@router.get("/executions/{execution_arn}")
def describe_execution(execution_arn: str, account: OwnAccount) -> ExecutionView:
    return ExecutionView.model_validate(account.workflows.describe_execution(execution_arn))


@router.get("/executions/{execution_arn}/history")
def execution_history(
    execution_arn: str, account: OwnAccount, page: PageParams, reverse: Reverse = False
) -> HistoryPage:
    """GetExecutionHistory: the execution's events, oldest first (``reverse``: newest first)."""
    listed = account.workflows.history(
        execution_arn, reverse=reverse, limit=page.limit, next_token=page.next_token
    )
    return HistoryPage.model_validate(listed)


@router.post("/executions/{execution_arn}/stop")
def stop_execution(execution_arn: str, account: OwnAccount, body: StopBody = None) -> ExecutionStopped:
    """StopExecution: a running execution becomes ABORTED; one that has ended is left as it is."""
    given = body or ExecutionStop()
    at = account.workflows.stop_execution(execution_arn, error=given.error, cause=given.cause)
    return ExecutionStopped(stopped_at=at)


@router.post("/executions/{execution_arn}/redrive")
def redrive_execution(execution_arn: str, account: OwnAccount, body: NoBody = None) -> ExecutionRedriven:
    """RedriveExecution: a FAILED, TIMED_OUT or ABORTED execution runs on from where it stopped."""
    return ExecutionRedriven(redriven_at=account.workflows.redrive_execution(execution_arn))


# --- task callbacks -----------------------------------------------------------------------------
@router.post("/send-task-success", status_code=204, response_class=Response)
def send_task_success(body: TaskSuccess, account: OwnAccount) -> Response:
    """SendTaskSuccess: the waiting task succeeds with ``output``."""
    account.workflows.send_task_success(body.task_token, body.output)
    return Response(status_code=204)


@router.post("/send-task-failure", status_code=204, response_class=Response)
def send_task_failure(body: TaskFailure, account: OwnAccount) -> Response:
    """SendTaskFailure: the waiting task fails with ``error`` (matched by Retry and Catch)."""
    account.workflows.send_task_failure(body.task_token, body.error, body.cause)
    return Response(status_code=204)


@router.post("/send-task-heartbeat", status_code=204, response_class=Response)
def send_task_heartbeat(body: TaskHeartbeat, account: OwnAccount) -> Response:
    """SendTaskHeartbeat: the task's HeartbeatSeconds start again."""
    account.workflows.send_task_heartbeat(body.task_token)
    return Response(status_code=204)
