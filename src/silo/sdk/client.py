"""The Silo client for function code (and for scripts holding an account key).

Inside a handler the client speaks over the execution environment's own channel to the platform,
which knows which account the environment belongs to: there is nothing to configure and nothing
that could name another account. Outside a handler it uses the HTTP API with an account key
(``SILO_ENDPOINT``, ``SILO_KEY``), which is likewise bound to the key's account.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

if TYPE_CHECKING:
    from silo.sdk.tables import Table


class SiloClientError(Exception):
    """The platform refused a request (bad input, throttled, not found...).

    ``code`` is stable (a table's failed condition is ``ConditionalCheckFailedException``, as on
    DynamoDB); ``details`` is what the error carries besides (a cancelled transaction's
    ``cancellation_reasons``), or empty.
    """

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details: dict[str, Any] = dict(details or {})


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

    def tables(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        """One table operation (``put_item``...): the request and the answer in typed JSON."""
        ...

    def close(self) -> None: ...


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
            raise SiloClientError(exc.code, exc.message, exc.details) from None
        assert isinstance(reply, dict)
        return reply

    def tables(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        from silo.runtime import channel

        try:
            reply = channel.call("tables", operation=operation, request=request)
        except channel.ChannelError as exc:
            raise SiloClientError(exc.code, exc.message, exc.details) from None
        assert isinstance(reply, dict)
        return reply

    def close(self) -> None:
        pass


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
            raise _client_error(response)
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

    def tables(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        verb = operation.replace("_", "-")
        body = dict(request)
        name = body.pop("TableName", None)
        path = (
            f"/v1/account/tables/{verb}"
            if name is None
            else f"/v1/account/tables/{quote(str(name), safe='')}/{verb}"
        )
        response = self._http.post(path, json=body, params={"format": "typed"})
        if response.status_code >= 400:
            raise _client_error(response)
        answer: dict[str, Any] = response.json()
        return answer

    def close(self) -> None:
        self._http.close()


class Client:
    """Invoke functions and use the tables of your own account.

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

    def close(self) -> None:
        """Release the HTTP connections (outside a handler); ``with Client(...) as client:`` does it."""
        self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

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

    # --- tables -------------------------------------------------------------------------------------
    def table(self, name: str) -> Table:
        """A table of your account, with boto3-like methods (``put_item(Item=...)``, ``query(...)``)
        that take and return plain documents."""
        from silo.sdk.tables import Table

        return Table(name, self._tables)

    def batch_get_item(self, **request: Any) -> dict[str, Any]:
        """BatchGetItem across tables: ``RequestItems={"orders": {"Keys": [{"id": "a"}]}}``."""
        return self._tables("batch_get_item", request)

    def batch_write_item(self, **request: Any) -> dict[str, Any]:
        """BatchWriteItem across tables: ``RequestItems={"orders": [{"PutRequest": {"Item": ...}}]}``."""
        return self._tables("batch_write_item", request)

    def transact_write_items(self, **request: Any) -> dict[str, Any]:
        """TransactWriteItems: ``TransactItems=[{"Put": {"TableName": ..., "Item": ...}}, ...]``, all or
        nothing; a failed condition raises ``TransactionCanceledException`` with its
        ``details["cancellation_reasons"]``."""
        return self._tables("transact_write_items", request)

    def transact_get_items(self, **request: Any) -> dict[str, Any]:
        """TransactGetItems: ``TransactItems=[{"Get": {"TableName": ..., "Key": ...}}, ...]``, read at
        one point in time; ``Responses`` in the same order, ``{}`` where there is no such item."""
        return self._tables("transact_get_items", request)

    def _tables(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        from silo.sdk.tables import call

        return call(self._transport, operation, request)


def _client_error(response: Any) -> SiloClientError:
    body = _json_or_none(response.content)
    if not isinstance(body, dict):
        body = {}
    details = body.get("details")
    return SiloClientError(
        str(body.get("code", response.status_code)),
        str(body.get("message", response.text)),
        details if isinstance(details, dict) else None,
    )


def _json_or_none(content: bytes) -> Any:
    try:
        return json.loads(content) if content else None
    except ValueError:
        return None
