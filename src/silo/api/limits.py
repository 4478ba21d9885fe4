"""``BodySizeLimit``: a pure ASGI middleware that refuses request bodies over the limit with 413.

A declared ``Content-Length`` over the limit is refused before anything is read. A body without
one (chunked transfer) is counted as it streams: the moment it passes the limit, reading stops,
whatever the app was about to answer is dropped, and the client gets the same 413.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from silo.api.errors import error_response


class _TooLarge(Exception):
    """Raised into the app from ``receive`` to stop it reading an oversized body."""


class BodySizeLimit:
    """``max_body_bytes`` everywhere, except paths matching one of ``larger`` (regex, limit)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, larger: Sequence[tuple[str, int]] = ()) -> None:
        self.app = app
        self.default_limit = max_body_bytes
        self.larger = [(re.compile(pattern), limit) for pattern, limit in larger]

    def limit_for(self, path: str) -> int:
        for pattern, limit in self.larger:
            if pattern.match(path):
                return limit
        return self.default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        await self._limited(scope, receive, send, limit)

    async def _limited(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        declared = _content_length(scope)
        if declared == -1:
            await error_response(400, "ValidationError", "Content-Length: not a byte count")(
                scope, receive, send
            )
            return
        if declared is not None and declared > limit:
            await self._refuse(scope, receive, send, limit)
            return

        received = 0
        exceeded = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # the app's answer to a truncated body is replaced by the 413 below
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await self._refuse(scope, receive, send, limit)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = error_response(
            413,
            "PayloadTooLarge",
            f"request body is larger than {limit} bytes",
            {"max_body_bytes": limit},
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    """The declared length, ``None`` when there is none, ``-1`` when it is not a number."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                return -1
            return length if length >= 0 else -1
    return None
