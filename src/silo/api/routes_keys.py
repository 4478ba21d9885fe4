"""Keys on the management plane: the fleet's management keys, and account keys issued from above."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from silo.api.auth import Management
from silo.api.params import IncludeRevoked, PageParams
from silo.api.schemas import Empty, KeyCreate, Rotate
from silo.api.views import ERROR_RESPONSES, IssuedKeyView, KeyPage, KeyView

router = APIRouter(prefix="/v1/mgmt", tags=["keys"], responses=ERROR_RESPONSES)

NoBody = Annotated[Empty | None, Body()]


@router.get("/keys")
def list_management_keys(
    mgmt: Management, page: PageParams, include_revoked: IncludeRevoked = False
) -> KeyPage:
    return KeyPage.model_validate(
        mgmt.list_management_keys(
            include_revoked=include_revoked, limit=page.limit, next_token=page.next_token
        )
    )


@router.post("/keys", status_code=201)
def create_management_key(body: KeyCreate, mgmt: Management) -> IssuedKeyView:
    """A new management key; its secret is in ``token`` and is never shown again."""
    return IssuedKeyView.of(mgmt.create_management_key(body.name))


@router.post("/keys/{key_id}/rotate", status_code=201)
def rotate_management_key(
    key_id: str, mgmt: Management, body: Annotated[Rotate | None, Body()] = None
) -> IssuedKeyView:
    """Replace a key; the old one stops now, or after ``grace_seconds``."""
    grace = body.grace_seconds if body is not None else 0
    return IssuedKeyView.of(mgmt.rotate_management_key(key_id, grace_seconds=grace))


@router.post("/keys/{key_id}/revoke")
def revoke_management_key(key_id: str, mgmt: Management, body: NoBody = None) -> KeyView:
    """Revoke a management key (never the last active one)."""
    return KeyView.model_validate(mgmt.revoke_management_key(key_id))


@router.get("/accounts/{account_id}/keys")
def list_account_keys(
    account_id: str, mgmt: Management, page: PageParams, include_revoked: IncludeRevoked = False
) -> KeyPage:
    return KeyPage.model_validate(
        mgmt.list_account_keys(
            account_id, include_revoked=include_revoked, limit=page.limit, next_token=page.next_token
        )
    )


@router.post("/accounts/{account_id}/keys", status_code=201)
def issue_account_key(account_id: str, body: KeyCreate, mgmt: Management) -> IssuedKeyView:
    """An account key for the tenant (audited); its secret is in ``token`` and is never shown again."""
    return IssuedKeyView.of(mgmt.issue_account_key(account_id, body.name))


@router.post("/accounts/{account_id}/keys/{key_id}/revoke")
def revoke_account_key(account_id: str, key_id: str, mgmt: Management, body: NoBody = None) -> KeyView:
    return KeyView.model_validate(mgmt.revoke_account_key(account_id, key_id))
