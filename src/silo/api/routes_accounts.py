"""``/v1/mgmt/accounts``: the account factory, lifecycle, placement, tags and the audited assume."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Body, Query, Response

from silo.accounts import AccountStatus
from silo.api.auth import Management
from silo.api.params import PageParams, TagFilter
from silo.api.schemas import (
    AccountBatch,
    AccountRequestBody,
    Assume,
    ConcurrencyLimit,
    Empty,
    Move,
    ReasonBody,
    Tags,
    Text,
)
from silo.api.views import (
    ERROR_RESPONSES,
    AccountBatchView,
    AccountCreatedView,
    AccountPage,
    AccountProvisioningView,
    AccountView,
    FactoryCredentials,
    IssuedKeyView,
    Purged,
)
from silo.platform.account_factory import AccountFactoryFailed

router = APIRouter(prefix="/v1/mgmt/accounts", tags=["accounts"], responses=ERROR_RESPONSES)

OptionalReason = Annotated[ReasonBody | None, Body()]


@router.post("", status_code=201, responses={202: {"model": AccountProvisioningView}})
def create_account(
    body: AccountRequestBody, mgmt: Management, response: Response
) -> AccountCreatedView | AccountProvisioningView:
    """Make one account through the account factory workflow (in the root unless ``ou_id`` says
    otherwise): 201 once it is ready, 202 if it is not ready after ``wait_seconds``."""
    request, execution = mgmt.request_account(
        body.spec(), guardrails=body.guardrails, wait_seconds=body.wait_seconds
    )
    credentials = FactoryCredentials(key_id=request.key_id, token=request.token)
    if execution.status == "RUNNING":
        response.status_code = 202
        return AccountProvisioningView(
            name=request.name,
            status=AccountStatus.PROVISIONING.value,
            factory_execution_arn=request.execution_arn,
            credentials=credentials,
        )
    if execution.status != "SUCCEEDED":
        raise AccountFactoryFailed(request.execution_arn, execution.error, execution.cause)
    made = mgmt.describe_account(execution.output["account_id"])
    return AccountCreatedView.model_validate(
        {
            **AccountView.model_validate(made).model_dump(),
            "factory_execution_arn": request.execution_arn,
            "credentials": credentials,
        }
    )


@router.post("/batch", status_code=201)
def create_accounts(body: AccountBatch, mgmt: Management) -> AccountBatchView:
    """Create 1..10000 accounts, all or nothing: one bad spec and none is created."""
    made = mgmt.create_accounts([spec.spec() for spec in body.accounts])
    return AccountBatchView(items=[AccountView.model_validate(a) for a in made], count=len(made))


@router.get("")
def list_accounts(
    mgmt: Management,
    page: PageParams,
    tags: TagFilter,
    ou_id: Annotated[Text | None, Query(description="Only accounts in this OU (or root).")] = None,
    recursive: Annotated[bool, Query(description="With ou_id: the whole subtree.")] = False,
    status: Annotated[AccountStatus | None, Query()] = None,
) -> AccountPage:
    """Accounts in id order, filtered by OU, tags and status."""
    found = mgmt.list_accounts(
        ou_id=ou_id,
        recursive=recursive,
        tags=tags,
        status=status,
        limit=page.limit,
        next_token=page.next_token,
    )
    return AccountPage.model_validate(found)


@router.post("/purge-expired")
def purge_expired(mgmt: Management, body: Annotated[Empty | None, Body()] = None) -> Purged:
    """Delete every closed account whose retention period is over."""
    return Purged(purged=mgmt.purge_expired_accounts())


@router.get("/{account_id}")
def describe_account(account_id: str, mgmt: Management) -> AccountView:
    return AccountView.model_validate(mgmt.describe_account(account_id))


@router.post("/{account_id}/suspend")
def suspend_account(account_id: str, mgmt: Management, body: OptionalReason = None) -> AccountView:
    """Stop an account: its keys are refused until it is reactivated."""
    return AccountView.model_validate(mgmt.suspend_account(account_id, _reason(body)))


@router.post("/{account_id}/reactivate")
def reactivate_account(account_id: str, mgmt: Management, body: OptionalReason = None) -> AccountView:
    return AccountView.model_validate(mgmt.reactivate_account(account_id, _reason(body)))


@router.post("/{account_id}/close")
def close_account(account_id: str, mgmt: Management, body: OptionalReason = None) -> AccountView:
    """Close: keys are revoked; data stays readable to the management plane until purged."""
    return AccountView.model_validate(mgmt.close_account(account_id, _reason(body)))


@router.post("/{account_id}/move")
def move_account(account_id: str, body: Move, mgmt: Management) -> AccountView:
    return AccountView.model_validate(mgmt.move_account(account_id, body.ou_id))


@router.post("/{account_id}/tags")
def tag_account(account_id: str, body: Tags, mgmt: Management) -> AccountView:
    """Set ``tags`` (added or changed) and drop the keys in ``remove``."""
    return AccountView.model_validate(mgmt.tag_account(account_id, body.tags, body.remove))


@router.put("/{account_id}/concurrency-limit")
def set_concurrency_limit(account_id: str, body: ConcurrencyLimit, mgmt: Management) -> AccountView:
    return AccountView.model_validate(mgmt.set_concurrency_limit(account_id, body.limit))


@router.post("/{account_id}/assume", status_code=201)
def assume(account_id: str, body: Assume, mgmt: Management) -> IssuedKeyView:
    """A session key into the account for ``/v1/account``: time-limited, and audited with its reason."""
    session = mgmt.assume(account_id, body.reason, duration=timedelta(seconds=body.duration_seconds))
    return IssuedKeyView.of(session.key)


def _reason(body: ReasonBody | None) -> str:
    return body.reason if body is not None else ""
