"""Serving the API: ``serve`` (``silo server``, in the foreground) and ``serve_in_thread`` (demos, tests)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import httpx
import uvicorn

from silo.api.app import create_app
from silo.platform import Initialised, Platform
from silo.settings import Settings

_STARTUP_TIMEOUT = 15.0


def serve(settings: Settings) -> None:
    """Open the platform, initialise it on first start (printing the root key once), serve until stopped."""
    platform = Platform.open(settings)
    try:
        made = platform.initialise()
        if made is not None:
            print(banner(made), flush=True)
        uvicorn.run(
            create_app(platform),
            host=settings.host,
            port=settings.port,
            log_level="warning",
            access_log=False,
            ws="none",
        )
    finally:
        platform.close()


def banner(made: Initialised) -> str:
    """What the first start prints: the only time the root key is shown outside its file."""
    rule = "=" * 78
    return "\n".join(
        [
            rule,
            "Silo initialised: this is the first start of this platform.",
            f"  management account: {made.management_account_id}",
            f"  root key:           {made.root_key.token}",
            f"  saved to:           {made.root_key_path.resolve()} (mode 0600)",
            "Keep the root key secret: it manages the whole fleet. It is not shown again.",
            rule,
        ]
    )


def serve_in_thread(
    settings: Settings, *, port: int | None = None, platform: Platform | None = None
) -> tuple[str, Callable[[], None]]:
    """Serve the API from a daemon thread; returns its base URL and a function that stops it.

    Args:
        settings: Where to listen (``host``; ``port`` unless ``port`` is given) and, unless
            ``platform`` is given, what platform to open (it is initialised if new; the root key
            is then in ``settings.root_key_path``).
        port: The port to listen on; ``0`` picks a free one.
        platform: An already open platform to serve; it is left open when the server stops.

    Returns:
        ``(base_url, stop)``; ``stop()`` shuts the server down and closes a platform it opened.
    """
    owned = platform is None
    served = Platform.open(settings) if platform is None else platform
    if owned:
        served.initialise()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((settings.host, settings.port if port is None else port))
    host, bound = sock.getsockname()[:2]
    config = uvicorn.Config(
        create_app(served), log_level="warning", access_log=False, ws="none", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="silo-api", daemon=True)
    thread.start()
    url = f"http://{host}:{bound}"

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        if owned:
            served.close()

    try:
        _wait_healthy(url, thread)
    except BaseException:
        stop()
        raise
    return url, stop


def _wait_healthy(url: str, thread: threading.Thread) -> None:
    deadline = time.monotonic() + _STARTUP_TIMEOUT
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if not thread.is_alive():
            raise RuntimeError(f"the API server thread for {url} exited during startup")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the API server at {url} did not answer /healthz in {_STARTUP_TIMEOUT}s")
        time.sleep(0.05)
