"""``silo logs tail`` and ``silo functions metrics``: what a function printed, and what it measured."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Annotated, Any

import typer

from silo.cli import render
from silo.cli.client import ApiClient, api, segment
from silo.cli.options import JsonOutput
from silo.cli.render import Column

app = typer.Typer(no_args_is_help=True, help="Function logs (account or session key).")

BASE = "/v1/account/functions"
POLL_SECONDS = 1.0
FOLLOW_PAGE = 1000

NameArg = Annotated[str, typer.Argument(help="The function's name.", show_default=False)]


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.3f}"
    return render.plain(value)


def _line(event: dict[str, Any]) -> str:
    """One output line per line of the event (an event holds one invocation's output)."""
    prefix = f"{event.get('at')} {event.get('request_id') or '-'}"
    lines = str(event.get("message", "")).rstrip("\n").splitlines() or [""]
    return "\n".join(f"{prefix} {line}" for line in lines)


def _lines(data: Any) -> None:
    for event in data["items"]:
        typer.echo(_line(event))


@app.command()
def tail(
    ctx: typer.Context,
    function: NameArg,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=1000, help="How many of the newest events to show first.")
    ] = 100,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep polling for new events (every second) until Ctrl-C.")
    ] = False,
    follow_seconds: Annotated[
        float | None,
        typer.Option("--follow-seconds", min=0, help="With --follow: stop after this many seconds."),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print the API's JSON response; with --follow, one JSON object per event per line."
        ),
    ] = False,
) -> None:
    """Show a function's newest log events as TIMESTAMP REQUEST_ID MESSAGE lines."""
    client = api(ctx)
    path = f"{BASE}/{segment(function)}/logs"
    first = client.get(path, limit=limit)
    if not follow:
        render.output(as_json, first, _lines)
        return

    def emit(event: dict[str, Any]) -> None:
        typer.echo(json.dumps(event) if as_json else _line(event))

    _follow(client, path, first["items"], emit, follow_seconds)


def _follow(
    client: ApiClient,
    path: str,
    items: list[dict[str, Any]],
    emit: Callable[[dict[str, Any]], None],
    seconds: float | None,
) -> None:
    """Emit ``items``, then poll ``after=`` the last event id until Ctrl-C or ``seconds`` have passed."""
    end = None if seconds is None else time.monotonic() + seconds
    last: int | None = None
    try:
        while True:
            for event in items:
                emit(event)
                last = int(event["event_id"])
            if len(items) < FOLLOW_PAGE:  # caught up: wait before asking again
                left = POLL_SECONDS if end is None else min(POLL_SECONDS, end - time.monotonic())
                if left <= 0:
                    return
                time.sleep(left)
            items = client.get(path, after=last, limit=FOLLOW_PAGE)["items"]
    except KeyboardInterrupt:
        return


METRIC_COLUMNS = [
    Column("METRIC", "metric", no_wrap=True),
    Column("SUM", lambda row: _number(row.get("sum")), no_wrap=True),
    Column("COUNT", lambda row: _number(row.get("count")), no_wrap=True),
    Column("AVG", lambda row: _number(row.get("average")), no_wrap=True),
    Column("MAX", lambda row: _number(row.get("max")), no_wrap=True),
    Column("MIN", lambda row: _number(row.get("min")), no_wrap=True, optional=True),
]


def metrics(
    ctx: typer.Context,
    name: NameArg,
    minutes: Annotated[
        int, typer.Option("--minutes", min=1, max=1440, help="The window: the last N minutes.")
    ] = 60,
    as_json: JsonOutput = False,
) -> None:
    """Show a function's metrics (Invocations, Errors, Duration...) over the last --minutes."""
    data = api(ctx).get(f"{BASE}/{segment(name)}/metrics", minutes=minutes)
    render_metrics(as_json, data, f"no metrics for {name} in the last {minutes} minutes")


def render_metrics(as_json: bool, data: Any, empty: str) -> None:
    """A ``{"metrics": {name: datapoint}}`` answer: a table of one row per metric, or ``empty``."""

    def human(d: Any) -> None:
        rows = [{"metric": metric, **values} for metric, values in sorted(d["metrics"].items())]
        if not rows:
            render.done(empty)
        else:
            render.table(rows, METRIC_COLUMNS)

    render.output(as_json, data, human)
