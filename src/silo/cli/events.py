"""``silo events``: event buses, rules, targets, PutEvents, rule metrics and patterns (account key).

Buses and rules live in member accounts (``/v1/account/events``): run these with an account key or a
session key (``silo accounts assume``). Targets and entries are JSON with EventBridge's field names
(``{"Id", "Arn", ...}``, ``{"Source", "DetailType", "Detail", ...}``), checked by the server.

``silo events test-pattern`` runs here, without a server or a key: the same pure check as
``POST /v1/account/events/test-pattern`` (``silo.events.sample_events``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from silo.cli import render
from silo.cli.client import api, segment
from silo.cli.logs import render_metrics
from silo.cli.options import AllPages, JsonOutput, Limit, NextToken
from silo.cli.render import Column

app = typer.Typer(
    no_args_is_help=True,
    help="Event buses, rules, targets and events of your account (account or session key); patterns.",
)
buses = typer.Typer(no_args_is_help=True, help="Event buses: create, list, describe, delete.")
rules = typer.Typer(no_args_is_help=True, help="Rules: an event pattern, a schedule, or both, on a bus.")
targets = typer.Typer(no_args_is_help=True, help="A rule's targets: functions and buses of your account.")
app.add_typer(buses, name="buses")
app.add_typer(rules, name="rules")
app.add_typer(targets, name="targets")

BASE = "/v1/account/events"

BAD_INPUT_EXIT = 2
"""The exit code for a pattern or event that is not valid (as for any other bad argument)."""


def json_argument(value: str) -> str:
    """An option's JSON text, or with ``@path`` the text of that file."""
    if not value.startswith("@"):
        return value
    path = Path(value[1:])
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise typer.BadParameter(f"{path} is not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc.strerror or exc}") from None


PatternJson = Annotated[
    str,
    typer.Option(
        "--pattern",
        callback=json_argument,
        help="The event pattern, as JSON; @path reads it from a file.",
        show_default=False,
    ),
]
EventJson = Annotated[
    str,
    typer.Option(
        "--event",
        callback=json_argument,
        help="The event, as JSON (id, account, source, time, region and detail-type are required); "
        "@path reads it from a file.",
        show_default=False,
    ),
]


@app.command("test-pattern")
def run_test_pattern(
    pattern: PatternJson,
    event: EventJson,
    as_json: Annotated[
        bool, typer.Option("--json", help="Accepted like everywhere; the answer is always JSON.")
    ] = False,
) -> None:
    """Check whether an event pattern matches an event, here, without a server or a key.

    Prints {"matches": true} or {"matches": false}. A pattern or event that is not valid is reported
    on stderr, naming what is wrong and where (e.g. error: InvalidEventPattern: detail.price[0]: ...),
    with exit code 2.
    """
    del as_json  # the output is one JSON document either way
    from silo.errors import ValidationError
    from silo.events.sample_events import pattern_matches

    try:
        matches = pattern_matches(pattern, event)
    except ValidationError as exc:
        typer.echo(f"error: {exc.code}: {exc.message}", err=True)
        raise typer.Exit(BAD_INPUT_EXIT) from None
    typer.echo(json.dumps({"matches": matches}))


# --- buses, rules, targets, events (through the API) --------------------------------------------
def optional_json_argument(value: str | None) -> str | None:
    """``json_argument`` for an option that may be left out."""
    return None if value is None else json_argument(value)


def json_arguments(values: list[str] | None) -> list[str] | None:
    """``json_argument`` for a repeatable option."""
    return [json_argument(value) for value in values or []]


def json_objects(values: list[str], option: str) -> list[Any]:
    """Each option's JSON value; a JSON list stands for its items (``@file`` holding a list)."""
    found: list[Any] = []
    for value in values:
        try:
            parsed = json.loads(value)
        except ValueError as exc:
            raise typer.BadParameter(f"not JSON: {exc}", param_hint=f"'{option}'") from None
        found.extend(parsed if isinstance(parsed, list) else [parsed])
    return found


