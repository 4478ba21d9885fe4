"""``silo functions``: deploy, configure and inspect the functions of your account (account key).

Functions live in member accounts, so these commands use ``/v1/account/functions``: run them with an
account key (``silo keys issue``) or a session key (``silo accounts assume``). Versions and aliases are
in ``function_versions``; ``invoke`` is shared with the top-level ``silo invoke``.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from silo.cli import function_versions, invoke, logs, render
from silo.cli.client import ApiClient, api, segment
from silo.cli.options import (
    AllPages,
    CodePath,
    EnvPairs,
    JsonOutput,
    Limit,
    NextToken,
    RequiredCodePath,
    TagPairs,
    code_body,
    pairs,
)
from silo.cli.render import Column

app = typer.Typer(
    no_args_is_help=True,
    help="Functions of your account: deploy, update, version, alias, invoke (account or session key).",
)

BASE = "/v1/account/functions"
ASYNC_FIELDS = ("max_retry_attempts", "max_event_age", "on_failure")

COLUMNS = [
    Column("NAME", "name", no_wrap=True),
    Column("RUNTIME", "runtime", no_wrap=True),
    Column("HANDLER", "handler"),
    Column("MEMORY", "memory_size", no_wrap=True),
    Column("TIMEOUT", "timeout", no_wrap=True),
    Column("VERSIONS", "last_version", no_wrap=True, optional=True),
    Column("CODE SIZE", "code_size", no_wrap=True, optional=True),
    Column("MODIFIED", lambda row: render.when(row.get("last_modified")), optional=True),
]

NameArg = Annotated[str, typer.Argument(help="The function's name.", show_default=False)]
Handler = Annotated[str | None, typer.Option("--handler", help="MODULE.FUNCTION, e.g. app.handler.")]
Runtime = Annotated[str | None, typer.Option("--runtime", help="The runtime (default: the server's).")]
Memory = Annotated[int | None, typer.Option("--memory", help="Memory in MB (128..10240; default 128).")]
Timeout = Annotated[int | None, typer.Option("--timeout", help="Timeout in seconds (1..900; default 3).")]
Description = Annotated[str | None, typer.Option("--description", help="What the function is for.")]
Reserved = Annotated[
    int | None,
    typer.Option("--reserved-concurrency", min=0, help="Concurrency reserved out of the account's limit."),
]
Retries = Annotated[
    int | None,
    typer.Option("--max-retry-attempts", min=0, help="Retries of a failed async invocation (default 2)."),
]
EventAge = Annotated[
    int | None,
    typer.Option("--max-event-age", min=1, help="Seconds an async event may wait (default 21600)."),
]
OnFailure = Annotated[
    str | None,
    typer.Option("--on-failure", help="A function of this account that gets async events that failed."),
]


def settings_body(
    *,
    handler: str | None,
    runtime: str | None,
    memory: int | None,
    timeout: int | None,
    env: list[str] | None,
    description: str | None,
    reserved_concurrency: int | None,
    tag: list[str] | None,
) -> dict[str, Any]:
    """The create/update fields that were given, under the API's names."""
    fields: dict[str, Any] = {
        "handler": handler,
        "runtime": runtime,
        "memory_size": memory,
        "timeout": timeout,
        "environment": pairs(env) if env else None,
        "description": description,
        "reserved_concurrency": reserved_concurrency,
        "tags": pairs(tag) if tag else None,
    }
    return {k: v for k, v in fields.items() if v is not None}


def async_changes(retries: int | None, event_age: int | None, on_failure: str | None) -> dict[str, Any]:
    """The async-invocation settings that were given (``on_failure`` as the API's object)."""
    changes: dict[str, Any] = {}
    if retries is not None:
        changes["max_retry_attempts"] = retries
    if event_age is not None:
        changes["max_event_age"] = event_age
    if on_failure is not None:
        changes["on_failure"] = {"function": on_failure}
    return changes


def show(data: Any) -> None:
    """A function (or a published version) as a key/value panel."""
    shown = dict(data)
    shown["last_modified"] = render.when(data.get("last_modified"))
    asyncc = data.get("async_config")
    if isinstance(asyncc, dict):
        target = (asyncc.get("on_failure") or {}).get("function")
        shown["async_config"] = (
            f"retries {asyncc.get('max_retry_attempts')}, max age {asyncc.get('max_event_age')}s, "
            f"on failure {target or '-'}"
        )
    render.record(shown, title=f"function {data['name']}:{data['version']}")


def _shown(as_json: bool, data: Any) -> None:
    render.output(as_json, data, show)


