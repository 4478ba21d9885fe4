"""``silo workflows create|start|history|...``: state machines and executions of your account, through
the API (``/v1/account/workflows``; an account or session key).

Registered on the ``silo workflows`` group by ``silo.cli.workflows``. State machines are named by name
or ARN, executions by the ARN ``start`` prints. Definitions, inputs and outputs are JSON, or ``@path``
for the JSON in a file; what is not JSON is a usage error (exit 2), a definition that does not
validate is the server's ``InvalidDefinition`` naming its JSON path (exit 1).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from silo.cli import render
from silo.cli.client import api, segment
from silo.cli.events import json_argument
from silo.cli.options import AllPages, JsonOutput, Limit, NextToken
from silo.cli.render import Column

BASE = "/v1/account/workflows"
STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


def parse_json(value: str) -> Any:
    """An option's JSON value, or with ``@path`` the JSON in that file."""
    text = json_argument(value)
    try:
        return json.loads(text)
    except ValueError as exc:
        raise typer.BadParameter(f"not JSON: {exc}") from None


def _json_text(value: str | None) -> str | None:
    """``--input``: JSON text (``@path`` read), checked here so a typo is a usage error."""
    if value is None:
        return None
    parse_json(value)
    return json_argument(value)


def _status(value: str | None) -> str | None:
    if value is not None and value.upper() not in STATUSES:
        raise typer.BadParameter(f"one of {', '.join(STATUSES)}; got {value!r}")
    return None if value is None else value.upper()


def _details(value: Any) -> str:
    return json.dumps(value) if value else ""


MACHINE_COLUMNS = [
    Column("NAME", "name", no_wrap=True),
    Column("DESCRIPTION", "description"),
    Column("UPDATED", lambda row: render.when(row.get("updated_at")), no_wrap=True),
    Column("STACK", "managed_by", optional=True),
    Column("ARN", "arn", no_wrap=True, optional=True),
]
EXECUTION_COLUMNS = [
    Column("NAME", "name", no_wrap=True),
    Column("STATUS", "status", no_wrap=True),
    Column("STARTED", lambda row: render.when(row.get("started_at")), no_wrap=True),
    Column("STOPPED", lambda row: render.when(row.get("stopped_at")), no_wrap=True),
    Column("ERROR", "error", optional=True),
    Column("ARN", "arn", no_wrap=True, optional=True),
]
HISTORY_COLUMNS = [
    Column("ID", "id", no_wrap=True),
    Column("TYPE", "type", no_wrap=True),
    Column("TIME", lambda row: render.when(row.get("timestamp")), no_wrap=True),
    Column("DETAILS", lambda row: _details(row.get("details")), optional=True),
]

MachineArg = Annotated[str, typer.Argument(help="The state machine: its name or ARN.", show_default=False)]
ExecutionArg = Annotated[
    str, typer.Argument(help="The execution's ARN (as `start` prints it).", show_default=False)
]
TokenArg = Annotated[str, typer.Argument(help="The task token ($$.Task.Token).", show_default=False)]
DefinitionOpt = Annotated[
    Any,
    typer.Option(
        "--definition",
        metavar="JSON|@FILE",
        parser=parse_json,
        help="The Amazon States Language definition, as JSON; @path reads it from a file.",
        show_default=False,
    ),
]
Description = Annotated[str, typer.Option("--description", help="What it is for (up to 256 characters).")]
ErrorOpt = Annotated[str | None, typer.Option("--error", help="An error name (up to 256 characters).")]
CauseOpt = Annotated[str | None, typer.Option("--cause", help="Why (up to 32768 characters).")]


def _execution(arn: str, *rest: str) -> str:
    return "/".join([BASE, "executions", segment(arn), *rest])


def _machine(name: str, *rest: str) -> str:
    return "/".join([BASE, "state-machines", segment(name), *rest])


def _show_machine(data: Any) -> None:
    render.record(data, title=f"state machine {data['name']}", nested=("definition",))


def _show_execution(data: Any) -> None:
    render.record(
        data, title=f"execution {data['name']} of {data['state_machine']}", nested=("input", "output")
    )


def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="1-80 letters, digits, '-' or '_'.", show_default=False)],
    definition: DefinitionOpt,
    description: Description = "",
    as_json: JsonOutput = False,
) -> None:
    """Create a state machine (the server checks the definition and names the JSON path of a problem)."""
    body = {"name": name, "definition": definition, "description": description}
    render.output(as_json, api(ctx).post(f"{BASE}/state-machines", body), _show_machine)


def update(
    ctx: typer.Context,
    name: MachineArg,
    definition: DefinitionOpt,
    description: Description = "",
    as_json: JsonOutput = False,
) -> None:
    """Replace a state machine's definition and description (running executions keep theirs)."""
    body = {"definition": definition, "description": description}
    render.output(as_json, api(ctx).put(_machine(name), body), _show_machine)


def delete(ctx: typer.Context, name: MachineArg, as_json: JsonOutput = False) -> None:
    """Delete a state machine (executions still running finish)."""
    api(ctx).delete(_machine(name))
    render.output(as_json, {"deleted": name}, lambda _: render.done(f"deleted state machine {name}"))


