"""``silo tables``: DynamoDB-style tables of your account, through the API (``/v1/account/tables``;
an account or session key).

``create``, ``list``, ``describe`` and ``delete`` are here; the item commands (``put``, ``get``,
``update``, ``delete-item``, ``query``, ``scan``) are in :mod:`silo.cli.tables_items`, registered on
this group below. Keys are ``NAME:TYPE`` with TYPE one of S, N, B; what does not parse is a usage
error (exit 2), what the server refuses goes to stderr with exit 1.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from silo.cli import render, tables_items
from silo.cli.client import api, segment
from silo.cli.options import JsonOutput
from silo.cli.render import Column

app = typer.Typer(
    no_args_is_help=True,
    help="DynamoDB-style tables of your account and their items (account or session key).",
)

BASE = "/v1/account/tables"
KEY_TYPES = ("S", "N", "B")
STREAM_VIEWS = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")
LIST_PAGE = 100


def _attribute(value: str, *, hint: str) -> tuple[str, str]:
    name, _, kind = value.rpartition(":")
    if not name or kind.upper() not in KEY_TYPES:
        raise typer.BadParameter(
            f"expected NAME:TYPE with TYPE one of S, N, B; got {value!r}", param_hint=hint
        )
    return name, kind.upper()


def _key_option(value: str | None) -> str | None:
    if value is not None:
        _attribute(value, hint="key")
    return value


def _gsi_option(values: list[str] | None) -> list[str] | None:
    for value in values or []:
        _index(value)
    return values


def _view_option(value: str | None) -> str | None:
    if value is not None and value.upper() not in STREAM_VIEWS:
        raise typer.BadParameter(f"one of {', '.join(STREAM_VIEWS)}; got {value!r}")
    return None if value is None else value.upper()


def _index(value: str) -> tuple[str, list[tuple[str, str]]]:
    """``INDEX:PK:TYPE[:SK:TYPE]`` -> (index name, [(attribute, type), ...])."""
    parts = value.split(":")
    if len(parts) not in (3, 5) or not parts[0]:
        raise typer.BadParameter(f"expected INDEX:PK:TYPE[:SK:TYPE]; got {value!r}", param_hint="'--gsi'")
    keys = [_attribute(f"{parts[i]}:{parts[i + 1]}", hint="'--gsi'") for i in range(1, len(parts), 2)]
    return parts[0], keys


TableArg = Annotated[str, typer.Argument(help="The table's name.", show_default=False)]
PartitionKey = Annotated[
    str,
    typer.Option(
        "--partition-key", metavar="NAME:TYPE", callback=_key_option, help="The partition (HASH) key.",
        show_default=False,
    ),
]  # fmt: skip
SortKey = Annotated[
    str | None,
    typer.Option("--sort-key", metavar="NAME:TYPE", callback=_key_option, help="The sort (RANGE) key."),
]
Gsi = Annotated[
    list[str] | None,
    typer.Option(
        "--gsi",
        metavar="INDEX:PK:TYPE[:SK:TYPE]",
        callback=_gsi_option,
        help="A global secondary index projecting all attributes (repeatable).",
        show_default=False,
    ),
]
Ttl = Annotated[
    str | None, typer.Option("--ttl", metavar="ATTR", help="Expire items at the epoch second in ATTR.")
]
Stream = Annotated[
    str | None,
    typer.Option(
        "--stream", metavar="VIEW", callback=_view_option, help="Stream changes: " + ", ".join(STREAM_VIEWS)
    ),
]
StreamFunction = Annotated[
    str | None,
    typer.Option("--stream-function", help="The function the stream's batches go to (with --stream)."),
]
ListLimit = Annotated[
    int | None, typer.Option("--limit", min=1, max=100, help="Table names per page (1..100).")
]
AllNames = Annotated[bool, typer.Option("--all", help="Follow LastEvaluatedTableName to the end.")]
StartName = Annotated[str | None, typer.Option("--start", help="List the names after this one.")]


def create_body(
    name: str,
    partition_key: str,
    sort_key: str | None,
    gsi: list[str] | None,
    ttl: str | None,
    stream: str | None,
) -> dict[str, Any]:
    """The CreateTable request for the command's options."""
    types: dict[str, str] = {}

    def schema(keys: list[tuple[str, str]]) -> list[dict[str, str]]:
        for attribute, kind in keys:
            if types.setdefault(attribute, kind) != kind:
                raise typer.BadParameter(f"{attribute} is given as {types[attribute]} and as {kind}")
        kinds = ("HASH", "RANGE")
        return [{"AttributeName": a, "KeyType": kinds[i]} for i, (a, _) in enumerate(keys)]

    keys = [_attribute(partition_key, hint="'--partition-key'")]
    if sort_key is not None:
        keys.append(_attribute(sort_key, hint="'--sort-key'"))
    body: dict[str, Any] = {"TableName": name, "KeySchema": schema(keys)}
    indexes = [_index(value) for value in gsi or []]
    if indexes:
        body["GlobalSecondaryIndexes"] = [
            {"IndexName": index, "KeySchema": schema(index_keys), "Projection": {"ProjectionType": "ALL"}}
            for index, index_keys in indexes
        ]
    body["AttributeDefinitions"] = [{"AttributeName": a, "AttributeType": t} for a, t in types.items()]
    if ttl is not None:
        body["TimeToLiveSpecification"] = {"Enabled": True, "AttributeName": ttl}
    if stream is not None:
        body["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream}
    return body


def _show(table: dict[str, Any]) -> None:
    keys = ", ".join(f"{k['AttributeName']} ({k['KeyType']})" for k in table.get("KeySchema", []))
    types = {a["AttributeName"]: a["AttributeType"] for a in table.get("AttributeDefinitions", [])}
    for name, kind in types.items():
        keys = keys.replace(f"{name} (", f"{name}:{kind} (")
    stream = table.get("StreamSpecification") or {}
    summary = {
        "name": table.get("TableName"),
        "status": table.get("TableStatus"),
        "keys": keys,
        "indexes": [i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])],
        "stream": stream.get("StreamViewType"),
        "items": table.get("ItemCount"),
        "size_bytes": table.get("TableSizeBytes"),
        "stack": table.get("ManagedBy"),
        "arn": table.get("TableArn"),
    }
    render.record(summary, title=f"table {table.get('TableName')}")


