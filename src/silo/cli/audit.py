"""``silo audit``: the management plane's audit log, newest first (management key)."""

from __future__ import annotations

from typing import Annotated

import typer

from silo.cli import render
from silo.cli.client import api
from silo.cli.options import AllPages, JsonOutput, Limit, NextToken
from silo.cli.render import Column

COLUMNS = [
    Column("SEQ", "seq", no_wrap=True),
    Column("AT", lambda row: render.when(row.get("at"))),
    Column("PRINCIPAL", "principal", optional=True),
    Column("ACTION", "action"),
    Column("ACCOUNT", "account_id", no_wrap=True),
    Column("REASON", "reason"),
]


def audit(
    ctx: typer.Context,
    account: Annotated[
        str | None, typer.Option("--account", help="Only entries about this account id.")
    ] = None,
    action: Annotated[
        str | None, typer.Option("--action", help="Only this action, e.g. accounts:Suspend.")
    ] = None,
    limit: Limit = None,
    all_pages: AllPages = False,
    next_token: NextToken = None,
    as_json: JsonOutput = False,
) -> None:
    """Show the audit log (newest first): who did what to which account, and why."""
    data = api(ctx).pages(
        "/v1/mgmt/audit",
        limit=limit,
        next_token=next_token,
        all_pages=all_pages,
        account_id=account,
        action=action,
    )
    render.output(as_json, data, lambda d: render.page(d, COLUMNS, noun="audit entries"))
