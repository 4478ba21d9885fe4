"""Option declarations shared by every command, declared once here and reused everywhere.

``--endpoint`` and ``--key`` are global: they sit on the root callback (``silo --key K accounts list``)
and travel to the commands in the Typer context. ``--json`` and the paging options are per command.
"""

from __future__ import annotations

import base64
import zipfile
from pathlib import Path
from typing import Annotated, Any

import typer

DEFAULT_ENDPOINT = "http://127.0.0.1:8777"

Endpoint = Annotated[
    str,
    typer.Option(
        "--endpoint",
        envvar="SILO_ENDPOINT",
        help="The Silo API to talk to.",
        show_envvar=True,
    ),
]
Key = Annotated[
    str | None,
    typer.Option(
        "--key",
        envvar="SILO_KEY",
        help="API key token (KEYID.SECRET). Default: the root key in $SILO_HOME/root-key "
        "(SILO_HOME defaults to .silo), written by the first `silo server` start.",
        show_envvar=True,
        show_default=False,
    ),
]
JsonOutput = Annotated[
    bool,
    typer.Option("--json", help="Print the API's JSON response (one document) instead of tables."),
]
Limit = Annotated[
    int | None,
    typer.Option("--limit", min=1, max=1000, help="Page size (1..1000; the server's default is 100)."),
]
AllPages = Annotated[
    bool, typer.Option("--all", help="Follow next_token and fetch every page (--limit is the page size).")
]
NextToken = Annotated[
    str | None, typer.Option("--next-token", help="Continue a previous listing from this token.")
]
IncludeRevoked = Annotated[bool, typer.Option("--include-revoked", help="Also list revoked keys.")]
Reason = Annotated[str | None, typer.Option("--reason", help="Why; recorded in the audit log.")]


def _require_pairs(values: list[str] | None) -> list[str] | None:
    for value in values or []:
        key, sep, _ = value.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"expected key=value, got {value!r}")
    return values


def _allow_bare(values: list[str] | None) -> list[str] | None:
    for value in values or []:
        if not value or value.startswith("="):
            raise typer.BadParameter(f"expected key=value or key, got {value!r}")
    return values


TagPairs = Annotated[
    list[str] | None,
    typer.Option(
        "--tag", callback=_require_pairs, help="A tag as key=value (repeatable).", show_default=False
    ),
]
EnvPairs = Annotated[
    list[str] | None,
    typer.Option(
        "--env",
        callback=_require_pairs,
        help="An environment variable as KEY=VALUE (repeatable).",
        show_default=False,
    ),
]
TagFilter = Annotated[
    list[str] | None,
    typer.Option(
        "--tag",
        callback=_allow_bare,
        help="Only accounts with this tag: key=value, or key for any value (repeatable; all must match).",
        show_default=False,
    ),
]


def pairs(values: list[str] | None) -> dict[str, str]:
    """``["k=v", ...]`` (already checked by the option's callback) as a dict."""
    split = (value.partition("=") for value in values or [])
    return {key: value for key, _, value in split}


def _code_path(value: Path | None) -> Path | None:
    if value is not None and not value.is_dir() and not (value.is_file() and zipfile.is_zipfile(value)):
        raise typer.BadParameter(f"{value} is neither a directory nor a .zip file")
    return value


def _code_option() -> Any:
    return typer.Option(
        "--code",
        exists=True,
        callback=_code_path,
        help="The function's code: a directory (zipped reproducibly) or a .zip file.",
        show_default=False,
    )


CodePath = Annotated[Path | None, _code_option()]
RequiredCodePath = Annotated[Path, _code_option()]


def code_body(path: Path) -> dict[str, str]:
    """The API's ``Code`` object for a directory (zipped like ``silo.functions.zip_directory``) or a zip."""
    from silo.functions import zip_directory  # the functions package is heavy: only when uploading

    data = zip_directory(path) if path.is_dir() else path.read_bytes()
    return {"zip_base64": base64.b64encode(data).decode("ascii")}


ParamPairs = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        callback=_require_pairs,
        help="A template parameter as KEY=VALUE (repeatable; list parameters take a,b,c).",
        show_default=False,
    ),
]
OverridePairs = Annotated[
    list[str] | None,
    typer.Option(
        "--override",
        callback=_require_pairs,
        help="A parameter value for these accounts only, KEY=VALUE (repeatable).",
        show_default=False,
    ),
]
TemplateFile = Annotated[
    Path,
    typer.Option(
        "--template",
        "-t",
        exists=True,
        dir_okay=False,
        readable=True,
        help="The template (YAML or JSON); CodeUri directories are relative to its directory.",
        show_default=False,
    ),
]