@app.command()
def create(
    ctx: typer.Context,
    name: TableArg,
    partition_key: PartitionKey,
    sort_key: SortKey = None,
    gsi: Gsi = None,
    ttl: Ttl = None,
    stream: Stream = None,
    stream_function: StreamFunction = None,
    as_json: JsonOutput = False,
) -> None:
    """Create a table (ACTIVE at once), e.g. --partition-key id:S --sort-key ts:N."""
    if stream_function is not None and stream is None:
        raise typer.BadParameter("--stream-function needs --stream VIEW", param_hint="'--stream-function'")
    body = create_body(name, partition_key, sort_key, gsi, ttl, stream)
    client = api(ctx)
    answer = client.post(BASE, body)
    if stream_function is not None:
        spec = {"StreamEnabled": True, "StreamViewType": stream, "FunctionName": stream_function}
        answer = {"TableDescription": client.put(f"{BASE}/{segment(name)}/stream", spec)["Table"]}
    render.output(as_json, answer, lambda d: _show(d["TableDescription"]))


@app.command("list")
def list_(
    ctx: typer.Context,
    limit: ListLimit = None,
    all_names: AllNames = False,
    start: StartName = None,
    as_json: JsonOutput = False,
) -> None:
    """List your account's tables by name."""
    client = api(ctx)
    page: dict[str, Any] = client.get(BASE, limit=limit, exclusive_start_table_name=start)
    names = list(page["TableNames"])
    while all_names and page.get("LastEvaluatedTableName"):
        page = client.get(BASE, limit=limit, exclusive_start_table_name=page["LastEvaluatedTableName"])
        names += page["TableNames"]
    data = {"TableNames": names} if all_names else page

    def show(found: dict[str, Any]) -> None:
        page = {"items": [{"name": n} for n in found["TableNames"]]}
        render.page(page, [Column("NAME", "name", no_wrap=True)], noun="tables")
        if found.get("LastEvaluatedTableName"):
            render.stderr().print(f"more tables: --all, or --start {found['LastEvaluatedTableName']}")

    render.output(as_json, data, show)


@app.command()
def describe(ctx: typer.Context, name: TableArg, as_json: JsonOutput = False) -> None:
    """Show a table: its keys, indexes, stream, item count and size."""
    render.output(as_json, api(ctx).get(f"{BASE}/{segment(name)}"), lambda d: _show(d["Table"]))


@app.command()
def delete(ctx: typer.Context, name: TableArg, as_json: JsonOutput = False) -> None:
    """Delete a table and all its items."""
    answer = api(ctx).delete(f"{BASE}/{segment(name)}")
    render.output(as_json, answer, lambda _: render.done(f"deleted table {name}"))


app.command("put")(tables_items.put)
app.command("get")(tables_items.get)
app.command("update")(tables_items.update)
app.command("delete-item")(tables_items.delete_item)
app.command("query")(tables_items.query)
app.command("scan")(tables_items.scan)