@app.command()
def create(
    ctx: typer.Context,
    name: NameArg,
    handler: Annotated[str, typer.Option("--handler", help="MODULE.FUNCTION, e.g. app.handler.")],
    code: RequiredCodePath,
    runtime: Runtime = None,
    memory: Memory = None,
    timeout: Timeout = None,
    env: EnvPairs = None,
    description: Description = None,
    reserved_concurrency: Reserved = None,
    tag: TagPairs = None,
    max_retry_attempts: Retries = None,
    max_event_age: EventAge = None,
    on_failure: OnFailure = None,
    as_json: JsonOutput = False,
) -> None:
    """Deploy a function from a directory or a .zip file."""
    body = settings_body(
        handler=handler,
        runtime=runtime,
        memory=memory,
        timeout=timeout,
        env=env,
        description=description,
        reserved_concurrency=reserved_concurrency,
        tag=tag,
    )
    asyncc = async_changes(max_retry_attempts, max_event_age, on_failure)
    if asyncc:
        body["async_config"] = asyncc
    _shown(as_json, api(ctx).post(BASE, {"name": name, "code": code_body(code), **body}))


@app.command()
def update(
    ctx: typer.Context,
    name: NameArg,
    handler: Handler = None,
    code: CodePath = None,
    runtime: Runtime = None,
    memory: Memory = None,
    timeout: Timeout = None,
    env: EnvPairs = None,
    description: Description = None,
    reserved_concurrency: Reserved = None,
    clear_reserved_concurrency: Annotated[
        bool, typer.Option("--clear-reserved-concurrency", help="Drop the function's reservation.")
    ] = False,
    tag: TagPairs = None,
    max_retry_attempts: Retries = None,
    max_event_age: EventAge = None,
    on_failure: OnFailure = None,
    as_json: JsonOutput = False,
) -> None:
    """Change $LATEST: its settings (PATCH) and, with --code, its code. --env and --tag replace all."""
    if clear_reserved_concurrency and reserved_concurrency is not None:
        raise typer.BadParameter(
            "give --reserved-concurrency or --clear-reserved-concurrency, not both",
            param_hint="'--clear-reserved-concurrency'",
        )
    client = api(ctx)
    body = settings_body(
        handler=handler,
        runtime=runtime,
        memory=memory,
        timeout=timeout,
        env=env,
        description=description,
        reserved_concurrency=reserved_concurrency,
        tag=tag,
    )
    if clear_reserved_concurrency:
        body["clear_reserved_concurrency"] = True
    asyncc = async_changes(max_retry_attempts, max_event_age, on_failure)
    if asyncc:
        body["async_config"] = _merged_async(client, name, asyncc)
    if not body and code is None:
        raise typer.BadParameter("nothing to change: give --code or a setting", param_hint="'--code'")
    data: Any = None
    if body:
        data = client.patch(f"{BASE}/{segment(name)}", body)
    if code is not None:
        data = client.put(f"{BASE}/{segment(name)}/code", code_body(code))
    _shown(as_json, data)


def _merged_async(client: ApiClient, name: str, changes: dict[str, Any]) -> dict[str, Any]:
    """The API replaces async_config whole: keep the settings that were not given."""
    current = client.get(f"{BASE}/{segment(name)}")["async_config"]
    return {**{k: current.get(k) for k in ASYNC_FIELDS}, **changes}


@app.command()
def get(ctx: typer.Context, name: NameArg, as_json: JsonOutput = False) -> None:
    """Show a function's $LATEST configuration."""
    _shown(as_json, api(ctx).get(f"{BASE}/{segment(name)}"))


@app.command("list")
def list_(
    ctx: typer.Context,
    limit: Limit = None,
    all_pages: AllPages = False,
    next_token: NextToken = None,
    as_json: JsonOutput = False,
) -> None:
    """List the functions of your account."""
    data = api(ctx).pages(BASE, limit=limit, next_token=next_token, all_pages=all_pages)
    render.output(as_json, data, lambda d: render.page(d, COLUMNS, noun="functions"))


@app.command()
def delete(ctx: typer.Context, name: NameArg, as_json: JsonOutput = False) -> None:
    """Delete a function with all its versions and aliases."""
    api(ctx).delete(f"{BASE}/{segment(name)}")
    render.output(as_json, {"deleted": name}, lambda _: render.done(f"deleted function {name}"))


app.command("publish")(function_versions.publish)
app.command("versions")(function_versions.versions)
app.command("aliases")(function_versions.aliases)
app.command("alias-create")(function_versions.alias_create)
app.command("alias-update")(function_versions.alias_update)
app.command("alias-delete")(function_versions.alias_delete)
app.command("metrics")(logs.metrics)
app.command("invoke")(invoke.invoke)