def describe(ctx: typer.Context, name: MachineArg, as_json: JsonOutput = False) -> None:
    """Show a state machine, with its definition."""
    render.output(as_json, api(ctx).get(_machine(name)), _show_machine)


def list_(
    ctx: typer.Context,
    limit: Limit = None,
    all_pages: AllPages = False,
    next_token: NextToken = None,
    as_json: JsonOutput = False,
) -> None:
    """List your account's state machines."""
    data = api(ctx).pages(f"{BASE}/state-machines", limit=limit, next_token=next_token, all_pages=all_pages)
    render.output(as_json, data, lambda d: render.page(d, MACHINE_COLUMNS, noun="state machines"))


def start(
    ctx: typer.Context,
    name: MachineArg,
    input_: Annotated[
        str | None,
        typer.Option(
            "--input",
            metavar="JSON|@FILE",
            callback=_json_text,
            help="The execution's input, as JSON (default {}); @path reads it from a file.",
            show_default=False,
        ),
    ] = None,
    execution_name: Annotated[
        str | None,
        typer.Option("--name", help="The execution's name (default a UUID); unique per state machine."),
    ] = None,
    as_json: JsonOutput = False,
) -> None:
    """Start an execution and print it (RUNNING, or already finished if nothing had to wait)."""
    body: dict[str, Any] = {"name": execution_name}
    if input_ is not None:
        body["input"] = json.loads(input_)
    render.output(as_json, api(ctx).post(_machine(name, "executions"), body), _show_execution)


def describe_execution(ctx: typer.Context, arn: ExecutionArg, as_json: JsonOutput = False) -> None:
    """Show an execution: its status, input, output or error."""
    render.output(as_json, api(ctx).get(_execution(arn)), _show_execution)


def executions(
    ctx: typer.Context,
    name: MachineArg,
    status: Annotated[
        str | None,
        typer.Option("--status", callback=_status, help="Only these: " + ", ".join(STATUSES) + "."),
    ] = None,
    limit: Limit = None,
    all_pages: AllPages = False,
    next_token: NextToken = None,
    as_json: JsonOutput = False,
) -> None:
    """List a state machine's executions, newest first."""
    data = api(ctx).pages(
        _machine(name, "executions"), limit=limit, next_token=next_token, all_pages=all_pages, status=status
    )
    render.output(as_json, data, lambda d: render.page(d, EXECUTION_COLUMNS, noun="executions"))


def history(
    ctx: typer.Context,
    arn: ExecutionArg,
    reverse: Annotated[bool, typer.Option("--reverse", help="Newest event first.")] = False,
    limit: Limit = None,
    all_pages: AllPages = False,
    next_token: NextToken = None,
    as_json: JsonOutput = False,
) -> None:
    """An execution's history events, oldest first."""
    data = api(ctx).pages(
        _execution(arn, "history"),
        limit=limit,
        next_token=next_token,
        all_pages=all_pages,
        reverse=reverse or None,
    )
    render.output(as_json, data, lambda d: render.page(d, HISTORY_COLUMNS, noun="history events"))


def stop(
    ctx: typer.Context,
    arn: ExecutionArg,
    error: ErrorOpt = None,
    cause: CauseOpt = None,
    as_json: JsonOutput = False,
) -> None:
    """Stop a running execution: it becomes ABORTED."""
    data = api(ctx).post(_execution(arn, "stop"), {"error": error, "cause": cause})
    render.output(as_json, data, lambda d: render.done(f"stopped {arn} at {render.when(d['stopped_at'])}"))


def redrive(ctx: typer.Context, arn: ExecutionArg, as_json: JsonOutput = False) -> None:
    """Run a FAILED, TIMED_OUT or ABORTED execution on from the state where it stopped."""
    data = api(ctx).post(_execution(arn, "redrive"))
    render.output(as_json, data, lambda d: render.done(f"redriven {arn} at {render.when(d['redriven_at'])}"))


def send_task_success(
    ctx: typer.Context,
    token: TokenArg,
    output: Annotated[
        Any,
        typer.Option(
            "--output",
            metavar="JSON|@FILE",
            parser=parse_json,
            help="The task's result, as JSON; @path reads it from a file.",
            show_default=False,
        ),
    ],
    as_json: JsonOutput = False,
) -> None:
    """Answer a task waiting for its token (.waitForTaskToken): it succeeds with --output."""
    _callback(ctx, "success", {"task_token": token, "output": output}, as_json)


def send_task_failure(
    ctx: typer.Context,
    token: TokenArg,
    error: ErrorOpt = None,
    cause: CauseOpt = None,
    as_json: JsonOutput = False,
) -> None:
    """Answer a task waiting for its token: it fails with --error (which Retry and Catch match)."""
    _callback(ctx, "failure", {"task_token": token, "error": error or "", "cause": cause or ""}, as_json)


def send_task_heartbeat(ctx: typer.Context, token: TokenArg, as_json: JsonOutput = False) -> None:
    """Tell a waiting task (with HeartbeatSeconds) that its work is still going on."""
    _callback(ctx, "heartbeat", {"task_token": token}, as_json)


def _callback(ctx: typer.Context, kind: str, body: dict[str, Any], as_json: bool) -> None:
    api(ctx).post(f"{BASE}/send-task-{kind}", body)
    render.output(as_json, {"sent": kind}, lambda _: render.done(f"sent task {kind}"))
