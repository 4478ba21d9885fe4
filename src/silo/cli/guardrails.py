"""``silo guardrails``: deny policies attached to OUs or accounts (management key)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from silo.cli import render
from silo.cli.client import api
from silo.cli.options import JsonOutput
from silo.cli.render import Column

app = typer.Typer(
    no_args_is_help=True, help="Guardrails: deny policies on OUs and accounts (management key)."
)

BASE = "/v1/mgmt/guardrails"

COLUMNS = [
    Column("ID", "policy_id", no_wrap=True),
    Column("NAME", "name"),
    Column("DESCRIPTION", "description"),
    Column("TARGETS", "targets"),
    Column("UPDATED", lambda row: render.when(row.get("updated_at")), optional=True),
]
EFFECTIVE_COLUMNS = [
    Column("ID", "policy_id", no_wrap=True),
    Column("NAME", "name"),
    Column("ATTACHED TO", "target", no_wrap=True),
    Column("STATEMENTS", lambda row: _statements(row.get("document"))),
]

PolicyIdArg = Annotated[str, typer.Argument(help="The guardrail's policy id.", show_default=False)]
TargetArg = Annotated[str, typer.Argument(help="An OU id or an account id.", show_default=False)]
DocFile = Annotated[
    typer.FileText | None,
    typer.Option("--file", help="Read the policy document (JSON) from this file; '-' for stdin."),
]
DocText = Annotated[str | None, typer.Option("--document", help="The policy document as a JSON string.")]
Description = Annotated[str | None, typer.Option("--description", help="What the guardrail is for.")]


def _statements(document: Any) -> str:
    if isinstance(document, dict) and isinstance(document.get("Statement"), list):
        return str(len(document["Statement"]))
    return "-"


def _document(file: typer.FileText | None, text: str | None, *, required: bool) -> Any:
    """The policy document from --file or --document (exactly one; both are JSON)."""
    if file is not None and text is not None:
        raise typer.BadParameter("give --file or --document, not both", param_hint="'--document'")
    if file is None and text is None:
        if required:
            raise typer.BadParameter(
                "a policy document is needed: --file PATH or --document JSON", param_hint="'--file'"
            )
        return None
    source, hint = (file.read(), "'--file'") if file is not None else (text or "", "'--document'")
    try:
        return json.loads(source)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"not valid JSON: {exc}", param_hint=hint) from None


def show(data: Any) -> None:
    render.record(data, title=f"guardrail {data['policy_id']}")


@app.command()
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The guardrail's name.", show_default=False)],
    file: DocFile = None,
    document: DocText = None,
    description: Description = None,
    as_json: JsonOutput = False,
) -> None:
    """Create a guardrail from a policy document."""
    body: dict[str, Any] = {"name": name, "document": _document(file, document, required=True)}
    if description is not None:
        body["description"] = description
    render.output(as_json, api(ctx).post(BASE, body), show)


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonOutput = False) -> None:
    """List guardrails."""
    render.output(as_json, api(ctx).get(BASE), lambda d: render.page(d, COLUMNS, noun="guardrails"))


@app.command()
def describe(ctx: typer.Context, policy_id: PolicyIdArg, as_json: JsonOutput = False) -> None:
    """Show a guardrail and its document."""
    render.output(as_json, api(ctx).get(f"{BASE}/{policy_id}"), show)


@app.command()
def update(
    ctx: typer.Context,
    policy_id: PolicyIdArg,
    file: DocFile = None,
    document: DocText = None,
    description: Description = None,
    as_json: JsonOutput = False,
) -> None:
    """Replace a guardrail's document and/or description."""
    body: dict[str, Any] = {}
    new_document = _document(file, document, required=description is None)
    if new_document is not None:
        body["document"] = new_document
    if description is not None:
        body["description"] = description
    render.output(as_json, api(ctx).patch(f"{BASE}/{policy_id}", body), show)


@app.command()
def delete(ctx: typer.Context, policy_id: PolicyIdArg, as_json: JsonOutput = False) -> None:
    """Delete a guardrail (detach it first)."""
    api(ctx).delete(f"{BASE}/{policy_id}")
    render.output(as_json, {"deleted": policy_id}, lambda _: render.done(f"deleted guardrail {policy_id}"))


@app.command()
def attach(
    ctx: typer.Context, policy_id: PolicyIdArg, target_id: TargetArg, as_json: JsonOutput = False
) -> None:
    """Attach a guardrail to an OU (and so every account below it) or to one account."""
    render.output(as_json, api(ctx).post(f"{BASE}/{policy_id}/attach", {"target_id": target_id}), show)


@app.command()
def detach(
    ctx: typer.Context, policy_id: PolicyIdArg, target_id: TargetArg, as_json: JsonOutput = False
) -> None:
    """Detach a guardrail from an OU or account."""
    render.output(as_json, api(ctx).post(f"{BASE}/{policy_id}/detach", {"target_id": target_id}), show)


@app.command()
def effective(
    ctx: typer.Context,
    account_id: Annotated[
        str | None,
        typer.Argument(
            help="The account (management key). Omit it to see your own account's.", show_default=False
        ),
    ] = None,
    as_json: JsonOutput = False,
) -> None:
    """The guardrails that apply to an account, through its OUs or directly."""
    path = "/v1/account/guardrails" if account_id is None else f"/v1/mgmt/accounts/{account_id}/guardrails"
    render.output(as_json, api(ctx).get(path), lambda d: render.page(d, EFFECTIVE_COLUMNS, noun="guardrails"))
