"""``silo workflows``: Amazon States Language state machines.

The state machines and executions of your account (``create``, ``start``, ``history``, ...) are in
:mod:`silo.cli.workflows_remote`, registered on this group below; they talk to the API.

``silo workflows run-local`` runs here, without a server or a key: the definition is checked, then
run to completion by :func:`silo.workflows.run_local`; its Task states call the functions of
``--functions-dir``, deployed in a throwaway embedded platform (:mod:`silo.cli.workflows_local`).
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Annotated, Any

import typer

from silo.cli import render, workflows_remote
from silo.cli.events import BAD_INPUT_EXIT, json_argument

app = typer.Typer(
    no_args_is_help=True,
    help="Workflows (Amazon States Language): state machines and executions of your account (account or "
    "session key); run-local without a server.",
)


def json_value(value: str) -> Any:
    """An option's JSON value, or with ``@path`` the JSON in that file."""
    text = json_argument(value)
    try:
        return json.loads(text)
    except ValueError as exc:
        raise typer.BadParameter(f"not JSON: {exc}") from None


DefinitionFile = Annotated[
    Path,
    typer.Argument(
        exists=True,
        dir_okay=False,
        readable=True,
        help="The state machine definition (Amazon States Language, JSON).",
        show_default=False,
    ),
]
ExecutionInput = Annotated[
    Any,
    typer.Option(
        "--input",
        metavar="JSON|@FILE",
        parser=json_value,
        help="The execution's input, as JSON; @path reads it from a file.",
    ),
]
FunctionsDir = Annotated[
    Path | None,
    typer.Option(
        "--functions-dir",
        exists=True,
        file_okay=False,
        help="Deploy each subdirectory as a function named after it (handler app.handler, or as its "
        "function.json says: handler, timeout, memory_size, environment) for Task states to call.",
        show_default=False,
    ),
]
JsonSummary = Annotated[
    bool, typer.Option("--json", help='Print one JSON object: {"status", "output", "error", "cause"}.')
]


@app.command("run-local")
def run_local(
    definition: DefinitionFile,
    input: ExecutionInput = "{}",
    functions_dir: FunctionsDir = None,
    as_json: JsonSummary = False,
) -> None:
    """Run a definition to completion here, in a throwaway embedded platform, without a server.

    A Task's Resource names a function of --functions-dir: NAME,
    arn:silo:lambda:local:ACCOUNT:function:NAME (or arn:aws:lambda:...),
    or arn:aws:states:::lambda:invoke with FunctionName and Payload.
    Waits and retry delays take no time.

    Exit code 0 whenever the execution ran (SUCCEEDED or FAILED);
    2 for a definition that does not validate (the error names its JSON path) or bad --input.
    """
    from silo.cli.workflows_local import local_functions, no_functions
    from silo.workflows import InvalidDefinition, parse_definition
    from silo.workflows import run_local as run

    try:
        machine = parse_definition(definition.read_text(encoding="utf-8"))
    except InvalidDefinition as exc:
        typer.echo(f"error: {exc.code}: {exc.message}", err=True)
        raise typer.Exit(BAD_INPUT_EXIT) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise typer.BadParameter(f"cannot read {definition}: {exc}", param_hint="'DEFINITION'") from None
    tasks: AbstractContextManager[Any] = (
        nullcontext(no_functions) if functions_dir is None else local_functions(functions_dir)
    )
    with tasks as handler:
        outcome = run(machine, input, handler)
    if as_json:
        typer.echo(json.dumps(outcome))
    else:
        render.record({**outcome, "output": json.dumps(outcome["output"])}, title="execution")


app.command("create")(workflows_remote.create)
app.command("update")(workflows_remote.update)
app.command("delete")(workflows_remote.delete)
app.command("describe")(workflows_remote.describe)
app.command("list")(workflows_remote.list_)
app.command("start")(workflows_remote.start)
app.command("describe-execution")(workflows_remote.describe_execution)
app.command("executions")(workflows_remote.executions)
app.command("history")(workflows_remote.history)
app.command("stop")(workflows_remote.stop)
app.command("redrive")(workflows_remote.redrive)
app.command("send-task-success")(workflows_remote.send_task_success)
app.command("send-task-failure")(workflows_remote.send_task_failure)
app.command("send-task-heartbeat")(workflows_remote.send_task_heartbeat)
