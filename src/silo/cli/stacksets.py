"""``silo stacksets``: one template rolled out to many accounts (management key).

A stack set holds a template, its parameters and its code; its instances are the accounts it is
deployed to, chosen by id, OU (recursively) or tags. Adding, updating and removing instances (and
updating the stack set) each start an operation: follow it with ``silo fleet status`` or ``--watch``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from silo.cli import fleet, render, templates
from silo.cli.client import api, segment
from silo.cli.options import (
    AllPages,
    JsonOutput,
    Limit,
    NextToken,
    OverridePairs,
    ParamPairs,
    TemplateFile,
    pairs,
)
from silo.cli.render import Column
from silo.cli.rollout import (
    AccountTargets,
    ConcurrencyMode,
    FailureTolerance,
    MaxAttempts,
    MaxConcurrent,
    OuTargets,
    TagTargets,
    Watch,
    WaveJson,
    preferences_body,
    required_targets,
    targets_body,
    waves_body,
)

app = typer.Typer(
    no_args_is_help=True,
    help="Stack sets: one template deployed to many accounts, by id, OU or tag (management key).",
)

BASE = "/v1/mgmt/stack-sets"
POLL_SECONDS = 0.5

STACK_SET_COLUMNS = [
    Column("NAME", "name", no_wrap=True),
    Column("VERSION", "version", no_wrap=True),
    Column("STATUS", "status", no_wrap=True),
    Column("AUTO-DEPLOY", lambda row: (row.get("auto_deployment") or {}).get("enabled"), no_wrap=True),
    Column("DESCRIPTION", "description", optional=True),
    Column("UPDATED", lambda row: render.when(row.get("updated_at")), optional=True),
]
INSTANCE_COLUMNS = [
    Column("ACCOUNT", "account_id", no_wrap=True),
    Column("STATUS", "status", no_wrap=True),
    Column("VERSION", "version", no_wrap=True),
    Column("OVERRIDES", "overrides"),
    Column("REASON", "status_reason"),
    Column("UPDATED", lambda row: render.when(row.get("updated_at")), optional=True),
]

NameArg = Annotated[str, typer.Argument(help="The stack set's name.", show_default=False)]
Description = Annotated[str | None, typer.Option("--description", help="What the stack set is for.")]


def _auto(auto: Any) -> str:
    """``on, keeps stacks of leavers; OUs ou-1, ou-2`` from the API's ``auto_deployment``."""
    auto = auto or {}
    text = "on" if auto.get("enabled") else "off"
    if auto.get("enabled") and auto.get("retain_stacks_on_removal"):
        text += ", keeps the stacks of accounts that leave"
    if auto.get("ous"):
        text += "; targeted OUs " + ", ".join(auto["ous"])
    return text


def show(data: Any) -> None:
    shown = dict(data)
    shown["auto_deployment"] = _auto(data.get("auto_deployment"))
    render.record(shown, title=f"stack set {data['name']}", nested=("parameters",))


def _operation(ctx: typer.Context, data: Any, *, watch: bool, as_json: bool) -> None:
    """A queued operation: shown (with how to follow it), or followed live with --watch."""
    if watch:
        fleet.follow(api(ctx), data["operation_id"], watch=True, interval=POLL_SECONDS, as_json=as_json)
    else:
        fleet.show_operation(as_json, data, hint=True)


@app.command()
def create(
    ctx: typer.Context,
    name: NameArg,
    template: TemplateFile,
    param: ParamPairs = None,
    description: Description = None,
    auto_deployment: Annotated[
        bool, typer.Option("--auto-deployment", help="Deploy to accounts that join a targeted OU.")
    ] = False,
    retain_stacks_on_removal: Annotated[
        bool,
        typer.Option("--retain-stacks-on-removal", help="With auto-deployment: keep stacks of leavers."),
    ] = False,
    as_json: JsonOutput = False,
) -> None:
    """Create a stack set from a template (its code is packaged with it); then add instances."""
    body: dict[str, Any] = {"name": name, **templates.package(template, pairs(param))}
    if description is not None:
        body["description"] = description
    if auto_deployment:
        body["auto_deployment"] = True
    if retain_stacks_on_removal:
        body["retain_stacks_on_removal"] = True
    render.output(as_json, api(ctx).post(BASE, body), show)


@app.command()
def update(
    ctx: typer.Context,
    name: NameArg,
    template: Annotated[
        Path | None,
        typer.Option(
            "--template",
            "-t",
            exists=True,
            dir_okay=False,
            readable=True,
            help="A new template (its code is packaged with it); default: keep the current one.",
        ),
    ] = None,
    param: ParamPairs = None,
    description: Description = None,
    wave: WaveJson = None,
    max_concurrent: MaxConcurrent = None,
    failure_tolerance: FailureTolerance = None,
    mode: ConcurrencyMode = None,
    max_attempts: MaxAttempts = None,
    watch: Watch = False,
    as_json: JsonOutput = False,
) -> None:
    """Roll a new version out to every instance: a new template and/or parameters (merged)."""
    body: dict[str, Any] = {}
    if template is not None:
        body.update(templates.package(template, pairs(param)))
    elif param:
        body["parameters"] = pairs(param)
    if description is not None:
        body["description"] = description
    waves = waves_body(wave)
    if waves:
        body["waves"] = waves
    preferences = preferences_body(max_concurrent, failure_tolerance, mode, max_attempts)
    if preferences is not None:
        body["preferences"] = preferences
    _operation(ctx, api(ctx).patch(f"{BASE}/{segment(name)}", body), watch=watch, as_json=as_json)


