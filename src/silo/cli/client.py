"""The CLI's HTTP client: endpoint and key resolution, JSON in and out, errors as ``CliError``.

    CliError                 anything the CLI reports as ``error: ...`` on stderr with exit code 1
    ├── ApiError             the API answered ``{"code", "message"}`` with a 4xx/5xx status
    ├── ServerUnreachable    nothing listens at the endpoint (hint: start ``silo server``)
    └── NoKey                no ``--key``, no ``SILO_KEY`` and no ``$SILO_HOME/root-key``

Tests swap the transport by monkeypatching ``make_http_client`` (a ``fastapi.testclient.TestClient``
is an ``httpx.Client``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import typer

from silo.settings import Settings


class CliError(Exception):
    """An error the CLI prints as ``error: <text>`` before exiting with code 1."""

    def render(self) -> str:
        return f"error: {self}"


class ApiError(CliError):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class ServerUnreachable(CliError):
    def __init__(self, endpoint: str, reason: str) -> None:
        super().__init__(f"no Silo server at {endpoint}; start one with `silo server` ({reason})")
        self.endpoint = endpoint


class NoKey(CliError):
    pass


def make_http_client(endpoint: str) -> httpx.Client:
    """The transport for ``endpoint``. Tests monkeypatch this to serve the app in-process."""
    return httpx.Client(base_url=endpoint, timeout=httpx.Timeout(300.0, connect=5.0))


def root_key_path() -> Path:
    """``$SILO_HOME/root-key``, where the server's first start leaves the root management key."""
    return Settings(home=Path(os.environ.get("SILO_HOME") or ".silo")).root_key_path


class ApiClient:
    """A Silo API session: one endpoint, one key, one ``httpx.Client`` made on first use."""

    def __init__(self, endpoint: str, key: str | None = None) -> None:
        self.endpoint = endpoint.rstrip("/")
        self._key = key
        self._http: httpx.Client | None = None
        self._whoami: dict[str, Any] | None = None

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            self._http = make_http_client(self.endpoint)
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def token(self) -> str:
        """``--key``/``SILO_KEY``, else the root key file; ``NoKey`` with a hint when neither exists."""
        if self._key:
            return self._key
        path = root_key_path()
        try:
            self._key = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise NoKey(
                f"no API key: pass --key, set SILO_KEY, or point SILO_HOME at the directory of a "
                f"local server (no {path})"
            ) from None
        if not self._key:
            raise NoKey(f"{path} is empty")
        return self._key

    def send(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        content: bytes | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request (a JSON ``body`` or raw ``content``); the response, or ``ApiError`` on 4xx/5xx."""
        sent = {"Authorization": f"Bearer {self.token()}", "Accept": "application/json", **(headers or {})}
        query = {k: v for k, v in (params or {}).items() if v is not None and v != []}
        try:
            response = self.http.request(method, path, json=body, content=content, params=query, headers=sent)
        except httpx.ConnectError as exc:
            raise ServerUnreachable(self.endpoint, str(exc) or type(exc).__name__) from None
        except httpx.TransportError as exc:
            raise CliError(f"talking to {self.endpoint}: {exc or type(exc).__name__}") from None
        if response.status_code >= 400:
            raise _api_error(response)
        return response

    def request(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """Send one request; the decoded JSON answer (``None`` for 204), or ``ApiError``."""
        response = self.send(method, path, body=body, params=params)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.request("POST", path, body={} if body is None else body)

    def put(self, path: str, body: dict[str, Any]) -> Any:
        return self.request("PUT", path, body=body)

    def patch(self, path: str, body: dict[str, Any]) -> Any:
        return self.request("PATCH", path, body=body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    def pages(
        self,
        path: str,
        *,
        limit: int | None = None,
        next_token: str | None = None,
        all_pages: bool = False,
        **params: Any,
    ) -> dict[str, Any]:
        """A page of a list endpoint; with ``all_pages``, every item after it in one page."""
        page: dict[str, Any] = self.get(path, limit=limit, next_token=next_token, **params)
        items = list(page["items"])
        while all_pages and page.get("next_token"):
            page = self.get(path, limit=limit, next_token=page["next_token"], **params)
            items.extend(page["items"])
        return page if not all_pages else {"items": items, "next_token": None}

    def whoami(self) -> dict[str, Any]:
        """``GET /v1/whoami``, asked once per client."""
        if self._whoami is None:
            self._whoami = self.get("/v1/whoami")
        return self._whoami

    def is_account_key(self) -> bool:
        """True for account and session keys (they act in their own account via ``/v1/account``)."""
        return self.whoami().get("kind") != "management"


def _api_error(response: httpx.Response) -> ApiError:
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict) and "code" in data:
        return ApiError(response.status_code, str(data["code"]), str(data.get("message", "")))
    text = response.text.strip().splitlines()[0][:200] if response.text.strip() else response.reason_phrase
    return ApiError(response.status_code, f"HTTP{response.status_code}", text)


def segment(value: str) -> str:
    """``value`` quoted as one URL path segment (a name can never reach another path)."""
    return quote(value, safe="")


def api(ctx: typer.Context) -> ApiClient:
    """The client the root callback put in the context."""
    client = ctx.find_object(ApiClient)
    if client is None:  # a command invoked without the root app (never from `silo`)
        raise CliError("internal: no API client in the command context")
    return client
