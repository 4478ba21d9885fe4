"""``silo stacks``: deploy a template into your account, preview changes, inspect (account key).

Stacks live in member accounts (``/v1/account/stacks``): run these with an account key or a session
key (``silo accounts assume``). ``deploy`` and ``diff`` package each ``CodeUri`` directory of the
template (relative to the template's directory) and send it with the template.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from silo.cli import render, templates
from silo.cli.client import api, segment
from silo.cli.options import AllPages, JsonOutput, Limit, NextToken, ParamPairs, TemplateFile, pairs
from silo.cli.render import Column

app = typer.Typer(
    no_args_is_help=True,
    help="Stacks of your account: deploy a template, preview a change (diff), inspect (account key).",
)

BASE = "/v1/account/stacks"

STACK_COLUMNS = [
    Column("NAME", "name", no_wrap=True),
    Column("STATUS", "status", no_wrap=True),
    Column("STACK SET", "stack_set"),
    Column("DESCRIPTION", "description", optional=True),
    Column("UPDATED", lambda row: render.when(row.get("updated_at")), optional=True),
]
CHANGE_COLUMNS = [
    Column("ACTION", "action", no_wrap=True),
    Column("LOGICAL ID", "logical_id", no_wrap=True),
    Column("TYPE", "type", no_wrap=True),
    Column(
        "REPLACEMENT",
        lambda row: render.plain(row.get("replacement")) if row.get("action") == "Modify" else None,
        no_wrap=True,
    ),
    Column("PROPERTIES", "properties"),
    Column("NAME", "physical_name", optional=True),
]
RESOURCE_COLUMNS = [
    Column("LOGICAL ID", "logical_id", no_wrap=True),
    Column("TYPE", "type", no_wrap=True),
    Column("NAME", "physical_name"),
    Column("STATUS", "status", no_wrap=True),
    Column("UPDATED", lambda row: render.when(row.get("updated_at")), optional=True),
]
EVENT_COLUMNS = [
    Column("AT", lambda row: render.when(row.get("at")), no_wrap=True),
    Column("LOGICAL ID", "logical_id", no_wrap=True),
    Column("TYPE", "resource_type", no_wrap=True),
    Column("STATUS", "status", no_wrap=True),
    Column("REASON", "reason"),
]
OUTPUT_COLUMNS = [
    Column("NAME", "name", no_wrap=True),
    Column("VALUE", "value"),
    Column("DESCRIPTION", "description", optional=True),
    Column("EXPORT", "export_name", optional=True),
]
DRIFT_COLUMNS = [
    Column("LOGICAL ID", "logical_id", no_wrap=True),
    Column("NAME", "physical_name"),
    Column("STATUS", "status", no_wrap=True),
    Column("PROPERTIES", "properties"),
]
CHANGE_SET_COLUMNS = [
    Column("NAME", "name", no_wrap=True),
    Column("STATUS", "status", no_wrap=True),
    Column("CHANGES", lambda row: len(row.get("changes") or []), no_wrap=True),
    Column("CREATED", lambda row: render.when(row.get("created_at")), optional=True),
    Column("EXECUTED", lambda row: render.when(row.get("executed_at")), optional=True),
]

NameArg = Annotated[str, typer.Argument(help="The stack's name.", show_default=False)]
ChangeSetArg = Annotated[str, typer.Argument(help="The change set's name.", show_default=False)]


def _path(name: str, *rest: str) -> str:
    return "/".join([BASE, segment(name), *(segment(part) for part in rest)])


def _changes(n: int) -> str:
    return "1 change" if n == 1 else f"{n} changes"


def changes_table(changes: list[Any]) -> None:
    if changes:
        render.table(changes, CHANGE_COLUMNS)
    else:
        render.done("no changes")


def show(data: Any) -> None:
    render.record(data, title=f"stack {data['name']}", nested=("parameters", "outputs"))


def _deployed(name: str, data: Any) -> None:
    changes_table(data["changes"])
    stack = data.get("stack")
    if stack is None:
        render.done(f"deleted stack {name}")
    else:
        render.done(f"stack {stack['name']}: {stack['status']} ({_changes(len(data['changes']))})")


@app.command()
def deploy(
    ctx: typer.Context,
    name: NameArg,
    template: TemplateFile,
    param: ParamPairs = None,
    as_json: JsonOutput = False,
) -> None:
    """Create or update a stack from a template: every resource changes, or none."""
    body = templates.package(template, pairs(param))
    render.output(as_json, api(ctx).put(_path(name), body), lambda d: _deployed(name, d))


@app.command()
def diff(
    ctx: typer.Context,
    name: NameArg,
    template: TemplateFile,
    param: ParamPairs = None,
    change_set: Annotated[
        str | None,
        typer.Option("--change-set", help="Name the change set (default: diff-<UTC timestamp>)."),
    ] = None,
    execute: Annotated[bool, typer.Option("--execute", help="Apply the change set once made.")] = False,
    as_json: JsonOutput = False,
) -> None:
    """Preview what deploying a template would change (a change set); --execute applies exactly that."""
    client = api(ctx)
    chosen = change_set or time.strftime("diff-%Y%m%d-%H%M%S", time.gmtime())
    body = {"name": chosen, **templates.package(template, pairs(param))}
    data = client.post(_path(name, "change-sets"), body)
    if execute:
        client.post(_path(name, "change-sets", chosen, "execute"))
        data = client.get(_path(name, "change-sets", chosen))

    def human(d: Any) -> None:
        render.done(f"change set {d['name']} of stack {name}: {_changes(len(d['changes']))}")
        changes_table(d["changes"])
        if execute:
            stack = client.get(_path(name))
            render.done(f"executed: stack {name} is {stack['status']}")
        else:
            render.stderr().print(f"apply it: silo stacks execute {name} {d['name']}")

    render.output(as_json, data, human)


@app.command()
def execute(ctx: typer.Context, name: NameArg, change_set: ChangeSetArg, as_json: JsonOutput = False) -> None:
    """Apply a change set made by diff: exactly the changes it previewed."""
    data = api(ctx).post(_path(name, "change-sets", change_set, "execute"))
    render.output(as_json, data, lambda d: _deployed(name, d))


@app.command("change-sets")
def change_sets(ctx: typer.Context, name: NameArg, as_json: JsonOutput = False) -> None:
    """List a stack's change sets, oldest first."""
    data = api(ctx).get(_path(name, "change-sets"))
    render.output(as_json, data, lambda d: render.page(d, CHANGE_SET_COLUMNS, noun="change sets"))


