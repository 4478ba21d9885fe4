"""The root ``silo`` app: global options, error reporting, and the command groups."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from silo import __version__
from silo.cli import (
    accounts,
    audit,
    bench,
    demo,
    dlq,
    events,
    fleet,
    functions,
    guardrails,
    invoke,
    keys,
    logs,
    ous,
    render,
    schedules,
    server,
    stacks,
    stacksets,
    tables,
    templates,
    workflows,
)
from silo.cli.client import ApiClient, CliError, api
from silo.cli.options import DEFAULT_ENDPOINT, Endpoint, JsonOutput, Key
from silo.errors import SiloError


class SiloGroup(TyperGroup):
    """Reports ``CliError`` (and local ``SiloError``) as ``error: ...`` on stderr with exit code 1."""

    def invoke(self, ctx: Any) -> Any:  # typer's own (vendored) click Context
        try:
            return super().invoke(ctx)
        except CliError as exc:
            typer.echo(exc.render(), err=True)
            raise typer.Exit(1) from None
        except SiloError as exc:
            typer.echo(f"error: {exc.code}: {exc.message}", err=True)
            raise typer.Exit(1) from None


app = typer.Typer(
    name="silo",
    cls=SiloGroup,
    no_args_is_help=True,
    help="Silo: a self-hosted serverless platform with one isolated account per tenant.",
    epilog="Global options go before the command: silo --endpoint URL --key KEY accounts list",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"silo {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    key: Key = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Silo: a self-hosted serverless platform with one isolated account per tenant."""
    client = ApiClient(endpoint, key)
    ctx.obj = client
    ctx.call_on_close(client.close)


@app.command()
def whoami(ctx: typer.Context, as_json: JsonOutput = False) -> None:
    """Show which key you are using: its id, account, kind (management/account/session)."""
    render.output(as_json, api(ctx).whoami(), lambda data: render.record(data, title="whoami"))


app.add_typer(accounts.app, name="accounts")
app.add_typer(ous.app, name="ous")
app.add_typer(keys.app, name="keys")
app.add_typer(guardrails.app, name="guardrails")
app.add_typer(functions.app, name="functions")
app.add_typer(logs.app, name="logs")
app.add_typer(dlq.app, name="dlq")
app.add_typer(events.app, name="events")
app.add_typer(schedules.app, name="schedules")
app.add_typer(templates.app, name="templates")
app.add_typer(stacks.app, name="stacks")
app.add_typer(stacksets.app, name="stacksets")
app.add_typer(fleet.app, name="fleet")
app.add_typer(workflows.app, name="workflows")
app.add_typer(tables.app, name="tables")
app.add_typer(bench.app, name="bench")
app.command("demo")(demo.demo)
app.command("invoke")(invoke.invoke)
app.command("audit")(audit.audit)
app.command("server")(server.server)


def main() -> None:
    """Entry point of the ``silo`` console script."""
    app()


if __name__ == "__main__":
    main()