@app.command()
def delete(ctx: typer.Context, name: NameArg, as_json: JsonOutput = False) -> None:
    """Delete a stack set that has no instances left (remove-instances first)."""
    api(ctx).delete(f"{BASE}/{segment(name)}")
    render.output(as_json, {"deleted": name}, lambda _: render.done(f"deleted stack set {name}"))


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonOutput = False) -> None:
    """List the stack sets."""
    render.output(as_json, api(ctx).get(BASE), lambda d: render.page(d, STACK_SET_COLUMNS, noun="stack sets"))


@app.command()
def get(ctx: typer.Context, name: NameArg, as_json: JsonOutput = False) -> None:
    """Show a stack set: version, parameters, auto-deployment."""
    render.output(as_json, api(ctx).get(f"{BASE}/{segment(name)}"), show)


@app.command("add-instances")
def add_instances(
    ctx: typer.Context,
    name: NameArg,
    account: AccountTargets = None,
    ou: OuTargets = None,
    tag: TagTargets = None,
    wave: WaveJson = None,
    override: OverridePairs = None,
    max_concurrent: MaxConcurrent = None,
    failure_tolerance: FailureTolerance = None,
    mode: ConcurrencyMode = None,
    max_attempts: MaxAttempts = None,
    watch: Watch = False,
    as_json: JsonOutput = False,
) -> None:
    """Deploy the stack set to accounts (--account/--ou/--tag), or in ordered --wave steps."""
    targets = targets_body(account, ou, tag)
    waves = waves_body(wave)
    if (targets is None) == (not waves):
        raise typer.BadParameter(
            "give targets (--account, --ou, --tag) or --wave, not both", param_hint="'--wave'"
        )
    body: dict[str, Any] = {"targets": targets} if targets is not None else {"waves": waves}
    if override:
        body["overrides"] = pairs(override)
    preferences = preferences_body(max_concurrent, failure_tolerance, mode, max_attempts)
    if preferences is not None:
        body["preferences"] = preferences
    data = api(ctx).post(f"{BASE}/{segment(name)}/instances", body)
    _operation(ctx, data, watch=watch, as_json=as_json)


@app.command("update-instances")
def update_instances(
    ctx: typer.Context,
    name: NameArg,
    account: AccountTargets = None,
    ou: OuTargets = None,
    tag: TagTargets = None,
    override: OverridePairs = None,
    max_concurrent: MaxConcurrent = None,
    failure_tolerance: FailureTolerance = None,
    mode: ConcurrencyMode = None,
    max_attempts: MaxAttempts = None,
    watch: Watch = False,
    as_json: JsonOutput = False,
) -> None:
    """Set the parameter overrides of some instances (they replace the old ones) and redeploy them."""
    body: dict[str, Any] = {"targets": required_targets(account, ou, tag), "overrides": pairs(override)}
    preferences = preferences_body(max_concurrent, failure_tolerance, mode, max_attempts)
    if preferences is not None:
        body["preferences"] = preferences
    data = api(ctx).patch(f"{BASE}/{segment(name)}/instances", body)
    _operation(ctx, data, watch=watch, as_json=as_json)


@app.command("remove-instances")
def remove_instances(
    ctx: typer.Context,
    name: NameArg,
    account: AccountTargets = None,
    ou: OuTargets = None,
    tag: TagTargets = None,
    retain_stacks: Annotated[
        bool, typer.Option("--retain-stacks", help="Leave the stacks in the accounts, unmanaged.")
    ] = False,
    max_concurrent: MaxConcurrent = None,
    failure_tolerance: FailureTolerance = None,
    mode: ConcurrencyMode = None,
    max_attempts: MaxAttempts = None,
    watch: Watch = False,
    as_json: JsonOutput = False,
) -> None:
    """Remove the stack set's stack from accounts (and its resources, unless --retain-stacks)."""
    body: dict[str, Any] = {"targets": required_targets(account, ou, tag)}
    if retain_stacks:
        body["retain_stacks"] = True
    preferences = preferences_body(max_concurrent, failure_tolerance, mode, max_attempts)
    if preferences is not None:
        body["preferences"] = preferences
    data = api(ctx).post(f"{BASE}/{segment(name)}/instances/delete", body)
    _operation(ctx, data, watch=watch, as_json=as_json)


@app.command()
def instances(
    ctx: typer.Context,
    name: NameArg,
    limit: Limit = None,
    all_pages: AllPages = False,
    next_token: NextToken = None,
    as_json: JsonOutput = False,
) -> None:
    """The accounts a stack set is deployed to, with each one's status and version."""
    data = api(ctx).pages(
        f"{BASE}/{segment(name)}/instances", limit=limit, next_token=next_token, all_pages=all_pages
    )
    render.output(as_json, data, lambda d: render.page(d, INSTANCE_COLUMNS, noun="instances"))
