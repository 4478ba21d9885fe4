"""``silo tables put|get|update|delete-item|query|scan``: the items of a table, through the API.

Registered on the ``silo tables`` group by :mod:`silo.cli.tables`. Items, keys and ``--values`` are
JSON documents (``{"id": "a", "n": 1}``), or DynamoDB's typed JSON with ``--typed``; ``@path`` reads
the JSON from a file. JSON that does not parse, or is not an object, is a usage error (exit 2); a
condition that does not hold is the server's ``ConditionalCheckFailedException`` (exit 1).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Annotated, Any

import typer

from silo.cli import render
from silo.cli.client import api, segment
from silo.cli.options import JsonOutput
from silo.cli.render import Column
from silo.cli.workflows_remote import parse_json

BASE = "/v1/account/tables"
RETURN_VALUES = ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW")


def _object(value: str) -> dict[str, Any]:
    parsed = parse_json(value)
    if not isinstance(parsed, dict):
        raise typer.BadParameter(f"expected a JSON object; got {type(parsed).__name__}")
    return parsed


def _returns(value: str | None) -> str | None:
    if value is not None and value.upper() not in RETURN_VALUES:
        raise typer.BadParameter(f"one of {', '.join(RETURN_VALUES)}; got {value!r}")
    return None if value is None else value.upper()


def _json_object(name: str, text: str) -> Any:
    return typer.Option(name, metavar="JSON|@FILE", parser=_object, help=text, show_default=False)


TableArg = Annotated[str, typer.Argument(help="The table's name.", show_default=False)]
ItemOpt = Annotated[Any, _json_object("--item", "The item, as a JSON object; @path reads it from a file.")]
KeyOpt = Annotated[Any, _json_object("--key", "The item's key attributes, as a JSON object.")]
Names = Annotated[Any, _json_object("--names", 'ExpressionAttributeNames: {"#n": "name"}.')]
Values = Annotated[Any, _json_object("--values", 'ExpressionAttributeValues: {":v": 1}.')]
StartKey = Annotated[Any, _json_object("--start-key", "Start after this key (a page's LastEvaluatedKey).")]
Condition = Annotated[str | None, typer.Option("--condition", help="A ConditionExpression that must hold.")]
Projection = Annotated[
    str | None, typer.Option("--projection", help="A ProjectionExpression: what to return.")
]
Filter = Annotated[str | None, typer.Option("--filter", help="A FilterExpression applied after reading.")]
Index = Annotated[str | None, typer.Option("--index", help="Read a global secondary index instead.")]
PageLimit = Annotated[
    int | None,
    typer.Option("--limit", min=1, help="Items read (before --filter) per page.", show_default=False),
]
AllPages = Annotated[bool, typer.Option("--all", help="Follow LastEvaluatedKey and read every page.")]
Typed = Annotated[
    bool, typer.Option("--typed", help='Items in DynamoDB\'s typed JSON ({"S": "x"}), both ways.')
]


def _returns_option(default: str | None) -> Any:
    text = "ReturnValues: " + ", ".join(RETURN_VALUES) + (f" (default {default})" if default else "") + "."
    return typer.Option("--return-values", callback=_returns, help=text, show_default=False)


def _call(ctx: typer.Context, table: str | None, operation: str, body: dict[str, Any], typed: bool) -> Any:
    path = f"{BASE}/{operation}" if table is None else f"{BASE}/{segment(table)}/{operation}"
    sent = {key: value for key, value in body.items() if value is not None}
    return api(ctx).request("POST", path, body=sent, params={"format": "typed" if typed else None})


def _expressions(names: Any, values: Any) -> dict[str, Any]:
    return {"ExpressionAttributeNames": names, "ExpressionAttributeValues": values}


def _cell(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _attribute_cell(name: str) -> Callable[[Mapping[str, Any]], str | None]:
    return lambda row: _cell(row[name]) if name in row else None


def _items(data: dict[str, Any]) -> None:
    items = data.get("Items") or []
    names = list(dict.fromkeys(name for item in items for name in item))
    columns = [Column(name, _attribute_cell(name)) for name in names]
    if items:
        render.table(items, columns)
    render.stderr().print(f"{data.get('Count', 0)} items ({data.get('ScannedCount', 0)} read)")
    if data.get("LastEvaluatedKey"):
        render.stderr().print(f"more items: --all, or --start-key '{json.dumps(data['LastEvaluatedKey'])}'")


def _attributes(title: str) -> Any:
    def show(data: dict[str, Any]) -> None:
        if data.get("Attributes"):
            render.record({k: _cell(v) for k, v in data["Attributes"].items()}, title=title)
        else:
            render.done(title)

    return show


def put(
    ctx: typer.Context,
    table: TableArg,
    item: ItemOpt,
    condition: Condition = None,
    names: Names = None,
    values: Values = None,
    return_values: Annotated[str | None, _returns_option(None)] = None,
    typed: Typed = False,
    as_json: JsonOutput = False,
) -> None:
    """Write an item (replacing the one with its key), e.g. --item '{"id": "a", "n": 1}'."""
    body = {"Item": item, "ConditionExpression": condition, "ReturnValues": return_values}
    answer = _call(ctx, table, "put-item", body | _expressions(names, values), typed)
    render.output(as_json, answer, _attributes(f"put an item into {table}"))


def get(
    ctx: typer.Context,
    table: TableArg,
    key: KeyOpt,
    projection: Projection = None,
    names: Names = None,
    typed: Typed = False,
    as_json: JsonOutput = False,
) -> None:
    """Read one item by its key, e.g. --key '{"id": "a"}'."""
    body = {"Key": key, "ProjectionExpression": projection, "ExpressionAttributeNames": names}
    answer = _call(ctx, table, "get-item", body, typed)

    def show(data: dict[str, Any]) -> None:
        if "Item" not in data:
            render.done(f"no such item in {table}")
        else:
            render.record({k: _cell(v) for k, v in data["Item"].items()}, title=f"item of {table}")

    render.output(as_json, answer, show)


def update(
    ctx: typer.Context,
    table: TableArg,
    key: KeyOpt,
    expression: Annotated[
        str, typer.Option("--update", help="The UpdateExpression: SET, REMOVE, ADD, DELETE.")
    ],
    condition: Condition = None,
    names: Names = None,
    values: Values = None,
    return_values: Annotated[str, _returns_option("ALL_NEW")] = "ALL_NEW",
    typed: Typed = False,
    as_json: JsonOutput = False,
) -> None:
    """Change an item's attributes (making it if it does not exist), e.g. --update 'SET n = n + :one'."""
    body = {"Key": key, "UpdateExpression": expression, "ConditionExpression": condition}
    body |= {"ReturnValues": return_values} | _expressions(names, values)
    answer = _call(ctx, table, "update-item", body, typed)
    render.output(as_json, answer, _attributes(f"updated an item of {table}"))


