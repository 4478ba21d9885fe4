"""Output: one JSON document with ``--json``; otherwise Rich tables, key/value panels and trees.

Consoles are made per call so they write to whatever ``sys.stdout`` is at that moment (``CliRunner``
swaps it). Values from the API are rendered as plain text, never as Rich markup.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import typer
from rich.console import Console
from rich.json import JSON
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

Row = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Column:
    """A table column: a header, and the field it shows (or a function of the row).

    ``optional`` columns are hidden (rightmost first) when the terminal is too narrow for them.
    """

    header: str
    field: str | Callable[[Row], Any]
    no_wrap: bool = False
    optional: bool = False

    def cell(self, row: Row) -> Text:
        value = self.field(row) if callable(self.field) else row.get(self.field)
        return Text(plain(value))


PIPE_WIDTH = 200
"""Width for output that is not a terminal (pipes, files, tests), so rows are not folded."""


def stdout() -> Console:
    console = Console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = PIPE_WIDTH
    return console


def stderr() -> Console:
    return Console(stderr=True)


def plain(value: Any) -> str:
    """A value as table text: ``-`` for nothing, mappings (tags) as ``k=v, ...``, lists comma-separated."""
    if value is None or value in ("", [], {}):
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(plain(v) for v in value)
    return str(value)


def when(value: Any) -> str:
    """An ISO 8601 timestamp as ``YYYY-MM-DD HH:MM:SS`` (UTC), for tables."""
    if not isinstance(value, str) or len(value) < 19:
        return plain(value)
    return value[:10] + " " + value[11:19]


def emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2))


def output(as_json: bool, data: Any, human: Callable[[Any], None]) -> None:
    """The single exit point of every command: JSON as-is, or the human rendering."""
    if as_json:
        emit_json(data)
    else:
        human(data)


def table(items: Sequence[Row], columns: Sequence[Column]) -> None:
    """Rows as a table; optional columns give way on a narrow terminal (``--json`` has everything)."""
    console = stdout()
    cells = {column.header: [column.cell(row) for row in items] for column in columns}
    widths = {column.header: _min_width(column, cells[column.header]) for column in columns}
    shown = list(columns)

    def needed() -> int:  # each column is padded by one space on both sides, and a rule between
        return sum(widths[c.header] + 2 for c in shown) + len(shown) - 1

    while needed() > console.width and any(c.optional for c in shown):
        shown.remove(next(c for c in reversed(shown) if c.optional))
    grid = Table(header_style="bold", show_edge=False)
    for column in shown:
        grid.add_column(
            column.header, no_wrap=column.no_wrap, min_width=widths[column.header], overflow="fold"
        )
    for i in range(len(items)):
        grid.add_row(*(cells[column.header][i] for column in shown))
    console.print(grid)
    if len(shown) < len(columns):
        hidden = ", ".join(c.header for c in columns if c not in shown)
        stderr().print(
            Text(f"(hidden for lack of width: {hidden}; widen the terminal or use --json)", style="dim")
        )


def _min_width(column: Column, cells: Sequence[Text]) -> int:
    """The narrowest the column can be without breaking a word (or any text, for ``no_wrap``)."""
    texts = [column.header, *(cell.plain for cell in cells)]
    if column.no_wrap:
        return max(len(text) for text in texts)
    return max((len(word) for text in texts for word in text.split()), default=1)


def page(data: Mapping[str, Any], columns: Sequence[Column], *, noun: str) -> None:
    """A list page as a table; on stderr, how to get the next page when there is one."""
    items = data.get("items", [])
    if not items:
        stdout().print(f"no {noun}")
    else:
        table(items, columns)
    if data.get("next_token"):
        stderr().print(
            Text(f"more {noun}: --all, or --next-token {data['next_token']}", style="dim"),
        )


def record(data: Mapping[str, Any], *, title: str, nested: Collection[str] = ()) -> None:
    """One object as a key/value panel; nested documents (and the fields in ``nested``) as JSON."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for key, value in data.items():
        if isinstance(value, Mapping | list) and key in {"document", "details", *nested} and value:
            grid.add_row(key, JSON.from_data(value))
        elif key.endswith("_at") or key in {"at", "purge_after"}:
            grid.add_row(key, Text(when(value)))
        else:
            grid.add_row(key, Text(plain(value)))
    stdout().print(Panel(grid, title=Text(title), title_align="left", expand=False))


def issued(data: Mapping[str, Any], *, title: str) -> None:
    """A freshly issued key: its details, its token, and the warning that it is shown only once."""
    record(data["key"], title=title)
    typer.echo(f"token: {data['token']}")  # plain echo: never wrapped or styled
    stderr().print(
        Text("warning: this token is shown only once; store it now (Silo keeps only a hash).", style="yellow")
    )


def done(message: str) -> None:
    stdout().print(Text(message))
