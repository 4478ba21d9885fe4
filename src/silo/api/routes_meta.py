"""Health, identity and the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

import silo
from silo.api.auth import Caller, Management
from silo.api.params import PageParams
from silo.api.schemas import Text
from silo.api.views import ERROR_RESPONSES, AuditPage, Health, WhoAmI

router = APIRouter(responses=ERROR_RESPONSES)


@router.get("/healthz", tags=["meta"])
def healthz() -> Health:
    """Liveness; needs no key."""
    return Health(status="ok", version=silo.__version__)


@router.get("/v1/whoami", tags=["meta"])
def whoami(caller: Caller) -> WhoAmI:
    """The key you are calling with: its id, account, kind and, for a session, who assumed it."""
    return WhoAmI.of(caller)


@router.get("/v1/mgmt/audit", tags=["audit"])
def audit_log(
    mgmt: Management,
    page: PageParams,
    account_id: Annotated[Text | None, Query(description="Only entries about this account.")] = None,
    action: Annotated[
        Text | None, Query(max_length=64, description="Only this action, e.g. accounts:Assume.")
    ] = None,
) -> AuditPage:
    """Management-plane actions, newest first: who did what in which account, when and why."""
    return AuditPage.model_validate(
        mgmt.audit_log(account=account_id, action=action, limit=page.limit, next_token=page.next_token)
    )
