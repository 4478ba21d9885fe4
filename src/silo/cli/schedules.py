"""``silo schedules``: EventBridge Scheduler schedules of your account (account key).

A schedule runs one function of your account on a ``rate``, ``cron`` or ``at`` expression, in a time
zone, optionally anywhere inside a flexible time window (``--window``), through the same durable
delivery, retries and dead-letter queue as event rules (``/v1/account/schedules``).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from silo.cli import render
from silo.cli.client import api, segment
from silo.cli.events import optional_json_argument
from silo.cli.options import AllPages, JsonOutput, Limit, NextToken
from silo.cli.render import Column

app = typer.Typer(
    no_args_is_help=True,
    help="Schedules of your account: run a function on a rate, cron or at expression (account key).",
)

BASE = "/v1/account/schedules"

COLUMNS = [
    Column("NAME", "name", no_wrap=True),
    Column("EXPRESSION", "expression", no_wrap=True),
    Column("TIMEZONE", "timezone", no_wrap=True),
    Column("STATE", "state", no_wrap=True),
    Column("TARGET", lambda row: (row.get("target") or {}).get("Arn")),
    Column("WINDOW", lambda row: _window(row.get("flexible_window")), no_wrap=True, optional=True),
    Column("GROUP", "group", no_wrap=True, optional=True),
]

NameArg = Annotated[str, typer.Argument(help="The schedule's name.", show_default=False)]
GroupOpt = Annotated[str, typer.Option("--group", help="The schedule group.")]


def _window(window: Any) -> str:
    minutes = (window or {}).get("MaximumWindowInMinutes")
    return f"{minutes} min" if minutes else "off"


def show(data: Any) -> None:
    shown = {**data, "flexible_window": _window(data.get("flexible_window"))}
    render.record(shown, title=f"schedule {data['group']}/{data['name']}", nested=("target",))


@app.command()
def put(
    ctx: typer.Context,
    name: NameArg,
    expression: Annotated[
        str,
        typer.Option("--expression", help="rate(5 minutes), cron(0 2 * * ? *) or at(2030-01-01T09:00:00)."),
    ],
    target_arn: Annotated[
        str, typer.Option("--target-arn", help="The function to run: its ARN (in your account).")
    ],
    input_: Annotated[
        str | None,
        typer.Option(
            "--input",
            callback=optional_json_argument,
            help="What the function receives, as JSON (@path reads it from a file).",
        ),
    ] = None,
    timezone: Annotated[str, typer.Option("--timezone", help="The time zone of cron and at.")] = "UTC",
    window: Annotated[
        int | None,
        typer.Option("--window", min=1, max=1440, help="A flexible time window of this many minutes."),
    ] = None,
    group: GroupOpt = "default",
    disabled: Annotated[
        bool, typer.Option("--disabled", help="Put the schedule DISABLED (otherwise it is ENABLED).")
    ] = False,
    description: Annotated[str, typer.Option("--description", help="What it is for.")] = "",
    as_json: JsonOutput = False,
) -> None:
    """Create or replace a schedule."""
    target: dict[str, Any] = {"Arn": target_arn}
    if input_ is not None:
        target["Input"] = input_
    body: dict[str, Any] = {
        "expression": expression,
        "target": target,
        "timezone": timezone,
        "group": group,
        "state": "DISABLED" if disabled else "ENABLED",
        "description": description,
    }
    if window is not None:
        body["flexible_window"] = {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": window}
    render.output(as_json, api(ctx).put(f"{BASE}/{segment(name)}", body), show)


@app.command("list")
def list_(
    ctx: typer.Context,
    group: GroupOpt = "default",
    limit: Limit = None,
    all_pages: AllPages = False,
    next_token: NextToken = None,
    as_json: JsonOutput = False,
) -> None:
    """List the schedules of a group."""
    data = api(ctx).pages(BASE, limit=limit, next_token=next_token, all_pages=all_pages, group=group)
    render.output(as_json, data, lambda d: render.page(d, COLUMNS, noun="schedules"))


@app.command()
def get(ctx: typer.Context, name: NameArg, group: GroupOpt = "default", as_json: JsonOutput = False) -> None:
    """Show a schedule."""
    render.output(as_json, api(ctx).get(f"{BASE}/{segment(name)}", group=group), show)


@app.command()
def delete(
    ctx: typer.Context, name: NameArg, group: GroupOpt = "default", as_json: JsonOutput = False
) -> None:
    """Delete a schedule."""
    api(ctx).request("DELETE", f"{BASE}/{segment(name)}", params={"group": group})
    render.output(as_json, {"deleted": name}, lambda _: render.done(f"deleted schedule {name}"))
