"""``silo events``: event buses, rules and patterns.

``silo events test-pattern`` runs here, without a server or a key: the same pure check as
``POST /v1/account/events/test-pattern`` (``silo.events.sample_events``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True, help="Event buses, rules and patterns.")

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
def run_test_pattern(pattern: PatternJson, event: EventJson) -> None:
    """Check whether an event pattern matches an event, here, without a server or a key.

    Prints {"matches": true} or {"matches": false}. A pattern or event that is not valid is reported
    on stderr, naming what is wrong and where (e.g. error: InvalidEventPattern: detail.price[0]: ...),
    with exit code 2.
    """
    from silo.errors import ValidationError
    from silo.events.sample_events import pattern_matches

    try:
        matches = pattern_matches(pattern, event)
    except ValidationError as exc:
        typer.echo(f"error: {exc.code}: {exc.message}", err=True)
        raise typer.Exit(BAD_INPUT_EXIT) from None
    typer.echo(json.dumps({"matches": matches}))