def _compact(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


def _input(row: Any) -> str | None:
    for key in ("Input", "InputPath"):
        if row.get(key) is not None:
            return f"{key} {row[key]}"
    transformer = row.get("InputTransformer")
    return None if transformer is None else f"InputTransformer {_compact(transformer)}"


def _retry(key: str) -> Callable[[render.Row], Any]:
    return lambda row: (row.get("RetryPolicy") or {}).get(key)


BUS_COLUMNS = [
    Column("NAME", "name", no_wrap=True),
    Column("DESCRIPTION", "description"),
    Column("CREATED", lambda row: render.when(row.get("created_at")), optional=True),
    Column("ARN", "arn", no_wrap=True, optional=True),
]
RULE_COLUMNS = [
    Column("NAME", "name", no_wrap=True),
    Column("STATE", "state", no_wrap=True),
    Column("SCHEDULE", "schedule_expression", no_wrap=True),
    Column("PATTERN", lambda row: _compact(row.get("event_pattern"))),
    Column("DESCRIPTION", "description", optional=True),
    Column("STACK", "managed_by", optional=True),
]
TARGET_COLUMNS = [
    Column("ID", "Id", no_wrap=True),
    Column("ARN", "Arn", no_wrap=True),
    Column("INPUT", _input),
    Column("RETRIES", _retry("MaximumRetryAttempts"), no_wrap=True, optional=True),
    Column("MAX AGE", _retry("MaximumEventAgeInSeconds"), no_wrap=True, optional=True),
]
RESULT_COLUMNS = [
    Column("ENTRY", "entry", no_wrap=True),
    Column("EVENT ID", "EventId", no_wrap=True),
    Column("ERROR", "ErrorCode", no_wrap=True),
    Column("MESSAGE", "ErrorMessage"),
]

BusArg = Annotated[str, typer.Argument(help="The bus's name.", show_default=False)]
RuleArg = Annotated[str, typer.Argument(help="The rule's name.", show_default=False)]
BusOpt = Annotated[str, typer.Option("--bus", help="The event bus: a name, or an ARN of your account's.")]
Description = Annotated[str, typer.Option("--description", help="What it is for.")]


def _rule(name: str, *rest: str) -> str:
    return "/".join([BASE, "rules", segment(name), *rest])


def _show_rule(data: Any) -> None:
    render.record(data, title=f"rule {data['name']} on {data['bus']}", nested=("event_pattern",))


def _show_bus(data: Any) -> None:
    render.record(data, title=f"event bus {data['name']}")


@buses.command("create")
def create_bus(
    ctx: typer.Context, name: BusArg, description: Description = "", as_json: JsonOutput = False
) -> None:
    """Create an event bus (1-256 letters, digits, '/', '.', '-' or '_')."""
    data = api(ctx).post(f"{BASE}/buses", {"name": name, "description": description})
    render.output(as_json, data, _show_bus)


@buses.command("list")
def list_buses(
    ctx: typer.Context,
    limit: Limit = None,
    all_pages: AllPages = False,
    next_token: NextToken = None,
    as_json: JsonOutput = False,
) -> None:
    """List your account's event buses (default among them)."""
    data = api(ctx).pages(f"{BASE}/buses", limit=limit, next_token=next_token, all_pages=all_pages)
    render.output(as_json, data, lambda d: render.page(d, BUS_COLUMNS, noun="event buses"))


@buses.command("describe")
def describe_bus(ctx: typer.Context, name: BusArg, as_json: JsonOutput = False) -> None:
    """Show an event bus."""
    render.output(as_json, api(ctx).get(f"{BASE}/buses/{segment(name)}"), _show_bus)


@buses.command("delete")
def delete_bus(ctx: typer.Context, name: BusArg, as_json: JsonOutput = False) -> None:
    """Delete an event bus that has no rules."""
    api(ctx).delete(f"{BASE}/buses/{segment(name)}")
    render.output(as_json, {"deleted": name}, lambda _: render.done(f"deleted event bus {name}"))


@rules.command("put")
def put_rule(
    ctx: typer.Context,
    name: RuleArg,
    pattern: Annotated[
        str | None,
        typer.Option(
            "--pattern",
            callback=optional_json_argument,
            help="The event pattern, as JSON; @path reads it from a file.",
        ),
    ] = None,
    schedule: Annotated[
        str | None,
        typer.Option("--schedule", help="rate(...), cron(...) or at(...), in UTC (the default bus only)."),
    ] = None,
    bus: BusOpt = "default",
    disabled: Annotated[
        bool, typer.Option("--disabled", help="Put the rule DISABLED (otherwise it is ENABLED).")
    ] = False,
    description: Description = "",
    as_json: JsonOutput = False,
) -> None:
    """Create or replace a rule: --pattern, --schedule, or both."""
    if pattern is None and schedule is None:
        raise typer.BadParameter("give --pattern, --schedule, or both", param_hint="'--pattern'")
    body = {
        "event_pattern": pattern,
        "schedule_expression": schedule,
        "state": "DISABLED" if disabled else "ENABLED",
        "description": description,
    }
    data = api(ctx).request("PUT", _rule(name), body=body, params={"bus": bus})
    render.output(as_json, data, _show_rule)


@rules.command("list")
def list_rules(
    ctx: typer.Context,
    bus: BusOpt = "default",
    prefix: Annotated[str | None, typer.Option("--prefix", help="Only rules whose name starts so.")] = None,
    limit: Limit = None,
    all_pages: AllPages = False,
    next_token: NextToken = None,
    as_json: JsonOutput = False,
) -> None:
    """List the rules of a bus."""
    data = api(ctx).pages(
        f"{BASE}/rules", limit=limit, next_token=next_token, all_pages=all_pages, bus=bus, prefix=prefix
    )
    render.output(as_json, data, lambda d: render.page(d, RULE_COLUMNS, noun="rules"))


@rules.command("describe")
def describe_rule(
    ctx: typer.Context, name: RuleArg, bus: BusOpt = "default", as_json: JsonOutput = False
) -> None:
    """Show a rule: its pattern, schedule and state."""
    render.output(as_json, api(ctx).get(_rule(name), bus=bus), _show_rule)


@rules.command("delete")
def delete_rule(
    ctx: typer.Context,
    name: RuleArg,
    bus: BusOpt = "default",
    force: Annotated[
        bool, typer.Option("--force", help="Delete it with its targets (or one a stack manages).")
    ] = False,
    as_json: JsonOutput = False,
) -> None:
    """Delete a rule (remove its targets first, or --force)."""
    api(ctx).request("DELETE", _rule(name), params={"bus": bus, "force": force or None})
    render.output(as_json, {"deleted": name}, lambda _: render.done(f"deleted rule {name}"))


@rules.command("enable")
def enable_rule(
    ctx: typer.Context, name: RuleArg, bus: BusOpt = "default", as_json: JsonOutput = False
) -> None:
    """Enable a rule: it matches events (and fires its schedule) again."""
    _set_state(ctx, name, bus, "enable", as_json)


@rules.command("disable")
def disable_rule(
    ctx: typer.Context, name: RuleArg, bus: BusOpt = "default", as_json: JsonOutput = False
) -> None:
    """Disable a rule: it keeps its targets but matches nothing and does not fire."""
    _set_state(ctx, name, bus, "disable", as_json)


def _set_state(ctx: typer.Context, name: str, bus: str, action: str, as_json: bool) -> None:
    data = api(ctx).request("POST", _rule(name, action), body={}, params={"bus": bus})
    render.output(as_json, data, lambda d: render.done(f"rule {d['name']} is {d['state']}"))


@targets.command("put")
def put_targets(
    ctx: typer.Context,
    rule: RuleArg,
    target: Annotated[
        list[str],
        typer.Option(
            "--target",
            callback=json_arguments,
            help='A target as JSON, e.g. {"Id": "t1", "Arn": "arn:silo:lambda:local:ID:function:NAME"} '
            "(repeatable; @path reads one, or a list, from a file).",
            show_default=False,
        ),
    ],
    bus: BusOpt = "default",
    as_json: JsonOutput = False,
) -> None:
    """Add targets to a rule, replacing those with the same Id (at most five per rule); prints them all."""
    client = api(ctx)
    client.request(
        "PUT", _rule(rule, "targets"), body={"targets": json_objects(target, "--target")}, params={"bus": bus}
    )
    data = client.get(_rule(rule, "targets"), bus=bus)
    render.output(as_json, data, lambda d: render.table(d["items"], TARGET_COLUMNS))


@targets.command("list")
def list_targets(
    ctx: typer.Context, rule: RuleArg, bus: BusOpt = "default", as_json: JsonOutput = False
) -> None:
    """List a rule's targets."""
    data = api(ctx).get(_rule(rule, "targets"), bus=bus)
    render.output(as_json, data, lambda d: render.page(d, TARGET_COLUMNS, noun="targets"))


@targets.command("remove")
def remove_targets(
    ctx: typer.Context,
    rule: RuleArg,
    ids: Annotated[list[str], typer.Argument(help="The Ids of the targets to remove.", show_default=False)],
    bus: BusOpt = "default",
    as_json: JsonOutput = False,
) -> None:
    """Remove targets from a rule, by Id."""
    data = api(ctx).request("POST", _rule(rule, "targets", "remove"), body={"ids": ids}, params={"bus": bus})
    render.output(
        as_json, data, lambda d: render.done(f"removed {d['removed']} of {len(ids)} from rule {rule}")
    )


@app.command("put")
def put_events(
    ctx: typer.Context,
    entry: Annotated[
        list[str],
        typer.Option(
            "--entry",
            callback=json_arguments,
            help='An entry as JSON, e.g. {"Source": "shop", "DetailType": "Order", "Detail": "{}"} '
            "(repeatable, up to 10; @path reads one, or a list, from a file).",
            show_default=False,
        ),
    ],
    as_json: JsonOutput = False,
) -> None:
    """Put events on buses (PutEvents) and print each entry's event id or error; exit 1 if any failed."""
    data = api(ctx).post(f"{BASE}/put-events", {"entries": json_objects(entry, "--entry")})

    def human(d: Any) -> None:
        render.table([{"entry": n, **e} for n, e in enumerate(d["entries"])], RESULT_COLUMNS)

    render.output(as_json, data, human)
    if data["failed_entry_count"]:
        typer.echo(f"error: {data['failed_entry_count']} of {len(data['entries'])} entries failed", err=True)
        raise typer.Exit(1)


@app.command("metrics")
def metrics(
    ctx: typer.Context,
    rule: RuleArg,
    bus: BusOpt = "default",
    since_minutes: Annotated[
        int, typer.Option("--since-minutes", min=1, max=1440, help="The window: the last N minutes.")
    ] = 60,
    as_json: JsonOutput = False,
) -> None:
    """A rule's metrics: MatchedEvents, TriggeredRules, Invocations, FailedInvocations, ..."""
    data = api(ctx).get(_rule(rule, "metrics"), bus=bus, since_minutes=since_minutes)
    render_metrics(as_json, data, f"no metrics for rule {rule} in the last {since_minutes} minutes")
