"""The Silo client for function code (and for scripts holding an account key).

Inside a handler the client speaks over the execution environment's own channel to the platform,
which knows which account the environment belongs to: there is nothing to configure and nothing
that could name another account. Outside a handler it uses the HTTP API with an account key
(``SILO_ENDPOINT``, ``SILO_KEY``), which is likewise bound to the key's account.
"""

from __future__ import annotations

import json
import os
from typing import Any, Protocol


class SiloClientError(Exception):
    """The platform refused a request (bad input, throttled, not found...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class FunctionError(Exception):
    """The invoked function ran and failed; carries Lambda's error shape."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(f"{error.get('errorType')}: {error.get('errorMessage')}")
        self.error_type = str(error.get("errorType"))
        self.error_message = str(error.get("errorMessage"))
        self.stack_trace = list(error.get("stackTrace") or [])


class _Transport(Protocol):
    def invoke(
        self, function_name: str, payload: Any, invocation_type: str, qualifier: str | None
    ) -> dict[str, Any]: ...


class _ChannelTransport:
    def invoke(
        self, function_name: str, payload: Any, invocation_type: str, qualifier: str | None
    ) -> dict[str, Any]:
        from silo.runtime import channel

        try:
            reply = channel.call(
                "invoke",
                function_name=function_name,
                payload=payload,
                invocation_type=invocation_type,
                qualifier=qualifier,
            )
        except channel.ChannelError as exc:
            raise SiloClientError(exc.code, exc.message) from None
        assert isinstance(reply, dict)
        return reply


class _HttpTransport:
    def __init__(self, endpoint: str, key: str) -> None:
        import httpx

        self._http = httpx.Client(base_url=endpoint, headers={"Authorization": f"Bearer {key}"}, timeout=960)

    def invoke(
        self, function_name: str, payload: Any, invocation_type: str, qualifier: str | None
    ) -> dict[str, Any]:
        params = {"qualifier": qualifier} if qualifier else {}
        response = self._http.post(
            f"/v1/account/functions/{function_name}/invocations",
            content=json.dumps(payload).encode(),
            params=params,
            headers={"X-Silo-Invocation-Type": invocation_type, "Content-Type": "application/json"},
        )
        if response.status_code >= 400:
            body = _json_or_none(response.content) or {}
            raise SiloClientError(
                str(body.get("code", response.status_code)), str(body.get("message", response.text))
            )
        if response.status_code == 202:
            return {"status": 202, "invocation_id": response.json().get("invocation_id")}
        if response.status_code == 204:
            return {"status": 204}
        error = response.headers.get("X-Silo-Function-Error")
        body = _json_or_none(response.content)
        return {
            "status": 200,
            "payload": None if error else body,
            "error": body if error else None,
            "executed_version": response.headers.get("X-Silo-Executed-Version"),
        }


class Client:
    """Invoke functions of your own account.

    ``Client()`` picks the transport: the environment's channel inside a handler, else HTTP with
    ``endpoint``/``key`` or ``SILO_ENDPOINT``/``SILO_KEY``.
    """

    def __init__(self, endpoint: str | None = None, key: str | None = None) -> None:
        from silo.runtime import channel

        if channel.available() and endpoint is None and key is None:
            self._transport: _Transport = _ChannelTransport()
        else:
            key = key or os.environ.get("SILO_KEY")
            if not key:
                raise SiloClientError(
                    "NoCredentials", "outside a function, give an account key (key= or SILO_KEY)"
                )
            self._transport = _HttpTransport(
                endpoint or os.environ.get("SILO_ENDPOINT", "http://127.0.0.1:8777"), key
            )

    def invoke(self, function_name: str, payload: Any = None, *, qualifier: str | None = None) -> Any:
        """Invoke synchronously and return the function's result; raises ``FunctionError`` if it failed."""
        reply = self._transport.invoke(
            function_name, {} if payload is None else payload, "RequestResponse", qualifier
        )
        if reply.get("error"):
            raise FunctionError(reply["error"])
        return reply.get("payload")

    def invoke_async(self, function_name: str, payload: Any = None, *, qualifier: str | None = None) -> str:
        """Queue an ``Event`` invocation (durable once this returns); returns its id."""
        reply = self._transport.invoke(function_name, {} if payload is None else payload, "Event", qualifier)
        return str(reply["invocation_id"])


def _json_or_none(content: bytes) -> Any:
    try:
        return json.loads(content) if content else None
    except ValueError:
        return None
