"""``silo server``: run the HTTP API (``silo.api.serve``) with settings from ``SILO_*``."""

from __future__ import annotations

from typing import Annotated

import typer

from silo.settings import Settings


def server(
    host: Annotated[
        str | None, typer.Option("--host", help="Listen address (default SILO_HOST, else 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option("--port", min=1, max=65535, help="Listen port (default SILO_PORT, else 8777)."),
    ] = None,
) -> None:
    """Run the Silo API server in the foreground.

    Data lives in SILO_HOME (default .silo) unless SILO_DATABASE_URL points at PostgreSQL. On the
    first start the server creates the management account and writes its root key to
    $SILO_HOME/root-key, which the CLI then uses by default.
    """
    from silo.api import serve

    settings = Settings.from_env()
    if host is not None:
        settings = settings.with_(host=host)
    if port is not None:
        settings = settings.with_(port=port)
    serve(settings)
