"""Serving: ``serve`` prints the root key once on first start; ``serve_in_thread`` runs a real server."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from silo.api import serve, serve_in_thread
from silo.settings import Settings

from .conftest import bearer


def test_serve_in_thread_initialises_serves_and_stops(settings: Settings) -> None:
    url, stop = serve_in_thread(settings, port=0)
    try:
        token = settings.root_key_path.read_text().strip()
        assert httpx.get(f"{url}/healthz").json()["status"] == "ok"
        me = httpx.get(f"{url}/v1/whoami", headers=bearer(token)).json()
        assert me["kind"] == "management"
        denied = httpx.get(f"{url}/v1/whoami")
        assert denied.status_code == 401 and denied.json()["code"] == "Unauthenticated"
    finally:
        stop()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/healthz", timeout=1)


def test_serve_prints_the_root_key_once(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    runs: list[dict[str, Any]] = []
    monkeypatch.setattr("silo.api.server.uvicorn.run", lambda app, **kwargs: runs.append(kwargs))
    serve(settings.with_(port=9999))
    first = capsys.readouterr().out
    token = settings.root_key_path.read_text().strip()
    assert token in first
    assert str(settings.root_key_path.resolve()) in first
    assert "management account" in first
    assert runs == [
        {
            "host": settings.host,
            "port": 9999,
            "log_level": "warning",
            "access_log": False,
            "ws": "none",
        }
    ]
    serve(settings)
    assert capsys.readouterr().out == ""
    assert settings.root_key_path.read_text().strip() == token