def delete_item(
    ctx: typer.Context,
    table: TableArg,
    key: KeyOpt,
    condition: Condition = None,
    names: Names = None,
    values: Values = None,
    return_values: Annotated[str | None, _returns_option(None)] = None,
    typed: Typed = False,
    as_json: JsonOutput = False,
) -> None:
    """Delete one item by its key (nothing happens if there is none)."""
    body = {"Key": key, "ConditionExpression": condition, "ReturnValues": return_values}
    answer = _call(ctx, table, "delete-item", body | _expressions(names, values), typed)
    render.output(as_json, answer, _attributes(f"deleted an item of {table}"))


def query(
    ctx: typer.Context,
    table: TableArg,
    key_condition: Annotated[
        str, typer.Option("--key-condition", help="The KeyConditionExpression, e.g. 'id = :id AND ts > :t'.")
    ],
    index: Index = None,
    filter_: Filter = None,
    projection: Projection = None,
    names: Names = None,
    values: Values = None,
    limit: PageLimit = None,
    reverse: Annotated[bool, typer.Option("--reverse", help="Descending sort key order.")] = False,
    all_pages: AllPages = False,
    start_key: StartKey = None,
    typed: Typed = False,
    as_json: JsonOutput = False,
) -> None:
    """Read the items of one partition in sort key order (of the table or of --index)."""
    body = {"KeyConditionExpression": key_condition, "ScanIndexForward": False if reverse else None}
    body |= _read(index, filter_, projection, limit, start_key) | _expressions(names, values)
    render.output(as_json, _pages(ctx, table, "query", body, typed, all_pages), _items)


def scan(
    ctx: typer.Context,
    table: TableArg,
    index: Index = None,
    filter_: Filter = None,
    projection: Projection = None,
    names: Names = None,
    values: Values = None,
    limit: PageLimit = None,
    all_pages: AllPages = False,
    start_key: StartKey = None,
    typed: Typed = False,
    as_json: JsonOutput = False,
) -> None:
    """Read the whole table (or --index) in key order."""
    body = _read(index, filter_, projection, limit, start_key) | _expressions(names, values)
    render.output(as_json, _pages(ctx, table, "scan", body, typed, all_pages), _items)


def _read(
    index: str | None, filter_: str | None, projection: str | None, limit: int | None, start: Any
) -> Any:
    return {
        "IndexName": index,
        "FilterExpression": filter_,
        "ProjectionExpression": projection,
        "Limit": limit,
        "ExclusiveStartKey": start,
    }


def _pages(
    ctx: typer.Context, table: str, operation: str, body: dict[str, Any], typed: bool, all_pages: bool
) -> dict[str, Any]:
    """One page; with ``all_pages`` every page after it, as one answer (without LastEvaluatedKey)."""
    page: dict[str, Any] = _call(ctx, table, operation, body, typed)
    if not all_pages:
        return page
    merged = {
        "Items": list(page.get("Items", [])),
        "Count": page["Count"],
        "ScannedCount": page["ScannedCount"],
    }
    while page.get("LastEvaluatedKey"):
        page = _call(ctx, table, operation, body | {"ExclusiveStartKey": page["LastEvaluatedKey"]}, typed)
        merged["Items"] += page.get("Items", [])
        merged["Count"] += page["Count"]
        merged["ScannedCount"] += page["ScannedCount"]
    return merged
