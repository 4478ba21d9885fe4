"""``silo functions publish|versions|aliases|alias-*``: immutable versions and the aliases naming them.

Registered on the ``silo functions`` group by ``silo.cli.functions``.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from silo.cli import render
from silo.cli.client import api, segment
from silo.cli.options import JsonOutput
from silo.cli.render import Column

BASE = "/v1/account/functions"

VERSION_COLUMNS = [
    Column("VERSION", "version", no_wrap=True),
    Column("DESCRIPTION", "description"),
    Column("HANDLER", "handler"),
    Column("MEMORY", "memory_size", no_wrap=True),
    Column("TIMEOUT", "timeout", no_wrap=True),
    Column("CODE SHA256", lambda row: str(row.get("code_sha256", ""))[:12], no_wrap=True, optional=True),
    Column("MODIFIED", lambda row: render.when(row.get("last_modified")), optional=True),
]
ALIAS_COLUMNS = [
    Column("ALIAS", "name", no_wrap=True),
    Column("VERSION", "version", no_wrap=True),
    Column("DESCRIPTION", "description"),
    Column("UPDATED", lambda row: render.when(row.get("updated_at")), optional=True),
]

NameArg = Annotated[str, typer.Argument(help="The function's name.", show_default=False)]
AliasArg = Annotated[str, typer.Argument(help="The alias's name.", show_default=False)]
VersionOpt = Annotated[
    str, typer.Option("--version", help="The version the alias points at (a number or $LATEST).")
]
AliasDescription = Annotated[str | None, typer.Option("--description", help="What the alias is for.")]


def _functions(name: str, *rest: str) -> str:
    return "/".join([BASE, segment(name), *(segment(part) for part in rest)])


def _show_version(data: Any) -> None:
    shown = {**data, "last_modified": render.when(data.get("last_modified"))}
    render.record(shown, title=f"function {data['name']} version {data['version']}")


def _show_alias(data: Any) -> None:
    render.record(data, title=f"alias {data['function_name']}:{data['name']}")


def publish(
    ctx: typer.Context,
    name: NameArg,
    description: Annotated[
        str | None, typer.Option("--description", help="What changed in this version.")
    ] = None,
    as_json: JsonOutput = False,
) -> None:
    """Publish $LATEST as a new immutable version (the newest one again if nothing changed)."""
    body = {} if description is None else {"description": description}
    render.output(as_json, api(ctx).post(_functions(name, "versions"), body), _show_version)


def versions(ctx: typer.Context, name: NameArg, as_json: JsonOutput = False) -> None:
    """List a function's versions, $LATEST first."""
    data = api(ctx).get(_functions(name, "versions"))
    render.output(as_json, data, lambda d: render.page(d, VERSION_COLUMNS, noun="versions"))


def aliases(ctx: typer.Context, name: NameArg, as_json: JsonOutput = False) -> None:
    """List a function's aliases."""
    data = api(ctx).get(_functions(name, "aliases"))
    render.output(as_json, data, lambda d: render.page(d, ALIAS_COLUMNS, noun="aliases"))


def _alias_body(version: str, description: str | None) -> dict[str, Any]:
    return {"version": version} if description is None else {"version": version, "description": description}


def alias_create(
    ctx: typer.Context,
    name: NameArg,
    alias: AliasArg,
    version: VersionOpt,
    description: AliasDescription = None,
    as_json: JsonOutput = False,
) -> None:
    """Create an alias: a stable name for one version (invoke it with --qualifier ALIAS)."""
    body = {"name": alias, **_alias_body(version, description)}
    render.output(as_json, api(ctx).post(_functions(name, "aliases"), body), _show_alias)


def alias_update(
    ctx: typer.Context,
    name: NameArg,
    alias: AliasArg,
    version: VersionOpt,
    description: AliasDescription = None,
    as_json: JsonOutput = False,
) -> None:
    """Point an alias at another version."""
    data = api(ctx).put(_functions(name, "aliases", alias), _alias_body(version, description))
    render.output(as_json, data, _show_alias)


def alias_delete(ctx: typer.Context, name: NameArg, alias: AliasArg, as_json: JsonOutput = False) -> None:
    """Delete an alias (the version it named stays)."""
    api(ctx).delete(_functions(name, "aliases", alias))
    result = {"deleted": alias, "function_name": name}
    render.output(as_json, result, lambda _: render.done(f"deleted alias {name}:{alias}"))
