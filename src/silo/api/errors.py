"""Every failure becomes ``{"code", "message", "details"?}`` with the right status; never a traceback.

What is raised, and what the client gets:

    SiloError                   its own code and status (``silo.errors``)
    RequestValidationError      400 ValidationError naming each field ("body.name: Field required")
      malformed JSON            400 ValidationError "request body is not valid JSON: ..."
    HTTPException (Starlette)   404 NotFound, 405 MethodNotAllowed, else a code for the status
    anything else               500 InternalError "internal error" (logged with its traceback)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from silo.errors import SiloError

logger = logging.getLogger("silo.api")

_CODES = {
    400: "ValidationError",
    401: "Unauthenticated",
    403: "AccessDenied",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    413: "PayloadTooLarge",
    429: "TooManyRequestsException",
}
_NOT_AN_OBJECT = {"model_attributes_type", "model_type", "dict_type"}


def error_response(
    status: int,
    code: str,
    message: str,
    details: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = jsonable_encoder(dict(details))
    return JSONResponse(body, status_code=status, headers=dict(headers) if headers else None)


def field_path(loc: Sequence[Any]) -> str:
    """``("body", "accounts", 3, "name")`` -> ``"body.accounts[3].name"``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def describe_validation(errors: Sequence[Any]) -> tuple[str, list[dict[str, str]]]:
    """One message naming every offending field, and the same as a list for ``details``."""
    found: list[dict[str, str]] = []
    for error in errors:
        loc = tuple(error.get("loc", ()))
        kind = error.get("type", "")
        if kind == "json_invalid":
            reason = (error.get("ctx") or {}).get("error", "JSON decode error")
            at = f" (at character {loc[1]})" if len(loc) > 1 else ""
            message = f"request body is not valid JSON: {reason}{at}"
            return message, [{"field": "body", "message": message}]
        message = str(error.get("msg", "invalid"))
        if kind == "value_error" and "error" in (error.get("ctx") or {}):
            message = str(error["ctx"]["error"])  # our own validators' words, without "Value error, "
        if loc == ("body",) and kind in _NOT_AN_OBJECT:
            message = (
                "expected a JSON object with Content-Type: application/json"
                if isinstance(error.get("input"), bytes)  # FastAPI left a non-JSON body undecoded
                else "expected a JSON object"
            )
        elif loc == ("body",) and kind == "missing":
            message = "a JSON object is required"
        found.append({"field": field_path(loc), "message": message})
    return "; ".join(f"{e['field']}: {e['message']}" for e in found), found


async def _silo_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SiloError)
    if exc.http_status >= 500:
        logger.error("%s %s failed: %s", request.method, request.url.path, exc, exc_info=exc)
    return error_response(exc.http_status, exc.code, exc.message, exc.details)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    message, fields = describe_validation(exc.errors())
    return error_response(400, "ValidationError", message, {"errors": fields})


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    if status == 404:
        message = f"no endpoint {request.method} {request.url.path}"
    elif status == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    elif status == 400 and isinstance(exc.__cause__, ValueError | RecursionError):
        message = f"request body is not valid JSON: {_unreadable(exc.__cause__)}"
    else:
        message = str(exc.detail)
    return error_response(status, _CODES.get(status, f"Http{status}"), message, headers=exc.headers)


def _unreadable(cause: BaseException) -> str:
    """Why FastAPI could not decode a body (it reports only "There was an error parsing the body")."""
    if isinstance(cause, UnicodeDecodeError):
        return f"not UTF-8 (byte {cause.start})"
    if isinstance(cause, RecursionError):
        return "nested too deeply"
    return str(cause)


async def _unexpected(request: Request, exc: Exception) -> Response:
    logger.error("%s %s failed unexpectedly", request.method, request.url.path, exc_info=exc)
    return error_response(500, "InternalError", "internal error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(SiloError, _silo_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
