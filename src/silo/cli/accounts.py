"""``silo accounts``: the tenant accounts of the fleet (management plane, needs a management key)."""

from __future__ import annotations

import enum
import time
from typing import Annotated, Any

import typer

from silo.cli import render
from silo.cli.client import ApiError, api
from silo.cli.options import (
    AllPages,
    JsonOutput,
    Limit,
    NextToken,
    Reason,
    TagFilter,
    TagPairs,
    pairs,
)
from silo.cli.render import Column

app = typer.Typer(no_args_is_help=True, help="Create, list and manage tenant accounts (management key).")

BASE = "/v1/mgmt/accounts"
BATCH_CHUNK = 10_000

COLUMNS = [
    Column("ID", "account_id", no_wrap=True),
    Column("NAME", "name"),
    Column("STATUS", "status", no_wrap=True),
    Column("OU", "ou_id"),
    Column("TAGS", "tags"),
    Column("CREATED", lambda row: render.when(row.get("created_at")), optional=True),
]


class Status(enum.StrEnum):
    PROVISIONING = "PROVISIONING"
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    CLOSED = "CLOSED"


AccountIdArg = Annotated[str, typer.Argument(help="The 12-digit account id.", show_default=False)]
Ou = Annotated[str | None, typer.Option("--ou", help="OU id (default: the root OU).")]


def show(data: Any) -> None:
    render.record(data, title=f"account {data.get('account_id') or data['name']}")


def _shown(as_json: bool, data: Any) -> None:
    render.output(as_json, data, show)


@app.command()
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="Account name (unique in the fleet).")],
    owner_email: Annotated[str, typer.Option("--owner-email", help="Who owns the account.")],
    ou: Ou = None,
    tag: TagPairs = None,
    concurrency_limit: Annotated[
        int | None, typer.Option("--concurrency-limit", min=0, help="Concurrent executions allowed.")
    ] = None,
    guardrail: Annotated[
        list[str] | None,
        typer.Option("--guardrail", help="A guardrail (policy id) to attach to the account; repeatable."),
    ] = None,
    wait_seconds: Annotated[
        float, typer.Option("--wait-seconds", min=0, max=300, help="How long to wait for it to be ready.")
    ] = 60.0,
    as_json: JsonOutput = False,
) -> None:
    """Make one account through the account factory workflow (account -> OU -> guardrails ->
    credentials -> baseline stack sets -> ready). Prints the account and its first key's token,
    which is shown only this once."""
    body: dict[str, Any] = {"name": name, "owner_email": owner_email, "wait_seconds": wait_seconds}
    if ou is not None:
        body["ou_id"] = ou
    if tag:
        body["tags"] = pairs(tag)
    if concurrency_limit is not None:
        body["concurrency_limit"] = concurrency_limit
    if guardrail:
        body["guardrails"] = list(guardrail)
    made = api(ctx).post(BASE, body)
    _shown(as_json, made)
    if not as_json:
        typer.echo(f"factory execution: {made['factory_execution_arn']}")
        typer.echo(f"owner key (shown once): {made['credentials']['token']}")
        if made.get("status") == "PROVISIONING":
            typer.echo("not ready yet: the key works once the execution has succeeded", err=True)


@app.command("create-batch")
def create_batch(
    ctx: typer.Context,
    count: Annotated[int, typer.Option("--count", min=1, help="How many accounts to create.")],
    name_prefix: Annotated[
        str, typer.Option("--name-prefix", help="Names are PREFIX-00001, PREFIX-00002...")
    ],
    owner_email: Annotated[str, typer.Option("--owner-email", help="Owner of every new account.")],
    ou: Ou = None,
    as_json: JsonOutput = False,
) -> None:
    """Create COUNT accounts in batches of up to 10000 (each batch is all or nothing)."""
    client = api(ctx)
    width = max(5, len(str(count)))
    made: list[Any] = []
    started = time.monotonic()
    for first in range(1, count + 1, BATCH_CHUNK):
        specs: list[dict[str, Any]] = []
        for n in range(first, min(first + BATCH_CHUNK, count + 1)):
            spec: dict[str, Any] = {"name": f"{name_prefix}-{n:0{width}d}", "owner_email": owner_email}
            if ou is not None:
                spec["ou_id"] = ou
            specs.append(spec)
        try:
            made.extend(client.post(f"{BASE}/batch", {"accounts": specs})["items"])
        except ApiError:
            if made:
                typer.echo(f"created {len(made)} of {count} accounts before this error:", err=True)
            raise
    elapsed = round(time.monotonic() - started, 3)
    result = {"items": made, "count": len(made), "elapsed_seconds": elapsed}
    render.output(as_json, result, lambda _: render.done(f"created {len(made)} accounts in {elapsed:.2f}s"))


