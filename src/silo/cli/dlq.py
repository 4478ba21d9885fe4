"""``silo dlq``: the central dead-letter queue, on whichever plane the caller's key belongs to.

As with ``silo keys``, the key picks the plane (one ``GET /v1/whoami`` per command): a management
key sees every account's entries (``/v1/mgmt/dead-letters``, ``--account`` filters, and ``show`` needs
it); an account or session key sees its own account's entries (``/v1/account/dead-letters``).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from silo.cli import render
from silo.cli.client import api, segment
from silo.cli.options import AllPages, JsonOutput, Limit, NextToken
from silo.cli.render import Column

app = typer.Typer(
    no_args_is_help=True,
    short_help="The dead-letter queue: async invocations that finally failed.",
    help=(
        "The dead-letter queue: events that could not be delivered (async invocations that failed "
        "after their retries or grew too old). A management key sees every account's entries; an "
        "account or session key sees its own account's."
    ),
)

MGMT = "/v1/mgmt/dead-letters"
OWN = "/v1/account/dead-letters"


def _target(row: Any) -> str:
    target = row.get("target") or {}
    name = target.get("function") or target.get("name") or render.plain(target)
    qualifier = target.get("qualifier")
    return f"{name}:{qualifier}" if qualifier else str(name)


def _error(row: Any) -> str:
    error = row.get("error") or {}
    return str(error.get("errorType") or error.get("code") or "-")


COLUMNS = [
    Column("ENTRY", "entry_id", no_wrap=True),
    Column("ACCOUNT", "account_id", no_wrap=True),
    Column("SOURCE", "source", no_wrap=True),
    Column("TARGET", _target),
    Column("REASON", "reason", no_wrap=True),
    Column("ERROR", _error, optional=True),
    Column("ATTEMPTS", "attempts", no_wrap=True, optional=True),
    Column("LAST", lambda row: render.when(row.get("last_at")), optional=True),
]

AccountOpt = Annotated[
    str | None,
    typer.Option("--account", help="Management key only: the account (a filter for list, needed by show)."),
]


@app.command("list")
def list_(
    ctx: typer.Context,
    account: AccountOpt = None,
    source: Annotated[
        str | None, typer.Option("--source", help="Only entries from this source, e.g. functions:async.")
    ] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Only this reason, e.g. RetriesExhausted.")
    ] = None,
    limit: Limit = None,
    all_pages: AllPages = False,
    next_token: NextToken = None,
    as_json: JsonOutput = False,
) -> None:
    """List dead letters, newest first: every account's (management key) or your own."""
    client = api(ctx)
    own = client.is_account_key() and account is None
    data = client.pages(
        OWN if own else MGMT,
        limit=limit,
        next_token=next_token,
        all_pages=all_pages,
        account_id=None if own else account,
        source=source,
        reason=reason,
    )
    render.output(as_json, data, lambda d: render.page(d, COLUMNS, noun="dead letters"))


@app.command()
def show(
    ctx: typer.Context,
    entry_id: Annotated[str, typer.Argument(help="The entry's id.", show_default=False)],
    account: AccountOpt = None,
    as_json: JsonOutput = False,
) -> None:
    """Show one dead letter: its payload, error and attempts."""
    client = api(ctx)
    if account is not None:
        path = f"{MGMT}/{segment(account)}/{segment(entry_id)}"
    elif client.is_account_key():
        path = f"{OWN}/{segment(entry_id)}"
    else:
        raise typer.BadParameter("a management key needs the entry's --account", param_hint="'--account'")
    data = client.get(path)
    render.output(
        as_json,
        data,
        lambda d: render.record(d, title=f"dead letter {d['entry_id']}", nested={"payload", "error"}),
    )
