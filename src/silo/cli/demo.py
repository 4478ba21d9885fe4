"""``silo demo``: the main job on the embedded default, end to end, in one command."""

from __future__ import annotations

import base64
import contextlib
import json
import tempfile
from pathlib import Path
from typing import Annotated

import httpx
import typer

from silo.cli import render
from silo.settings import Settings

HANDLER = """\
def handler(event, context):
    print("scanned", event.get("barcode"), "in", context.account_id)
    return {"barcode": event.get("barcode"), "station": event.get("station", "dock-1"), "ok": True}
"""


def demo(
    keep_running: Annotated[
        bool, typer.Option(help="Leave the server running afterwards (Ctrl-C stops it).")
    ] = False,
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port for the server; 0 picks a free one.")] = 0,
) -> None:
    """Start the embedded platform, create a tenant account, deploy and invoke a function in it."""
    from silo.api import serve_in_thread
    from silo.functions import zip_directory

    settings = Settings.from_env()
    url, stop = serve_in_thread(settings, port=port)
    say = render.stdout().print
    try:
        root = {"Authorization": f"Bearer {settings.root_key_path.read_text().strip()}"}
        with httpx.Client(base_url=url, headers=root, timeout=60) as http:
            say(f"[bold]Silo[/] embedded platform at {url} (home {settings.home.resolve()})")
            name = _free_name(http, "first-tenant")
            account = _ok(
                http.post("/v1/mgmt/accounts", json={"name": name, "owner_email": "ops@tenant.example"})
            )
            say(f"created account [bold]{account['account_id']}[/] ({name})")
            key = _ok(http.post(f"/v1/mgmt/accounts/{account['account_id']}/keys", json={"name": "demo"}))
            tenant = {"Authorization": f"Bearer {key['token']}"}
            with tempfile.TemporaryDirectory() as directory:
                (Path(directory) / "app.py").write_text(HANDLER)
                code = zip_directory(Path(directory))
            _ok(
                http.post(
                    "/v1/account/functions",
                    headers=tenant,
                    json={
                        "name": "scan",
                        "handler": "app.handler",
                        "code": {"zip_base64": base64.b64encode(code).decode()},
                    },
                )
            )
            say("deployed function [bold]scan[/] into the account (cold start on first call)")
            for barcode in ("4006381333931", "9780201379624"):
                response = http.post(
                    "/v1/account/functions/scan/invocations",
                    headers=tenant,
                    content=json.dumps({"barcode": barcode}),
                )
                _ok(response)
                say(f"invoke scan -> {response.text}")
            listed = _ok(http.get("/v1/mgmt/accounts", params={"limit": 100}))
            say(f"the fleet has {len(listed['items'])} accounts (the management account included)")
            say(f"root key in {settings.root_key_path}")
            say("next: run `silo server` in one shell and `silo accounts list` in another")
        if keep_running:
            say("server running; Ctrl-C to stop")
            with contextlib.suppress(KeyboardInterrupt, typer.Abort):
                typer.prompt("", default="", show_default=False, prompt_suffix="")
    finally:
        stop()


def _free_name(http: httpx.Client, base: str) -> str:
    taken = {a["name"] for a in _ok(http.get("/v1/mgmt/accounts", params={"limit": 1000}))["items"]}
    n = 1
    name = base
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    return name


def _ok(response: httpx.Response) -> dict:  # type: ignore[type-arg]
    if response.status_code >= 400:
        body = response.json()
        raise typer.BadParameter(f"{body.get('code')}: {body.get('message')}")
    return response.json() if response.content else {}
