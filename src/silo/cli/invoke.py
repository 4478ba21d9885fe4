"""``silo invoke`` (also ``silo functions invoke``): run a function and print what it returned.

The payload goes to the API as given (raw JSON bytes). A sync invocation prints the function's
result; when the function failed (``X-Silo-Function-Error``) it prints the error document on stdout
and exits 1, like any other error.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any

import typer

from silo.cli import render
from silo.cli.client import CliError, api, segment
from silo.cli.options import JsonOutput

BASE = "/v1/account/functions"


def _json_payload(value: str | None) -> str | None:
    if value is not None:
        try:
            json.loads(value)
        except ValueError as exc:
            raise typer.BadParameter(f"not valid JSON: {exc}") from None
    return value


Payload = Annotated[
    str | None,
    typer.Option("--payload", callback=_json_payload, help="The event, as a JSON document (default {})."),
]
PayloadFile = Annotated[
    typer.FileBinaryRead | None,
    typer.Option("--payload-file", help="Read the event (JSON) from this file; '-' for stdin."),
]


def _body(payload: str | None, payload_file: typer.FileBinaryRead | None) -> bytes | None:
    """The raw payload from --payload or --payload-file (at most one; checked to be JSON)."""
    if payload is not None and payload_file is not None:
        raise typer.BadParameter("give --payload or --payload-file, not both", param_hint="'--payload'")
    if payload is not None:
        return payload.encode()
    if payload_file is None:
        return None
    data = payload_file.read()
    try:
        json.loads(data)
    except ValueError as exc:
        raise typer.BadParameter(f"not valid JSON: {exc}", param_hint="'--payload-file'") from None
    return data


def _decoded(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def invoke(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The function's name.", show_default=False)],
    payload: Payload = None,
    payload_file: PayloadFile = None,
    async_: Annotated[
        bool, typer.Option("--async", help="Queue the event (Event) and print its invocation id.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only check that the function could be invoked (DryRun).")
    ] = False,
    qualifier: Annotated[
        str | None, typer.Option("--qualifier", help="A version number, an alias, or $LATEST (default).")
    ] = None,
    log_tail: Annotated[
        bool, typer.Option("--log-tail", help="Print the end of the invocation's log on stderr.")
    ] = False,
    as_json: JsonOutput = False,
) -> None:
    """Invoke a function with a JSON event and print its result (exit 1 when the function failed)."""
    if async_ and dry_run:
        raise typer.BadParameter("give --async or --dry-run, not both", param_hint="'--async'")
    body = _body(payload, payload_file)
    kind = "Event" if async_ else "DryRun" if dry_run else "RequestResponse"
    headers = {"Content-Type": "application/json", "X-Silo-Invocation-Type": kind}
    if log_tail:
        headers["X-Silo-Log-Type"] = "Tail"
    response = api(ctx).send(
        "POST",
        f"{BASE}/{segment(name)}/invocations",
        content=body,
        params={"qualifier": qualifier},
        headers=headers,
    )
    if response.status_code == 204:
        result = {"function_name": name, "dry_run": "ok"}
        render.output(as_json, result, lambda _: render.done(f"{name} can be invoked (dry run)"))
        return
    if response.status_code == 202:
        render.emit_json(response.json())
        return
    log = response.headers.get("X-Silo-Log-Result")
    if log_tail and log:
        try:
            typer.echo(base64.b64decode(log).decode("utf-8", "replace").rstrip("\n"), err=True)
        except (binascii.Error, ValueError):
            typer.echo(f"(undecodable log result: {log[:80]})", err=True)
    data = _decoded(response.content)
    render.emit_json(data)
    failure = response.headers.get("X-Silo-Function-Error")
    if failure:
        error = data if isinstance(data, dict) else {}
        raise CliError(
            f"function {name} failed ({failure}): {error.get('errorType')}: {error.get('errorMessage')}"
        )
    if not as_json:
        version = response.headers.get("X-Silo-Executed-Version")
        request_id = response.headers.get("X-Silo-Request-Id")
        render.stderr().print(f"(version {version}, request {request_id})", style="dim", markup=False)