@app.command("list")
def list_(
    ctx: typer.Context,
    ou: Annotated[str | None, typer.Option("--ou", help="Only accounts in this OU.")] = None,
    recursive: Annotated[bool, typer.Option("--recursive", help="With --ou: include nested OUs.")] = False,
    tag: TagFilter = None,
    status: Annotated[Status | None, typer.Option("--status", case_sensitive=False)] = None,
    limit: Limit = None,
    all_pages: AllPages = False,
    next_token: NextToken = None,
    as_json: JsonOutput = False,
) -> None:
    """List accounts, filtered by OU, tags and status."""
    data = api(ctx).pages(
        BASE,
        limit=limit,
        next_token=next_token,
        all_pages=all_pages,
        ou_id=ou,
        recursive=True if recursive else None,
        tag=tag,
        status=status.value if status else None,
    )
    render.output(as_json, data, lambda d: render.page(d, COLUMNS, noun="accounts"))


@app.command()
def describe(ctx: typer.Context, account_id: AccountIdArg, as_json: JsonOutput = False) -> None:
    """Show one account."""
    _shown(as_json, api(ctx).get(f"{BASE}/{account_id}"))


def _status_change(ctx: typer.Context, account_id: str, verb: str, reason: str | None, as_json: bool) -> None:
    body = {"reason": reason} if reason else {}
    _shown(as_json, api(ctx).post(f"{BASE}/{account_id}/{verb}", body))


@app.command()
def suspend(
    ctx: typer.Context, account_id: AccountIdArg, reason: Reason = None, as_json: JsonOutput = False
) -> None:
    """Suspend an account: its keys stop working until it is reactivated."""
    _status_change(ctx, account_id, "suspend", reason, as_json)


@app.command()
def reactivate(
    ctx: typer.Context, account_id: AccountIdArg, reason: Reason = None, as_json: JsonOutput = False
) -> None:
    """Reactivate a suspended account."""
    _status_change(ctx, account_id, "reactivate", reason, as_json)


@app.command()
def close(
    ctx: typer.Context, account_id: AccountIdArg, reason: Reason = None, as_json: JsonOutput = False
) -> None:
    """Close an account; its data is purged after the retention period (see purge-expired)."""
    _status_change(ctx, account_id, "close", reason, as_json)


@app.command()
def move(
    ctx: typer.Context,
    account_id: AccountIdArg,
    ou: Annotated[str, typer.Option("--ou", help="The OU id to move the account into.")],
    as_json: JsonOutput = False,
) -> None:
    """Move an account into another OU."""
    _shown(as_json, api(ctx).post(f"{BASE}/{account_id}/move", {"ou_id": ou}))


@app.command()
def tag(
    ctx: typer.Context,
    account_id: AccountIdArg,
    tag: TagPairs = None,
    remove: Annotated[
        list[str] | None,
        typer.Option("--remove", help="A tag key to remove (repeatable).", show_default=False),
    ] = None,
    as_json: JsonOutput = False,
) -> None:
    """Add or change tags (--tag k=v) and remove tags (--remove k)."""
    if not tag and not remove:
        raise typer.BadParameter("give at least one --tag key=value or --remove key", param_hint="'--tag'")
    body = {"tags": pairs(tag), "remove": list(remove or [])}
    _shown(as_json, api(ctx).post(f"{BASE}/{account_id}/tags", body))


@app.command("set-concurrency")
def set_concurrency(
    ctx: typer.Context,
    account_id: AccountIdArg,
    limit: Annotated[int, typer.Argument(min=0, help="Concurrent executions allowed.", show_default=False)],
    as_json: JsonOutput = False,
) -> None:
    """Set an account's concurrency limit."""
    _shown(as_json, api(ctx).put(f"{BASE}/{account_id}/concurrency-limit", {"limit": limit}))


@app.command("purge-expired")
def purge_expired(ctx: typer.Context, as_json: JsonOutput = False) -> None:
    """Purge closed accounts whose retention period is over."""
    data = api(ctx).post(f"{BASE}/purge-expired")
    render.output(
        as_json,
        data,
        lambda d: render.done(f"purged {len(d['purged'])} accounts: {render.plain(d['purged'])}"),
    )


@app.command()
def assume(
    ctx: typer.Context,
    account_id: AccountIdArg,
    reason: Annotated[str, typer.Option("--reason", help="Why you need access; recorded in the audit log.")],
    duration: Annotated[
        int | None,
        typer.Option("--duration", min=60, max=43200, help="Session length in seconds (default 3600)."),
    ] = None,
    as_json: JsonOutput = False,
) -> None:
    """Get a session key into an account (audited); prints only the token on stdout.

    Use it as: export SILO_KEY=$(silo accounts assume ID --reason "ticket 42")
    """
    body: dict[str, Any] = {"reason": reason}
    if duration is not None:
        body["duration_seconds"] = duration
    data = api(ctx).post(f"{BASE}/{account_id}/assume", body)

    def human(d: Any) -> None:
        key = d["key"]
        typer.echo(
            f"session key {key['key_id']} for account {key['account_id']}, expires {key.get('expires_at')}; "
            "the token is shown only once",
            err=True,
        )
        typer.echo(d["token"])

    render.output(as_json, data, human)
