"""``/v1/account/templates`` and ``/v1/account/stacks``: the caller's own stacks and change sets.

As with functions, the account comes from the key: a stack name in the path only ever names a
stack of the caller's account.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Response

from silo.api.auth import OwnAccount
from silo.api.params import PageParams
from silo.api.schemas import Empty
from silo.api.stack_schemas import (
    ChangeSetCreate,
    ChangeSetList,
    ChangeSetView,
    DeployedView,
    DriftList,
    DriftView,
    StackDeploy,
    StackEventPage,
    StackPage,
    StackResourceList,
    StackResourceView,
    StackView,
    TemplateSummary,
    TemplateText,
    TemplateValidate,
)
from silo.api.views import ERROR_RESPONSES
from silo.stacks import code_paths

router = APIRouter(prefix="/v1/account", tags=["stacks"], responses=ERROR_RESPONSES)


@router.post("/templates/validate")
def validate_template(body: TemplateValidate, account: OwnAccount) -> TemplateSummary:
    """Resolve a template for this account without deploying it; a problem is a 400 naming its path."""
    resolved = account.stacks.validate(body.template, body.parameters, stack_name=body.stack_name)
    return TemplateSummary.of(resolved, code_paths(resolved))


@router.get("/stacks")
def list_stacks(account: OwnAccount, page: PageParams) -> StackPage:
    return StackPage.model_validate(account.stacks.list(limit=page.limit, next_token=page.next_token))


@router.put("/stacks/{name}")
def deploy_stack(name: str, body: StackDeploy, account: OwnAccount) -> DeployedView:
    """Create or update a stack at once: every resource changes, or none (a failure is the error)."""
    deployed = account.stacks.deploy(name, body.template, parameters=body.parameters, code=body.archives())
    return DeployedView.of(deployed)


@router.get("/stacks/{name}")
def get_stack(name: str, account: OwnAccount) -> StackView:
    return StackView.model_validate(account.stacks.get(name))


@router.delete("/stacks/{name}", status_code=204, response_class=Response)
def delete_stack(name: str, account: OwnAccount) -> Response:
    """Delete a stack and every resource it manages (a stack set's stacks only from the stack set)."""
    account.stacks.delete(name)
    return Response(status_code=204)


@router.get("/stacks/{name}/resources")
def stack_resources(name: str, account: OwnAccount) -> StackResourceList:
    return StackResourceList(
        items=[StackResourceView.model_validate(r) for r in account.stacks.resources(name)]
    )


@router.get("/stacks/{name}/events")
def stack_events(name: str, account: OwnAccount, page: PageParams) -> StackEventPage:
    """The stack's events, newest first."""
    return StackEventPage.model_validate(
        account.stacks.events(name, limit=page.limit, next_token=page.next_token)
    )


@router.get("/stacks/{name}/template")
def stack_template(name: str, account: OwnAccount) -> TemplateText:
    """The template text the stack was last deployed from."""
    return TemplateText(template=account.stacks.template(name))


@router.get("/stacks/{name}/drift")
def stack_drift(name: str, account: OwnAccount) -> DriftList:
    """Resources changed or deleted outside the stack since it last wrote them."""
    drifts = [DriftView.model_validate(d) for d in account.stacks.detect_drift(name)]
    return DriftList(drifted=bool(drifts), items=drifts)


@router.get("/stacks/{name}/change-sets")
def list_change_sets(name: str, account: OwnAccount) -> ChangeSetList:
    return ChangeSetList(
        items=[ChangeSetView.model_validate(c) for c in account.stacks.list_change_sets(name)]
    )


@router.post("/stacks/{name}/change-sets", status_code=201)
def create_change_set(name: str, body: ChangeSetCreate, account: OwnAccount) -> ChangeSetView:
    """Plan a deploy (checked as a real one would be) without applying it."""
    made = account.stacks.create_change_set(
        name, body.name, body.template, parameters=body.parameters, code=body.archives()
    )
    return ChangeSetView.model_validate(made)


@router.get("/stacks/{name}/change-sets/{change_set}")
def describe_change_set(name: str, change_set: str, account: OwnAccount) -> ChangeSetView:
    return ChangeSetView.model_validate(account.stacks.describe_change_set(name, change_set))


@router.post("/stacks/{name}/change-sets/{change_set}/execute")
def execute_change_set(
    name: str, change_set: str, account: OwnAccount, body: Annotated[Empty | None, Body()] = None
) -> DeployedView:
    """Apply exactly what the change set previewed; 409 if the stack changed since it was made."""
    return DeployedView.of(account.stacks.execute_change_set(name, change_set))
