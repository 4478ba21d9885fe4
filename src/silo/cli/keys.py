"""``silo keys``: API keys, on whichever plane the caller's key belongs to.

Which plane a command uses is decided by the key you run it with, asked once per command with
``GET /v1/whoami``: a management key manages management keys (``/v1/mgmt/keys``) and, with
``--account`` or ``issue``, the keys of any account; an account or session key manages the keys of
its own account (``/v1/account/keys``).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from silo.cli import render
from silo.cli.client import ApiClient, api
from silo.cli.options import AllPages, IncludeRevoked, JsonOutput, Limit, NextToken
from silo.cli.render import Column

app = typer.Typer(
    no_args_is_help=True,
    short_help="API keys: management keys, account keys, and your own account's keys.",
    help=(
        "API keys. The key you run a command with picks the plane (one GET /v1/whoami per command): "
        "with a management key, create/list/rotate/revoke act on management keys, and --account "
        "or `issue` act on an account's keys; with an account or session key they act on the keys "
        "of that key's own account (/v1/account/keys)."
    ),
)

MGMT = "/v1/mgmt/keys"
OWN = "/v1/account/keys"

COLUMNS = [
    Column("ID", "key_id", no_wrap=True),
    Column("NAME", "name"),
    Column("KIND", "kind", no_wrap=True),
    Column("ACCOUNT", "account_id", no_wrap=True, optional=True),
    Column("STATUS", "status", no_wrap=True),
    Column("CREATED", lambda row: render.when(row.get("created_at")), optional=True),
    Column("EXPIRES", lambda row: render.when(row.get("expires_at")), optional=True),
    Column("LAST USED", lambda row: render.when(row.get("last_used_at")), optional=True),
]

KeyIdArg = Annotated[
    str, typer.Argument(help="The key id (the part of the token before the dot).", show_default=False)
]
NameArg = Annotated[str, typer.Argument(help="A name for the key.", show_default=False)]
AccountOpt = Annotated[
    str | None,
    typer.Option(
        "--account", help="Management key only: act on this account's keys (/v1/mgmt/accounts/ID/keys)."
    ),
]
GraceSeconds = Annotated[
    int | None,
    typer.Option(
        "--grace-seconds", min=0, help="Keep the old key valid this long after rotation (default 0)."
    ),
]


def _base(client: ApiClient, account: str | None) -> str:
    """The keys collection this command acts on (see the module docstring)."""
    if account is not None:
        return f"/v1/mgmt/accounts/{account}/keys"
    return OWN if client.is_account_key() else MGMT


def _show_issued(data: Any) -> None:
    render.issued(data, title=f"key {data['key']['key_id']}")


def _show_key(data: Any) -> None:
    render.record(data, title=f"key {data['key_id']}")


@app.command()
def create(ctx: typer.Context, name: NameArg, as_json: JsonOutput = False) -> None:
    """Create a key: a management key, or with an account/session key, a key of that account."""
    client = api(ctx)
    render.output(as_json, client.post(_base(client, None), {"name": name}), _show_issued)


@app.command()
def issue(
    ctx: typer.Context,
    account_id: Annotated[str, typer.Argument(help="The account to issue the key in.", show_default=False)],
    name: NameArg,
    as_json: JsonOutput = False,
) -> None:
    """Issue an account key for ACCOUNT_ID (management key)."""
    data = api(ctx).post(f"/v1/mgmt/accounts/{account_id}/keys", {"name": name})
    render.output(as_json, data, _show_issued)


@app.command("list")
def list_(
    ctx: typer.Context,
    account: AccountOpt = None,
    include_revoked: IncludeRevoked = False,
    limit: Limit = None,
    all_pages: AllPages = False,
    next_token: NextToken = None,
    as_json: JsonOutput = False,
) -> None:
    """List keys: management keys, an account's keys (--account), or your own account's keys."""
    client = api(ctx)
    data = client.pages(
        _base(client, account),
        limit=limit,
        next_token=next_token,
        all_pages=all_pages,
        include_revoked=True if include_revoked else None,
    )
    render.output(as_json, data, lambda d: render.page(d, COLUMNS, noun="keys"))


@app.command()
def rotate(
    ctx: typer.Context,
    key_id: KeyIdArg,
    grace_seconds: GraceSeconds = None,
    as_json: JsonOutput = False,
) -> None:
    """Replace a key with a new one (same name); the old one stops working after the grace period."""
    client = api(ctx)
    body = {} if grace_seconds is None else {"grace_seconds": grace_seconds}
    render.output(as_json, client.post(f"{_base(client, None)}/{key_id}/rotate", body), _show_issued)


@app.command()
def revoke(
    ctx: typer.Context, key_id: KeyIdArg, account: AccountOpt = None, as_json: JsonOutput = False
) -> None:
    """Revoke a key at once."""
    client = api(ctx)
    render.output(as_json, client.post(f"{_base(client, account)}/{key_id}/revoke"), _show_key)
