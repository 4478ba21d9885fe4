"""``/v1/account/functions``: the caller's own functions (the account comes from the key)."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from silo.api.auth import OwnAccount
from silo.api.function_schemas import (
    Accepted,
    AliasCreate,
    AliasList,
    AliasUpdate,
    AliasView,
    Code,
    FunctionCreate,
    FunctionPage,
    FunctionUpdate,
    FunctionVersionView,
    FunctionView,
    LogEventView,
    LogList,
    MetricsView,
    MetricView,
    PublishVersion,
    VersionList,
)
from silo.api.params import PageParams
from silo.api.views import ERROR_RESPONSES
from silo.functions import Accepted as AcceptedOutcome
from silo.functions import DryRunOk

router = APIRouter(prefix="/v1/account/functions", tags=["functions"], responses=ERROR_RESPONSES)
LOG_TAIL_BYTES = 4096


@router.get("")
def list_functions(account: OwnAccount, page: PageParams) -> FunctionPage:
    listed = account.functions.list(limit=page.limit, next_token=page.next_token)
    return FunctionPage(items=[FunctionView.of(f) for f in listed.items], next_token=listed.next_token)


@router.post("", status_code=201)
def create_function(body: FunctionCreate, account: OwnAccount) -> FunctionView:
    """Deploy a function; identical code is stored once however many accounts deploy it."""
    return FunctionView.of(account.functions.create(body.name, body.code.archive(), body.settings()))


@router.get("/{name}")
def get_function(name: str, account: OwnAccount) -> FunctionView:
    return FunctionView.of(account.functions.get(name))


@router.patch("/{name}")
def update_function(name: str, body: FunctionUpdate, account: OwnAccount) -> FunctionView:
    settings = body.settings(clear_reserved=body.clear_reserved_concurrency)
    return FunctionView.of(account.functions.update(name, settings))


@router.put("/{name}/code")
def update_code(name: str, body: Code, account: OwnAccount) -> FunctionView:
    from silo.functions import FunctionSettings

    return FunctionView.of(account.functions.update(name, FunctionSettings(), code=body.archive()))


@router.delete("/{name}", status_code=204)
def delete_function(name: str, account: OwnAccount) -> Response:
    account.functions.delete(name)
    return Response(status_code=204)


@router.get("/{name}/versions")
def list_versions(name: str, account: OwnAccount) -> VersionList:
    return VersionList(
        items=[FunctionVersionView.model_validate(v) for v in account.functions.list_versions(name)]
    )


@router.post("/{name}/versions", status_code=201)
def publish_version(
    name: str, account: OwnAccount, body: PublishVersion | None = None
) -> FunctionVersionView:
    description = body.description if body is not None else None
    return FunctionVersionView.model_validate(account.functions.publish_version(name, description))


@router.get("/{name}/aliases")
def list_aliases(name: str, account: OwnAccount) -> AliasList:
    return AliasList(items=[AliasView.model_validate(a) for a in account.functions.list_aliases(name)])


@router.post("/{name}/aliases", status_code=201)
def create_alias(name: str, body: AliasCreate, account: OwnAccount) -> AliasView:
    return AliasView.model_validate(
        account.functions.put_alias(name, body.name, body.version, body.description)
    )


@router.put("/{name}/aliases/{alias}")
def update_alias(name: str, alias: str, body: AliasUpdate, account: OwnAccount) -> AliasView:
    updated = account.functions.put_alias(name, alias, body.version, body.description, create=False)
    return AliasView.model_validate(updated)


@router.delete("/{name}/aliases/{alias}", status_code=204)
def delete_alias(name: str, alias: str, account: OwnAccount) -> Response:
    account.functions.delete_alias(name, alias)
    return Response(status_code=204)


@router.post(
    "/{name}/invocations",
    responses={
        200: {"description": "The function's result (or its error, with X-Silo-Function-Error)."},
        202: {"model": Accepted},
        204: {"description": "DryRun: the function is invocable."},
    },
)
async def invoke(
    name: str,
    request: Request,
    account: OwnAccount,
    qualifier: Annotated[str | None, Query(max_length=128)] = None,
    invocation_type: Annotated[str, Header(alias="X-Silo-Invocation-Type")] = "RequestResponse",
    log_type: Annotated[str, Header(alias="X-Silo-Log-Type")] = "None",
) -> Response:
    """Invoke with the raw JSON body as the event, as Lambda's ``Invoke``."""
    payload = await request.body()
    outcome = await run_in_threadpool(
        account.functions.invoke, name, payload, invocation_type=invocation_type, qualifier=qualifier
    )
    if isinstance(outcome, AcceptedOutcome):
        return Response(
            Accepted(invocation_id=outcome.invocation_id).model_dump_json(),
            202,
            media_type="application/json",
        )
    if isinstance(outcome, DryRunOk):
        return Response(status_code=204)
    headers = {"X-Silo-Executed-Version": outcome.executed_version, "X-Silo-Request-Id": outcome.request_id}
    if log_type == "Tail":
        headers["X-Silo-Log-Result"] = base64.b64encode(outcome.logs.encode()[-LOG_TAIL_BYTES:]).decode()
    if outcome.error is not None:
        import json

        headers["X-Silo-Function-Error"] = "Unhandled"
        return Response(json.dumps(outcome.error), 200, headers=headers, media_type="application/json")
    return Response(outcome.payload or b"null", 200, headers=headers, media_type="application/json")


@router.get("/{name}/logs")
def function_logs(
    name: str,
    account: OwnAccount,
    after: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> LogList:
    events = account.functions.logs(name, after=after, limit=limit)
    return LogList(items=[LogEventView.model_validate(e) for e in events])


@router.get("/{name}/metrics")
def function_metrics(
    name: str, account: OwnAccount, minutes: Annotated[int, Query(ge=1, le=1440)] = 60
) -> MetricsView:
    totals = account.functions.metrics(name, since=timedelta(minutes=minutes))
    return MetricsView(
        function_name=name,
        minutes=minutes,
        metrics={
            k: MetricView(sum=v.sum, count=v.count, min=v.min, max=v.max, average=v.average)
            for k, v in totals.items()
        },
    )
