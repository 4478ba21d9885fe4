"""``silo ous``: organizational units, the folders accounts live in (management key)."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any

import typer
from rich.text import Text
from rich.tree import Tree

from silo.cli import render
from silo.cli.client import api
from silo.cli.options import JsonOutput
from silo.cli.render import Column

app = typer.Typer(
    no_args_is_help=True, help="Organizational units: create, list, show as a tree (management key)."
)

BASE = "/v1/mgmt/ous"

COLUMNS = [
    Column("ID", "ou_id", no_wrap=True),
    Column("NAME", "name"),
    Column("PARENT", "parent_id", optional=True),
    Column("PATH", "path"),
    Column("CREATED", lambda row: render.when(row.get("created_at")), optional=True),
]

OuIdArg = Annotated[str, typer.Argument(help="The OU id ('root' for the root OU).", show_default=False)]


def show(data: Any) -> None:
    render.record(data, title=f"OU {data['ou_id']}")


@app.command()
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The new OU's name.", show_default=False)],
    parent: Annotated[str | None, typer.Option("--parent", help="Parent OU id (default: the root).")] = None,
    as_json: JsonOutput = False,
) -> None:
    """Create an OU."""
    body = {"name": name} if parent is None else {"name": name, "parent_id": parent}
    render.output(as_json, api(ctx).post(BASE, body), show)


@app.command("list")
def list_(
    ctx: typer.Context,
    parent: Annotated[
        str | None, typer.Option("--parent", help="List this OU's children (default: the root's).")
    ] = None,
    as_json: JsonOutput = False,
) -> None:
    """List the child OUs of one OU."""
    data = api(ctx).get(BASE, parent_id=parent)
    render.output(as_json, data, lambda d: render.page(d, COLUMNS, noun="OUs"))


@app.command()
def tree(ctx: typer.Context, as_json: JsonOutput = False) -> None:
    """Show the whole OU tree."""
    render.output(as_json, api(ctx).get(BASE, tree=True), _show_tree)


def _show_tree(data: Any) -> None:
    items: list[dict[str, Any]] = data.get("items", [])
    ids = {item["ou_id"] for item in items}
    children: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        parent = item.get("parent_id")
        children[parent if parent in ids else None].append(item)

    def label(item: dict[str, Any]) -> Text:
        return Text(item["name"], style="bold") + Text(f"  {item['ou_id']}", style="dim")

    def grow(node: Tree, ou_id: str) -> None:
        for child in sorted(children.get(ou_id, []), key=lambda c: c["name"]):
            grow(node.add(label(child)), child["ou_id"])

    roots = children.get(None, [])
    if not roots:
        render.done("no OUs")
        return
    console = render.stdout()
    for item in roots:
        node = Tree(label(item))
        grow(node, item["ou_id"])
        console.print(node)


@app.command()
def describe(ctx: typer.Context, ou_id: OuIdArg, as_json: JsonOutput = False) -> None:
    """Show one OU."""
    render.output(as_json, api(ctx).get(f"{BASE}/{ou_id}"), show)


@app.command()
def rename(
    ctx: typer.Context,
    ou_id: OuIdArg,
    name: Annotated[str, typer.Argument(help="The new name.", show_default=False)],
    as_json: JsonOutput = False,
) -> None:
    """Rename an OU."""
    render.output(as_json, api(ctx).patch(f"{BASE}/{ou_id}", {"name": name}), show)


@app.command()
def delete(ctx: typer.Context, ou_id: OuIdArg, as_json: JsonOutput = False) -> None:
    """Delete an empty OU (no accounts, no child OUs)."""
    api(ctx).delete(f"{BASE}/{ou_id}")
    render.output(as_json, {"deleted": ou_id}, lambda _: render.done(f"deleted OU {ou_id}"))