@app.command("list")
def list_(
    ctx: typer.Context,
    limit: Limit = None,
    all_pages: AllPages = False,
    next_token: NextToken = None,
    as_json: JsonOutput = False,
) -> None:
    """List the stacks of your account."""
    data = api(ctx).pages(BASE, limit=limit, next_token=next_token, all_pages=all_pages)
    render.output(as_json, data, lambda d: render.page(d, STACK_COLUMNS, noun="stacks"))


@app.command()
def get(ctx: typer.Context, name: NameArg, as_json: JsonOutput = False) -> None:
    """Show a stack: status, parameters, outputs."""
    render.output(as_json, api(ctx).get(_path(name)), show)


@app.command()
def delete(ctx: typer.Context, name: NameArg, as_json: JsonOutput = False) -> None:
    """Delete a stack and every resource it manages."""
    api(ctx).delete(_path(name))
    render.output(as_json, {"deleted": name}, lambda _: render.done(f"deleted stack {name}"))


@app.command()
def events(
    ctx: typer.Context,
    name: NameArg,
    limit: Limit = None,
    all_pages: AllPages = False,
    next_token: NextToken = None,
    as_json: JsonOutput = False,
) -> None:
    """A stack's events, newest first."""
    data = api(ctx).pages(_path(name, "events"), limit=limit, next_token=next_token, all_pages=all_pages)
    render.output(as_json, data, lambda d: render.page(d, EVENT_COLUMNS, noun="events"))


@app.command()
def resources(ctx: typer.Context, name: NameArg, as_json: JsonOutput = False) -> None:
    """The resources a stack manages (NOT_RUNNABLE: recorded, not created yet)."""
    data = api(ctx).get(_path(name, "resources"))
    render.output(as_json, data, lambda d: render.page(d, RESOURCE_COLUMNS, noun="resources"))


@app.command()
def outputs(ctx: typer.Context, name: NameArg, as_json: JsonOutput = False) -> None:
    """A stack's outputs (--json: the outputs object)."""
    data = api(ctx).get(_path(name))["outputs"]

    def human(d: Any) -> None:
        rows = [{"name": key, **value} for key, value in d.items()]
        if rows:
            render.table(rows, OUTPUT_COLUMNS)
        else:
            render.done(f"stack {name} has no outputs")

    render.output(as_json, data, human)


@app.command()
def drift(ctx: typer.Context, name: NameArg, as_json: JsonOutput = False) -> None:
    """Resources changed or deleted outside the stack since it last wrote them."""
    data = api(ctx).get(_path(name, "drift"))

    def human(d: Any) -> None:
        if not d["drifted"]:
            render.done(f"no drift: every resource of {name} is as the stack last wrote it")
        else:
            render.table(d["items"], DRIFT_COLUMNS)

    render.output(as_json, data, human)


@app.command()
def template(ctx: typer.Context, name: NameArg, as_json: JsonOutput = False) -> None:
    """Print the template a stack was last deployed from."""
    data = api(ctx).get(_path(name, "template"))
    render.output(as_json, data, lambda d: typer.echo(d["template"], nl=not d["template"].endswith("\n")))
