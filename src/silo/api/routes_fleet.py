"""``/v1/mgmt/stack-sets`` and ``/v1/mgmt/fleet``: fleet rollout, on the management plane only.

Every call that changes instances (and an update of the stack set) queues an operation and answers
202 with it; the fleet worker deploys it. Follow it with ``GET .../operations/{id}/progress``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Response

from silo.api.auth import Management
from silo.api.fleet_schemas import (
    InstancePage,
    InstancesCreate,
    InstancesDelete,
    InstancesUpdate,
    ManagementEventList,
    ManagementEventView,
    OperationPage,
    OperationView,
    ProgressView,
    StackSetCreate,
    StackSetList,
    StackSetUpdate,
    StackSetView,
)
from silo.api.params import PageParams
from silo.api.schemas import Empty, Text
from silo.api.views import ERROR_RESPONSES
from silo.fleet import OperationStatus
from silo.store.pages import MAX_LIMIT

router = APIRouter(prefix="/v1/mgmt", tags=["fleet"], responses=ERROR_RESPONSES)


@router.get("/stack-sets")
def list_stack_sets(mgmt: Management) -> StackSetList:
    return StackSetList(items=[StackSetView.of(s) for s in mgmt.fleet.list_stack_sets()])


@router.post("/stack-sets", status_code=201)
def create_stack_set(body: StackSetCreate, mgmt: Management) -> StackSetView:
    """A template, its parameters and code, checked now; instances are added separately."""
    made = mgmt.fleet.create_stack_set(
        body.name,
        body.template,
        parameters=body.parameters,
        code=body.archives(),
        description=body.description,
        auto_deployment=body.auto_deployment,
        retain_stacks_on_removal=body.retain_stacks_on_removal,
    )
    return StackSetView.of(made)


@router.get("/stack-sets/{name}")
def get_stack_set(name: str, mgmt: Management) -> StackSetView:
    return StackSetView.of(mgmt.fleet.get_stack_set(name))


@router.patch("/stack-sets/{name}", status_code=202)
def update_stack_set(name: str, body: StackSetUpdate, mgmt: Management) -> OperationView:
    """A new version (template, parameters, code), rolled out to every instance."""
    operation = mgmt.fleet.update_stack_set(
        name,
        body=body.template,
        parameters=body.parameters,
        code=body.archives(),
        description=body.description,
        **body.options(),
    )
    return OperationView.of(operation)


@router.delete("/stack-sets/{name}", status_code=204, response_class=Response)
def delete_stack_set(name: str, mgmt: Management) -> Response:
    """Delete a stack set that has no instances left."""
    mgmt.fleet.delete_stack_set(name)
    return Response(status_code=204)


@router.get("/stack-sets/{name}/instances")
def list_instances(name: str, mgmt: Management, page: PageParams) -> InstancePage:
    return InstancePage.model_validate(
        mgmt.fleet.list_instances(name, limit=page.limit, next_token=page.next_token)
    )


@router.post("/stack-sets/{name}/instances", status_code=202)
def create_instances(name: str, body: InstancesCreate, mgmt: Management) -> OperationView:
    """Deploy the stack set to the accounts ``targets`` selects, or to ``waves`` in order."""
    targets = body.targets.targets() if body.targets is not None else None
    return OperationView.of(mgmt.fleet.create_instances(name, targets, **body.options()))


@router.patch("/stack-sets/{name}/instances", status_code=202)
def update_instances(name: str, body: InstancesUpdate, mgmt: Management) -> OperationView:
    """Change the parameter overrides of some instances and redeploy them."""
    preferences = body.preferences.preferences() if body.preferences is not None else None
    operation = mgmt.fleet.update_instances(
        name, body.targets.targets(), overrides=body.overrides, preferences=preferences
    )
    return OperationView.of(operation)


@router.post("/stack-sets/{name}/instances/delete", status_code=202)
def delete_instances(name: str, body: InstancesDelete, mgmt: Management) -> OperationView:
    """Remove the stack from the selected instances (``retain_stacks``: leave it, unmanaged)."""
    preferences = body.preferences.preferences() if body.preferences is not None else None
    operation = mgmt.fleet.delete_instances(
        name, body.targets.targets(), retain_stacks=body.retain_stacks, preferences=preferences
    )
    return OperationView.of(operation)


@router.get("/fleet/operations")
def list_operations(
    mgmt: Management,
    page: PageParams,
    stack_set: Annotated[Text | None, Query(max_length=128, description="Only this stack set's.")] = None,
    status: Annotated[
        list[OperationStatus] | None,
        Query(description="Only operations with this status; repeat for any of several."),
    ] = None,
) -> OperationPage:
    """Operations, newest first, a page at a time (``next_token``)."""
    found = mgmt.fleet.list_operations(stack_set, status=status, limit=page.limit, next_token=page.next_token)
    return OperationPage(items=[OperationView.of(op) for op in found.items], next_token=found.next_token)


@router.get("/fleet/operations/{operation_id}")
def get_operation(operation_id: str, mgmt: Management) -> OperationView:
    return OperationView.of(mgmt.fleet.get_operation(operation_id))


@router.get("/fleet/operations/{operation_id}/progress")
def operation_progress(operation_id: str, mgmt: Management) -> ProgressView:
    """Succeeded/failed/running/pending per wave, rate and ETA (what ``silo fleet status`` shows)."""
    return ProgressView.model_validate(mgmt.fleet.progress(operation_id).to_dict())


@router.post("/fleet/operations/{operation_id}/stop")
def stop_operation(
    operation_id: str, mgmt: Management, body: Annotated[Empty | None, Body()] = None
) -> OperationView:
    """Stop an operation: the accounts it has not deployed yet are cancelled."""
    return OperationView.of(mgmt.fleet.stop_operation(operation_id))


@router.get("/fleet/events")
def management_events(
    mgmt: Management, limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100
) -> ManagementEventList:
    """The management event bus's newest events (operation, instance and wave changes)."""
    return ManagementEventList(
        items=[ManagementEventView.model_validate(e) for e in mgmt.fleet.management_events(limit)]
    )
