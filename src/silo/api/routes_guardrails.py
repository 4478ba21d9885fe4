"""``/v1/mgmt/guardrails``: deny policies, attached to the root, OUs and accounts."""

from __future__ import annotations

from fastapi import APIRouter, Response

from silo.api.auth import Management
from silo.api.schemas import GuardrailCreate, GuardrailUpdate, Target
from silo.api.views import ERROR_RESPONSES, EffectiveGuardrails, GuardrailList, GuardrailView

router = APIRouter(prefix="/v1/mgmt", tags=["guardrails"], responses=ERROR_RESPONSES)


@router.get("/guardrails")
def list_guardrails(mgmt: Management) -> GuardrailList:
    return GuardrailList(items=[GuardrailView.model_validate(g) for g in mgmt.list_guardrails()])


@router.post("/guardrails", status_code=201)
def create_guardrail(body: GuardrailCreate, mgmt: Management) -> GuardrailView:
    """Create a guardrail; an invalid document is a 400 ``InvalidPolicy`` naming the path."""
    return GuardrailView.model_validate(mgmt.create_guardrail(body.name, body.document, body.description))


@router.get("/guardrails/{policy_id}")
def describe_guardrail(policy_id: str, mgmt: Management) -> GuardrailView:
    return GuardrailView.model_validate(mgmt.describe_guardrail(policy_id))


@router.patch("/guardrails/{policy_id}")
def update_guardrail(policy_id: str, body: GuardrailUpdate, mgmt: Management) -> GuardrailView:
    return GuardrailView.model_validate(
        mgmt.update_guardrail(policy_id, document=body.document, description=body.description)
    )


@router.delete("/guardrails/{policy_id}", status_code=204, response_class=Response)
def delete_guardrail(policy_id: str, mgmt: Management) -> Response:
    """Delete a guardrail that is attached nowhere."""
    mgmt.delete_guardrail(policy_id)
    return Response(status_code=204)


@router.post("/guardrails/{policy_id}/attach")
def attach_guardrail(policy_id: str, body: Target, mgmt: Management) -> GuardrailView:
    """Attach to the root, an OU or an account; it applies to everything below."""
    return GuardrailView.model_validate(mgmt.attach_guardrail(policy_id, body.target_id))


@router.post("/guardrails/{policy_id}/detach")
def detach_guardrail(policy_id: str, body: Target, mgmt: Management) -> GuardrailView:
    return GuardrailView.model_validate(mgmt.detach_guardrail(policy_id, body.target_id))


@router.get("/accounts/{account_id}/guardrails", tags=["accounts"])
def effective_guardrails(account_id: str, mgmt: Management) -> EffectiveGuardrails:
    """The guardrails that apply to an account, root first, down its OU path to the account."""
    return EffectiveGuardrails.of(mgmt.effective_guardrails(account_id))
