"""API tests: ``create_app(platform)`` served in-process by a TestClient, on every store backend."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.exceptions import StarletteDeprecationWarning

from silo.api import create_app
from silo.platform import Initialised, Platform

with warnings.catch_warnings():
    # Starlette >= 1.10 prefers the `httpx2` package; on plain httpx it warns once at import.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

__all__ = ["Api", "TestClient", "bearer", "compiled_app"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Api:
    """A TestClient bound to one key; every call states the status it expects."""

    client: TestClient
    token: str | None

    def as_(self, token: str | None) -> Api:
        return Api(self.client, token)

    def call(
        self,
        method: str,
        path: str,
        expect: int = 200,
        *,
        json: Any = None,
        params: Any = None,
        **kwargs: Any,
    ) -> Any:
        headers = {**(bearer(self.token) if self.token else {}), **kwargs.pop("headers", {})}
        if json is not None:
            kwargs["json"] = json
        response = self.client.request(method, path, params=params, headers=headers, **kwargs)
        assert response.status_code == expect, (
            f"{method} {path}: expected {expect}, got {response.status_code}: {response.text}"
        )
        if response.status_code == 204:
            assert response.content == b""
            return None
        return response.json()

    def get(self, path: str, expect: int = 200, **kwargs: Any) -> Any:
        return self.call("GET", path, expect, **kwargs)

    def post(self, path: str, json: Any = None, expect: int = 200, **kwargs: Any) -> Any:
        return self.call("POST", path, expect, json={} if json is None else json, **kwargs)

    def put(self, path: str, json: Any, expect: int = 200, **kwargs: Any) -> Any:
        return self.call("PUT", path, expect, json=json, **kwargs)

    def patch(self, path: str, json: Any, expect: int = 200, **kwargs: Any) -> Any:
        return self.call("PATCH", path, expect, json=json, **kwargs)

    def delete(self, path: str, expect: int = 204, **kwargs: Any) -> Any:
        return self.call("DELETE", path, expect, **kwargs)

    # --- shortcuts used across files -------------------------------------------------------------
    def account(self, name: str, **fields: Any) -> dict[str, Any]:
        body = {"name": name, "owner_email": f"{name}@tenant.example", **fields}
        made: dict[str, Any] = self.post("/v1/mgmt/accounts", body, 201)
        return made

    def account_key(self, account_id: str, name: str = "ci") -> str:
        issued = self.post(f"/v1/mgmt/accounts/{account_id}/keys", {"name": name}, 201)
        token: str = issued["token"]
        return token

    def assume(self, account_id: str, reason: str = "support ticket 42") -> str:
        issued = self.post(f"/v1/mgmt/accounts/{account_id}/assume", {"reason": reason}, 201)
        token: str = issued["token"]
        return token

    def ou(self, name: str, parent_id: str | None = None) -> dict[str, Any]:
        body = {"name": name} if parent_id is None else {"name": name, "parent_id": parent_id}
        made: dict[str, Any] = self.post("/v1/mgmt/ous", body, 201)
        return made


_compiled: dict[int, Any] = {}  # id(included router) -> how an earlier app included it, compiled


def compiled_app(platform: Platform) -> FastAPI:
    """``create_app(platform)``, with its routers swapped for the same routers as an earlier app
    included and FastAPI compiled for it.

    FastAPI compiles the routes of an included router (dependencies, request and response models)
    on the first request an app serves: 0.1-0.2 s per app, so per test. What it compiles depends on
    the router and on how it was included, never on the platform (a route finds that in
    ``request.app.state`` on each request); of its app it keeps only where to look up
    ``dependency_overrides``, so this app is given that same (empty) dict. Everything else (state,
    middleware and its limits, error handlers) is this app's own, and any router FastAPI does not
    show as included exactly the same way stays as ``create_app`` made it.
    """
    app = create_app(platform)
    routes = app.router.routes
    provider: Any = None
    for index, route in enumerate(routes):
        router = getattr(route, "original_router", None)
        if router is None:
            continue
        earlier = _compiled.setdefault(id(router), route)  # it holds the router: ids stay unique
        try:
            was, now = earlier.include_context, route.include_context
            same = dataclasses.replace(was, dependency_overrides_provider=None) == dataclasses.replace(
                now, dependency_overrides_provider=None
            )
        except (AttributeError, TypeError):  # not a dataclass, or not with that field
            same = False
        if earlier is route or not same or type(earlier) is not type(route):
            continue
        if provider is None and not was.dependency_overrides_provider.dependency_overrides:
            provider = was.dependency_overrides_provider
        if was.dependency_overrides_provider is provider:
            routes[index] = earlier
    if provider is not None:
        app.dependency_overrides = provider.dependency_overrides
    return app


@pytest.fixture
def app(platform: Platform) -> FastAPI:
    return compiled_app(platform)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def root_headers(init: Initialised) -> dict[str, str]:
    return bearer(init.root_key.token)


@pytest.fixture
def api(client: TestClient, init: Initialised) -> Api:
    """The API as the root management key."""
    return Api(client, init.root_key.token)
