"""The HTTP side of the isolation suites: the app, a client, tenants with keys, the routes to cover."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from silo.platform import Platform
from tests.e2e.api.conftest import Api, TestClient, compiled_app


@pytest.fixture
def app(platform: Platform) -> FastAPI:
    return compiled_app(platform)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def api_routes(app: FastAPI, prefix: str = "") -> set[tuple[str, str]]:
    """(method, path) of every route under ``prefix``, including those of included routers."""
    found: set[tuple[str, str]] = set()
    for route in iter_route_contexts(app.routes):
        path = route.path or ""
        if path.startswith(prefix):
            found |= {(method, path) for method in route.methods or () if method != "HEAD"}
    return found


def keyed_tenant(root: Api, name: str) -> dict[str, str]:
    """A new account and a key of its own."""
    account = root.account(name)
    return {"account_id": account["account_id"], "token": root.account_key(account["account_id"])}
