"""``/v1/account``: the caller's own account. The account comes from the key, never the path."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from silo.api.auth import OwnAccount
from silo.api.params import IncludeRevoked, PageParams
from silo.api.schemas import Empty, KeyCreate, Rotate
from silo.api.views import (
    ERROR_RESPONSES,
    AccountView,
    EffectiveGuardrails,
    IssuedKeyView,
    KeyPage,
    KeyView,
)

router = APIRouter(prefix="/v1/account", tags=["account"], responses=ERROR_RESPONSES)


@router.get("")
def describe_own_account(account: OwnAccount) -> AccountView:
    return AccountView.model_validate(account.describe())


@router.get("/keys")
def list_own_keys(account: OwnAccount, page: PageParams, include_revoked: IncludeRevoked = False) -> KeyPage:
    return KeyPage.model_validate(
        account.keys.list(include_revoked=include_revoked, limit=page.limit, next_token=page.next_token)
    )


@router.post("/keys", status_code=201)
def create_own_key(body: KeyCreate, account: OwnAccount) -> IssuedKeyView:
    """A new key for this account; its secret is in ``token`` and is never shown again."""
    return IssuedKeyView.of(account.keys.create(body.name))


@router.get("/keys/{key_id}")
def describe_own_key(key_id: str, account: OwnAccount) -> KeyView:
    return KeyView.model_validate(account.keys.get(key_id))


@router.post("/keys/{key_id}/rotate", status_code=201)
def rotate_own_key(
    key_id: str, account: OwnAccount, body: Annotated[Rotate | None, Body()] = None
) -> IssuedKeyView:
    """Replace a key; the old one stops now, or after ``grace_seconds``."""
    grace = body.grace_seconds if body is not None else 0
    return IssuedKeyView.of(account.keys.rotate(key_id, grace_seconds=grace))


@router.post("/keys/{key_id}/revoke")
def revoke_own_key(key_id: str, account: OwnAccount, body: Annotated[Empty | None, Body()] = None) -> KeyView:
    return KeyView.model_validate(account.keys.revoke(key_id))


@router.get("/guardrails")
def own_guardrails(account: OwnAccount) -> EffectiveGuardrails:
    """The guardrails that apply to this account (read-only: only the management plane changes them)."""
    return EffectiveGuardrails.of(account.effective_guardrails())
