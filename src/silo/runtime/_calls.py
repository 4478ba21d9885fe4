"""Serving a function's platform calls (``silo.runtime.channel``) in the invoking thread, and reading
the error documents an environment sends (it is not trusted: anything unreadable is replaced)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

OnCall = Callable[[dict[str, Any]], dict[str, Any]]

_logger = logging.getLogger("silo.runtime")
_NOT_AVAILABLE = b'{"type":"reply","error":{"code":"NotAvailable","message":"no platform calls here"}}'


def answer(on_call: OnCall | None, body: bytes) -> bytes:
    """The REPLY document for one CALL frame.

    ``on_call`` gets the decoded ``{"type": "call", "op", "args"}``; its result is the reply's
    ``result``. An exception with a string ``code`` (every ``SiloError``) becomes ``{"code",
    "message", "details"?}``; any other is logged and reported as an ``InternalError`` without its
    details.
    """
    if on_call is None:
        return _NOT_AVAILABLE
    try:
        message = json.loads(body)
        if not isinstance(message, dict):
            raise ValueError("a call is a JSON object")
    except ValueError as exc:
        return _reply_error("BadRequest", str(exc))
    try:
        result = on_call(message)
    except Exception as exc:
        code = getattr(exc, "code", None)
        if isinstance(code, str):
            return _reply_error(code, str(getattr(exc, "message", exc)), getattr(exc, "details", None))
        _logger.error("on_call failed for %r", message.get("op"), exc_info=exc)
        return _reply_error("InternalError", "the platform call failed")
    try:
        return json.dumps({"type": "reply", "result": result}).encode()
    except (TypeError, ValueError) as exc:
        return _reply_error("InternalError", f"the platform's answer is not JSON: {exc}")


def _reply_error(code: str, message: str, details: Any = None) -> bytes:
    error: dict[str, Any] = {"code": code, "message": message}
    if details and isinstance(details, dict):
        error["details"] = details
    try:
        return json.dumps({"type": "reply", "error": error}).encode()
    except (TypeError, ValueError):  # details that are not JSON: the code and message still go
        error.pop("details", None)
        return json.dumps({"type": "reply", "error": error}).encode()


def error_document(body: bytes) -> dict[str, Any]:
    try:
        error = json.loads(body)
    except ValueError:
        error = None
    if not isinstance(error, dict) or not isinstance(error.get("errorType"), str):
        return {
            "errorType": "Runtime.InvalidResponse",
            "errorMessage": "the runtime sent an unreadable error",
        }
    return error
