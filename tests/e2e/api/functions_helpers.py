"""Helpers for the function and dead-letter API tests (and the API isolation test)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import httpx

from .conftest import Api, bearer

FUNCTIONS = "/v1/account/functions"


def code_of(zipped: bytes) -> dict[str, str]:
    """The API's ``Code`` object for a zip."""
    return {"zip_base64": base64.b64encode(zipped).decode()}


@dataclass
class Tenant:
    """A member account and the API bound to an account key of it."""

    account_id: str
    api: Api

    @classmethod
    def make(cls, root: Api, name: str, **fields: Any) -> Tenant:
        made = root.account(name, **fields)
        return cls(made["account_id"], root.as_(root.account_key(made["account_id"])))

    def create(self, name: str, zipped: bytes, expect: int = 201, **fields: Any) -> Any:
        body = {"name": name, "handler": "app.handler", "code": code_of(zipped), **fields}
        return self.api.post(FUNCTIONS, body, expect)

    def invoke(
        self,
        name: str,
        payload: bytes | None = b"{}",
        *,
        kind: str | None = None,
        qualifier: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """POST the raw payload to the function's invocations; the response, whatever its status."""
        sent = {**bearer(self.api.token or ""), "Content-Type": "application/json", **(headers or {})}
        if kind is not None:
            sent["X-Silo-Invocation-Type"] = kind
        params = {"qualifier": qualifier} if qualifier is not None else None
        response: httpx.Response = self.api.client.post(
            f"{FUNCTIONS}/{name}/invocations", content=payload, params=params, headers=sent
        )
        return response
