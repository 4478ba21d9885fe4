"""``silo dlq``: the central dead-letter queue, on whichever plane the caller's key belongs to.

As with ``silo keys``, the key picks the plane (one ``GET /v1/whoami`` per command): a management
key sees every account's entries (``/v1/mgmt/dead-letters``, ``--account`` filters, and ``show`` needs
it); an account or session key sees its own account's entries (``/v1/account/dead-letters``).
``redrive`` and ``purge`` are for the management key only: a redrive sends entries back to their
targets, each inside its own account; a purge deletes them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer

from silo.cli import render
from silo.cli.client import api, segment
from silo.cli.options import AllPages, JsonOutput, Limit, NextToken
from silo.cli.render import Column

app = typer.Typer(
    no_args_is_help=True,
    short_help="The dead-letter queue: events and async invocations that finally failed.",
    help=(
        "The dead-letter queue: what could not be delivered (async invocations and event deliveries "
        "that failed after their retries or grew too old). A management key sees every account's "
        "entries, and may redrive or purge them; an account or session key sees its own account's."
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
SourceOpt = Annotated[
    str | None, typer.Option("--source", help="Only entries from this source, e.g. functions:async.")
]
ReasonOpt = Annotated[str | None, typer.Option("--reason", help="Only this reason, e.g. RetriesExhausted.")]


def _iso_time(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value).isoformat()
    except ValueError:
        raise typer.BadParameter(
            f"expected an ISO 8601 time such as 2026-01-31T12:00:00Z, got {value!r}"
        ) from None


SinceOpt = Annotated[
    str | None,
    typer.Option(
        "--since",
        callback=_iso_time,
        help="Only entries that arrived at or after this ISO time (UTC unless it says).",
    ),
]
UntilOpt = Annotated[
    str | None,
    typer.Option(
        "--until",
        callback=_iso_time,
        help="Only entries that arrived before this ISO time (UTC unless it says).",
    ),
]


@app.command("list")
def list_(
    ctx: typer.Context,
    account: AccountOpt = None,
    source: SourceOpt = None,
    reason: ReasonOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
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
        since=since,
        until=until,
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


REDRIVEN = [
    Column("ENTRY", lambda row: row["dead_letter"]["entry_id"], no_wrap=True),
    Column("ACCOUNT", lambda row: row["dead_letter"]["account_id"], no_wrap=True),
    Column("TARGET", lambda row: _target(row["dead_letter"])),
    Column("DELIVERY", lambda row: render.plain(row["delivery"])),
]
FAILED = [
    Column("ENTRY", "entry_id", no_wrap=True),
    Column("ACCOUNT", "account_id", no_wrap=True),
    Column("ERROR", lambda row: f"{row['code']}: {row['message']}"),
]


@app.command()
def redrive(
    ctx: typer.Context,
    account: Annotated[
        str,
        typer.Option("--account", help="The entries' account: the payload goes back into it, nowhere else."),
    ],
    entry_id: Annotated[
        str | None, typer.Argument(help="The entry to redrive (or --all).", show_default=False)
    ] = None,
    every: Annotated[
        bool,
        typer.Option("--all", help="Every matching entry not redriven yet (up to --limit), oldest first."),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="With ENTRY_ID: send it again even if it was redriven before.")
    ] = False,
    source: SourceOpt = None,
    reason: ReasonOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    limit: Limit = None,
    as_json: JsonOutput = False,
) -> None:
    """Send dead letters back to their original targets, inside their own account (management key)."""
    filtered = any(v is not None for v in (source, reason, since, until, limit))
    if (entry_id is None) == (not every):
        raise typer.BadParameter("name one ENTRY_ID, or --all for every matching entry", param_hint="'--all'")
    if entry_id is not None and filtered:
        raise typer.BadParameter("--source, --reason, --since, --until and --limit go with --all")
    if every and force:
        raise typer.BadParameter("--force redrives one named entry again; --all takes only new ones")
    client = api(ctx)
    if entry_id is not None:
        path = f"{MGMT}/{segment(account)}/{segment(entry_id)}/redrive"
        one = client.post(path, {"force": force} if force else {})
        render.output(
            as_json,
            one,
            lambda d: render.done(
                f"redriven {d['dead_letter']['entry_id']} to {_target(d['dead_letter'])} "
                f"in {d['dead_letter']['account_id']} ({render.plain(d['delivery'])})"
            ),
        )
        return
    fields = {"account_id": account, "source": source, "reason": reason, "since": since, "until": until}
    body = {k: v for k, v in {**fields, "limit": limit}.items() if v is not None}
    batch = client.post(f"{MGMT}/redrive", body)
    render.output(as_json, batch, _batch)
    if batch["failed"]:
        raise typer.Exit(1)


@app.command()
def purge(
    ctx: typer.Context,
    account: Annotated[str | None, typer.Option("--account", help="Only this account's entries.")] = None,
    source: SourceOpt = None,
    reason: ReasonOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    every: Annotated[
        bool, typer.Option("--all", help="With no filter: every entry of every account.")
    ] = False,
    as_json: JsonOutput = False,
) -> None:
    """Delete matching dead letters for good, redriven or not (management key; audited)."""
    fields = {"account_id": account, "source": source, "reason": reason, "since": since, "until": until}
    body: dict[str, Any] = {k: v for k, v in fields.items() if v is not None}
    if not body and not every:
        raise typer.BadParameter(
            "name a filter (--account, --source, --reason, --since, --until), or --all for every entry",
            param_hint="'--all'",
        )
    if body and every:
        raise typer.BadParameter("--all purges every entry; leave it out to purge the matching ones")
    data = api(ctx).post(f"{MGMT}/purge", {**body, "all": True} if every else body)
    render.output(as_json, data, lambda d: render.done(f"purged {d['purged']} dead letters"))


def _batch(data: Any) -> None:
    if data["redriven"]:
        render.table(data["redriven"], REDRIVEN)
    else:
        render.done("no dead letters to redrive")
    if data["failed"]:
        render.done(f"{len(data['failed'])} not redriven (they stay as they were):")
        render.table(data["failed"], FAILED)
