"""``silo demo``: the main job on the embedded default, end to end, in one command."""

from __future__ import annotations

import base64
import contextlib
import json
import tempfile
import time
from collections.abc import Callable
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
            say(
                f"the account factory made account [bold]{account['account_id']}[/] ({name}) "
                f"with its first key: execution {account['factory_execution_arn']}"
            )
            tenant = {"Authorization": f"Bearer {account['credentials']['token']}"}
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
            _fleet_rollout(http, say)
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


EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "scanner-service"


def _fleet_rollout(http: httpx.Client, say: Callable[[str], object]) -> None:
    """The example scanner service as a stack set, rolled out to every account of a tenants OU."""
    from silo.functions import zip_directory

    if not (EXAMPLE / "template.yaml").is_file():
        say("(examples/scanner-service not found next to this install: skipping the fleet rollout)")
        return
    ou_name = _free_ou(http, "demo-tenants")
    ou = _ok(http.post("/v1/mgmt/ous", json={"name": ou_name}))
    batch = [
        {"name": f"{ou_name}-{i}", "owner_email": f"ops@t{i}.example", "ou_id": ou["ou_id"]} for i in range(3)
    ]
    made = _ok(http.post("/v1/mgmt/accounts/batch", json={"accounts": batch}))
    say(f"created OU [bold]{ou_name}[/] with {made['count']} tenant accounts")
    stack_set = ou_name.replace("demo-tenants", "scanner")
    code = base64.b64encode(zip_directory(EXAMPLE / "src")).decode()
    _ok(
        http.post(
            "/v1/mgmt/stack-sets",
            json={
                "name": stack_set,
                "template": (EXAMPLE / "template.yaml").read_text(),
                "parameters": {"Stage": "prod"},
                "code": {"src/": code},
                "auto_deployment": True,
            },
        )
    )
    operation = _ok(
        http.post(
            f"/v1/mgmt/stack-sets/{stack_set}/instances",
            json={"targets": {"ous": [ou["ou_id"]]}, "preferences": {"max_concurrent": "100%"}},
        )
    )
    progress = _wait(http, operation["operation_id"])
    say(
        f"stack set [bold]{stack_set}[/] (the example scanner service, 14 functions): "
        f"{progress['succeeded']} of {progress['total']} accounts deployed, {progress['failed']} failed"
    )
    late = _ok(
        http.post(
            "/v1/mgmt/accounts",
            json={"name": f"{ou_name}-late", "owner_email": "ops@late.example", "ou_id": ou["ou_id"]},
        )
    )
    tenant = {"Authorization": f"Bearer {late['credentials']['token']}"}
    health = http.post(
        f"/v1/account/functions/{stack_set}-HealthFunction/invocations",
        headers=tenant,
        content=b'{"ping": 1}',
    )
    _ok(health)
    say(
        f"account {late['account_id']}, made later by the account factory in the OU, got the stack set "
        f"before it was ready; health -> {health.text}"
    )


def _wait(http: httpx.Client, operation_id: str) -> dict:  # type: ignore[type-arg]
    for _ in range(3000):
        progress = _ok(http.get(f"/v1/mgmt/fleet/operations/{operation_id}/progress"))
        if progress["status"] in ("SUCCEEDED", "FAILED", "STOPPED"):
            return progress
        time.sleep(0.02)
    raise typer.BadParameter(f"operation {operation_id} did not finish")


def _free_ou(http: httpx.Client, base: str) -> str:
    taken = {o["name"] for o in _ok(http.get("/v1/mgmt/ous"))["items"]}
    n = 1
    name = base
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    return name


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
