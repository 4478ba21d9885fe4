"""The function's only line to the platform: ``call(op, **args)`` from inside a handler.

A call travels over the environment's own socket to the host, which hands it to the ``on_call``
callback of the invocation in progress. The environment belongs to one account, so the account is
bound by the channel itself: nothing in a call can name another one. Calls from several threads of
one handler are serialised; outside an invocation (at import time, in a thread that outlives its
invocation, or outside Silo altogether) ``available()`` is False and ``call`` raises
``ChannelError("NotAvailable", ...)``.
"""

from __future__ import annotations

import json
import socket
import threading
from typing import Any

from silo.runtime import _protocol as proto

__all__ = ["ChannelError", "available", "call"]


class ChannelError(Exception):
    """The platform answered a call with an error (``code`` is stable, ``message`` is for people,
    ``details`` what the error carries besides, or empty)."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details: dict[str, Any] = details or {}


class _Transport:
    """Installed by the environment; ``active`` only while an invocation runs."""

    __slots__ = ("active", "lock", "reader", "sock")

    def __init__(self, sock: socket.socket, reader: proto.FrameReader) -> None:
        self.sock = sock
        self.reader = reader
        self.lock = threading.Lock()
        self.active = False

    def call(self, message: bytes) -> dict[str, Any]:
        with self.lock:
            if not self.active:
                raise ChannelError("NotAvailable", "the platform channel is only open during an invocation")
            proto.send_parts(self.sock, (proto.HEADER.pack(len(message), proto.CALL), message))
            kind, body = self.reader.read(None)
            if kind != proto.REPLY:
                raise ChannelError("ProtocolError", f"unexpected frame kind {kind}")
            reply: dict[str, Any] = json.loads(body)
            return reply


_transport: _Transport | None = None


def available() -> bool:
    """True while a handler runs inside a Silo environment."""
    return _transport is not None and _transport.active


def call(op: str, **args: Any) -> Any:
    """Ask the platform to do ``op`` for this function's account; return its result.

    Raises:
        ChannelError: the platform refused or failed (``code`` says why), or no channel is open.
    """
    transport = _transport
    if transport is None:
        raise ChannelError("NotAvailable", "not running inside a Silo environment")
    message = json.dumps({"type": "call", "op": op, "args": args}).encode()
    reply = transport.call(message)
    error = reply.get("error")
    if error is not None:
        details = error.get("details")
        raise ChannelError(
            str(error.get("code", "InternalError")),
            str(error.get("message", "")),
            details if isinstance(details, dict) else None,
        )
    return reply.get("result")
