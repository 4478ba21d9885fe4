"""``silo fleet``: the operations that roll stack sets out, live progress, events (management key)."""

from __future__ import annotations

import enum
from typing import Annotated, Any

import typer

from silo.cli import progress, render
from silo.cli.client import ApiClient, CliError, api, segment
from silo.cli.options import AllPages, JsonOutput, Limit, NextToken
from silo.cli.render import Column

app = typer.Typer(
    no_args_is_help=True,
    help="Fleet operations: list them, follow one live, stop one; the management events (management key).",
)

BASE = "/v1/mgmt/fleet"


class OperationStatus(enum.StrEnum):
    """An operation's status (``silo.fleet.OperationStatus``, not imported: the CLI starts light)."""

    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    STOPPING = "STOPPING"
    STOPPED = "STOPPED"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


OPEN = sorted(s.value for s in OperationStatus if s.value not in progress.FINISHED)

OPERATION_COLUMNS = [
    Column("ID", "operation_id", no_wrap=True),
    Column("STACK SET", "stack_set"),
    Column("ACTION", "action", no_wrap=True),
    Column("STATUS", "status", no_wrap=True),
    Column("VERSION", "version", no_wrap=True),
    Column("WAVES", "waves", no_wrap=True, optional=True),
    Column("CREATED", lambda row: render.when(row.get("created_at")), optional=True),
    Column("REASON", "status_reason", optional=True),
]
EVENT_COLUMNS = [
    Column("AT", lambda row: render.when(row.get("at")), no_wrap=True),
    Column("TYPE", "detail_type"),
    Column("STACK SET", lambda row: (row.get("detail") or {}).get("stack_set")),
    Column("STATUS", lambda row: (row.get("detail") or {}).get("status"), no_wrap=True),
    Column(
        "DETAIL",
        lambda row: {
            k: v for k, v in (row.get("detail") or {}).items() if k not in {"stack_set", "status", "action"}
        },
    ),
]

OperationArg = Annotated[str, typer.Argument(help="The operation id.", show_default=False)]
Interval = Annotated[
    float, typer.Option("--interval", min=0.05, max=60, help="With --watch: seconds between refreshes.")
]


def show_operation(as_json: bool, data: Any, *, hint: bool = False) -> None:
    """An operation as a panel; with ``hint``, how to follow it (on stderr)."""

    def human(d: Any) -> None:
        shown = dict(d)
        shown["preferences"] = render.plain(d.get("preferences"))
        render.record(shown, title=f"operation {d['operation_id']}")
        if hint and d.get("status") not in progress.FINISHED:
            render.stderr().print(f"follow it: silo fleet status {d['operation_id']} --watch")

    render.output(as_json, data, human)


def follow(client: ApiClient, operation_id: str, *, watch: bool, interval: float, as_json: bool) -> None:
    """Print an operation's progress: once, or (``watch``) until it finishes, live on a terminal."""
    path = f"{BASE}/operations/{segment(operation_id)}/progress"

    def fetch() -> dict[str, Any]:
        found: dict[str, Any] = client.get(path)
        return found

    live = watch and not as_json and render.stdout().is_terminal
    data = progress.watch(fetch, interval=interval, live=live) if watch else fetch()
    if live:
        return  # the live view left its final frame on the screen
    render.output(as_json, data, lambda d: render.stdout().print(progress.view(d)))


def _newest_open(client: ApiClient) -> str:
    """The newest operation not finished yet, else the newest one; CliError when there is none."""
    found = client.get(f"{BASE}/operations", status=OPEN, limit=1)["items"]
    if found:
        return str(found[0]["operation_id"])
    found = client.get(f"{BASE}/operations", limit=1)["items"]
    if not found:
        raise CliError("no fleet operations yet")
    newest = found[0]
    render.stderr().print(f"no open operation; showing the newest, {newest['operation_id']}")
    return str(newest["operation_id"])


@app.command()
def operations(
    ctx: typer.Context,
    stack_set: Annotated[
        str | None, typer.Argument(help="Only this stack set's operations.", show_default=False)
    ] = None,
    status: Annotated[
        list[OperationStatus] | None,
        typer.Option(
            "--status",
            case_sensitive=False,
            help="Only operations with this status (repeatable: any of them).",
        ),
    ] = None,
    limit: Limit = None,
    all_pages: AllPages = False,
    next_token: NextToken = None,
    as_json: JsonOutput = False,
) -> None:
    """List fleet operations, newest first, a page at a time (--next-token, --all)."""
    data = api(ctx).pages(
        f"{BASE}/operations",
        limit=limit,
        next_token=next_token,
        all_pages=all_pages,
        stack_set=stack_set,
        status=[s.value for s in status or []],
    )
    render.output(as_json, data, lambda d: render.page(d, OPERATION_COLUMNS, noun="operations"))


@app.command()
def status(
    ctx: typer.Context,
    operation_id: Annotated[
        str | None,
        typer.Argument(help="The operation (default: the newest open one).", show_default=False),
    ] = None,
    watch: Annotated[
        bool, typer.Option("--watch", "-w", help="Refresh live until the operation ends.")
    ] = False,
    interval: Interval = 0.5,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the progress document (with --watch: once it has ended).")
    ] = False,
) -> None:
    """An operation's progress: succeeded/failed/running/pending per wave, rate and ETA."""
    client = api(ctx)
    follow(client, operation_id or _newest_open(client), watch=watch, interval=interval, as_json=as_json)


@app.command()
def stop(ctx: typer.Context, operation_id: OperationArg, as_json: JsonOutput = False) -> None:
    """Stop an operation: the accounts it has not deployed yet are cancelled."""
    show_operation(as_json, api(ctx).post(f"{BASE}/operations/{segment(operation_id)}/stop"))


@app.command()
def events(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="How many of the newest.")] = 100,
    as_json: JsonOutput = False,
) -> None:
    """The management event bus: operation, wave and instance status changes, newest first."""
    data = api(ctx).get(f"{BASE}/events", limit=limit)
    render.output(as_json, data, lambda d: render.page(d, EVENT_COLUMNS, noun="events"))
