"""The HTTP side of the isolation suites: the app, a client, tenants with keys, the routes to cover."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

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


def assert_cases_cover(
    routes: set[tuple[str, str]], cases: Iterable[tuple[str, str]], what: str = ""
) -> None:
    """Every route has an isolation case, and every case a route (``what``: "table " ...)."""
    assert routes - set(cases) == set(), f"{what}endpoints without an isolation case"
    assert set(cases) - routes == set(), "isolation cases for endpoints that no longer exist"


def caller_as(root: Api, client: TestClient, a: dict[str, str], as_: str) -> Api:
    """Tenant A's client: with its own account key, or with a session the management plane assumed."""
    token = a["token"] if as_ == "account key" else root.assume(a["account_id"], "isolation check")
    return Api(client, token)
