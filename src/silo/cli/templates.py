"""``silo templates validate``: check a template locally (no server), and the packaging every deploy uses.

A template's code travels with it, as ``sam package`` does: each ``CodeUri`` (a directory, or a .zip,
relative to the template's directory) is zipped reproducibly and sent as ``{"code": {path: base64}}``.
"""

from __future__ import annotations

import base64
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from silo.cli import render
from silo.cli.options import JsonOutput, ParamPairs, pairs
from silo.cli.render import Column

if TYPE_CHECKING:
    from silo.templates import ResolvedTemplate

app = typer.Typer(no_args_is_help=True, help="Templates: check one locally before deploying it (no server).")

RESOURCE_COLUMNS = [
    Column("LOGICAL ID", "logical_id", no_wrap=True),
    Column("TYPE", "type", no_wrap=True),
    Column("KIND", "kind", no_wrap=True),
    Column("NAME", "physical_name"),
    Column("RUNNABLE", "runnable", no_wrap=True),
    Column("DEPENDS ON", "depends_on", optional=True),
]

FileArg = Annotated[
    Path,
    typer.Argument(
        exists=True, dir_okay=False, readable=True, help="The template (YAML or JSON).", show_default=False
    ),
]


def read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise typer.BadParameter(f"{path} is not UTF-8 text (byte {exc.start})") from None


def resolve_locally(path: Path, parameters: dict[str, str]) -> ResolvedTemplate:
    """Load and resolve ``path`` for a placeholder account, as the server will for a real one.

    Raises:
        TemplateError: naming the template path of the problem.
    """
    from silo.templates import validate

    return validate(read(path), parameters, source=path.name)


def code_sources(resolved: ResolvedTemplate) -> dict[str, str]:
    """``CodeUri`` path (as ``silo.stacks.code_paths`` names it) -> the first function that uses it."""
    from silo.stacks.binding import function_code_refs, normalise_code_path

    found: dict[str, str] = {}
    for resource, ref in function_code_refs(resolved):
        if ref.kind == "path":
            found.setdefault(normalise_code_path(ref.value), resource.logical_id)
    return found


def _locate(base: Path, path: str, logical_id: str) -> Path:
    """A ``CodeUri`` on disk: a directory or a .zip relative to the template's directory."""
    from silo.templates import TemplateError

    target = base / path
    if target.is_dir() or (target.is_file() and zipfile.is_zipfile(target)):
        return target
    raise TemplateError(
        f"Resources.{logical_id}.Properties.CodeUri",
        f"{path!r}: no such directory or .zip next to the template ({target})",
    )


def _archive(target: Path) -> bytes:
    """A directory zipped reproducibly (as ``silo functions create`` does), or a .zip as it is."""
    from silo.functions import zip_directory

    return zip_directory(target) if target.is_dir() else target.read_bytes()


def package(path: Path, parameters: dict[str, str]) -> dict[str, Any]:
    """The request body fields for a template file: its text, parameters, and the code it needs."""
    from silo.stacks import code_paths

    resolved = resolve_locally(path, parameters)
    sources = code_sources(resolved)
    base = path.resolve().parent
    code = {
        p: base64.b64encode(_archive(_locate(base, p, sources.get(p, "?")))).decode("ascii")
        for p in sorted(code_paths(resolved))
    }
    return {"template": read(path), "parameters": parameters, "code": code}


def summary(resolved: ResolvedTemplate) -> dict[str, Any]:
    """The same document as ``POST /v1/account/templates/validate`` answers."""
    from silo.stacks import code_paths

    return {
        "description": resolved.description,
        "parameters": resolved.shown_parameters(),  # NoEcho values masked, as the server shows them
        "resources": [
            {
                "logical_id": r.logical_id,
                "type": r.type,
                "kind": r.kind,
                "physical_name": r.physical_name,
                "arn": r.arn,
                "runnable": r.runnable,
                "depends_on": list(r.depends_on),
                "generated_by": r.generated_by,
            }
            for r in resolved.resources.values()
        ],
        "outputs": {
            o.name: {"value": o.value, "description": o.description, "export_name": o.export_name}
            for o in resolved.outputs.values()
        },
        "not_runnable": list(resolved.not_runnable),
        "code_paths": sorted(code_paths(resolved)),
    }


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _human(name: str, data: dict[str, Any]) -> None:
    resources, waiting = data["resources"], data["not_runnable"]
    render.done(
        f"{name}: valid ({_count(len(resources), 'resource')}, {len(waiting)} not yet runnable, "
        f"{_count(len(data['outputs']), 'output')})"
    )
    render.table(resources, RESOURCE_COLUMNS)
    if waiting:
        kinds = {r["logical_id"]: r["type"] for r in resources}
        listed = ", ".join(f"{w} ({kinds.get(w, '?')})" for w in waiting)
        render.done(f"not yet runnable (recorded in the stack, created once Silo runs them): {listed}")
    if data["code_paths"]:
        render.done(f"code: {', '.join(data['code_paths'])}")
    for output, value in data["outputs"].items():
        render.done(f"output {output} = {render.plain(value['value'])}")


@app.command()
def validate(
    file: FileArg,
    param: ParamPairs = None,
    as_json: JsonOutput = False,
) -> None:
    """Check a template here, without a server: syntax, types, references, parameters, code paths.

    A problem is reported with its template path (e.g. Resources.Ingest.Properties.Timeout), exit code 1.
    """
    from silo.templates import TemplateError

    try:
        resolved = resolve_locally(file, pairs(param))
        for path, logical_id in sorted(code_sources(resolved).items()):
            _locate(file.resolve().parent, path, logical_id)
    except TemplateError as exc:
        error = {"code": exc.code, "message": exc.message, "details": {"path": exc.path}}
        if as_json:
            render.emit_json(error)
        else:
            typer.echo(f"error: {exc.code}: {exc.message}", err=True)
            if exc.path:
                typer.echo(f"  at {exc.path} in {file}", err=True)
        raise typer.Exit(1) from None
    render.output(as_json, summary(resolved), lambda data: _human(file.name, data))
