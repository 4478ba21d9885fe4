"""The wire format between the host, the zygote and an environment (standard library only).

Every message on an environment's socketpair is a frame: a 5-byte header (little-endian body length,
one kind byte) then the body. Fixed fields are packed with ``struct``; variable parts follow raw, so
a payload crosses as the JSON bytes it already is, never re-encoded::

    host -> env   SPEC    the function to become (a marshalled dict; first frame, from the trusted host)
    host -> env   INVOKE  timeout_s, deadline, len(request_id) | request_id | payload
    env  -> host  HELLO   pid | name of its TMPDIR and log file (first frame, before any user code runs)
                  INIT    init_ms, log_offset, len(logs) | logs | error JSON (empty when the import worked)
                  RESULT  duration_ms, log_offset, max_rss_kb, len(logs), status | logs | body
                  CALL    JSON {"type": "call", "op": ..., "args": ...}
    host -> env   REPLY   JSON {"type": "reply", "result": ...} or {"type": "reply", "error": ...}
    zygote-> host EXIT    wait status (the zygote holds a copy of the env's socket end and writes this
                          once it has reaped the process, then closes it)

Deadlines are ``time.monotonic()`` values: CLOCK_MONOTONIC is system-wide on Linux.
"""

from __future__ import annotations

import select
import socket
import struct
import time
from collections.abc import Sequence

HEADER = struct.Struct("<IB")
HELLO, INIT, INVOKE, RESULT, CALL, REPLY, EXIT, SPEC = range(1, 9)

HELLO_FRAME = struct.Struct("<IBi32s")  # pid, name of the environment's TMPDIR and log file
EXIT_FRAME = struct.Struct("<IBi")
INVOKE_HEAD = struct.Struct("<IBddH")  # header + the fixed fields, as the host packs it
INVOKE_FIXED = struct.Struct("<ddH")  # the fixed fields, as the environment unpacks the body
INIT_HEAD = struct.Struct("<IBdQI")
INIT_FIXED = struct.Struct("<dQI")
RESULT_HEAD = struct.Struct("<IBdQIIB")
RESULT_FIXED = struct.Struct("<dQIIB")

STATUS_OK, STATUS_ERROR, STATUS_FATAL = 0, 1, 2  # FATAL: an error after which the environment exits

MAX_FRAME = 64 << 20
_CHUNK = 1 << 16
_SLACK = 0.005  # seconds a socket timeout may be off before it is set again
_TIMEVAL = struct.Struct("@ll")


class ProtocolError(Exception):
    """The peer sent something that is not a frame (an environment is not trusted)."""


class FrameTimeout(Exception):
    """No complete frame before the deadline."""


class FrameReader:
    """Reads frames from a blocking stream socket; one recv usually yields a whole small frame.

    With ``deadline=None`` it blocks (environments). With a deadline (the host) the wait is the
    kernel's: SO_RCVTIMEO/SO_SNDTIMEO are set to the time left, and only re-set when that moves by more
    than a few milliseconds, so a warm invocation costs no extra syscall (no poll, no setsockopt).
    """

    __slots__ = ("_armed", "_buf", "_lowat", "_poll", "_sock")

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buf = b""
        self._armed = 0.0
        self._lowat = 1
        self._poll = select.poll()
        self._poll.register(sock.fileno(), select.POLLIN)

    def pending(self) -> bool:
        """True if the peer has written something (or hung up) that nobody read yet."""
        return bool(self._buf) or bool(self._poll.poll(0))

    def read(self, deadline: float | None) -> tuple[int, bytes]:
        buf = self._buf
        while len(buf) < 5:
            buf += self._recv(_CHUNK, deadline)
        size, kind = HEADER.unpack_from(buf)
        if size > MAX_FRAME:
            raise ProtocolError(f"frame of {size} bytes")
        end = size + 5
        if len(buf) >= end:
            self._buf = buf[end:]
            return kind, buf[5:end]
        body = bytearray(size)
        have = len(buf) - 5
        body[:have] = buf[5:]
        self._buf = b""
        view = memoryview(body)
        while have < size:
            have += self._recv_into(view[have:], deadline)
        return kind, bytes(body)

    def arm(self, deadline: float) -> None:
        """Make blocking recv/send calls give up around ``deadline`` (FrameTimeout once it passed)."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise FrameTimeout
        if abs(left - self._armed) > _SLACK:
            value = _TIMEVAL.pack(int(left), max(1, int(left % 1 * 1e6)))
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, value)
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, value)
            self._armed = left

    def wait_for(self, size: int) -> None:
        """Let a blocking recv sleep until ``size`` bytes are there (SO_RCVLOWAT), or EOF or timeout."""
        if size != self._lowat:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, size)
            self._lowat = size

    def _recv(self, size: int, deadline: float | None) -> bytes:
        while True:
            if deadline is not None:
                self.arm(deadline)
            try:
                data = self._sock.recv(size)
            except BlockingIOError:
                continue  # SO_RCVTIMEO expired: arm() decides whether the deadline has
            if not data:
                raise EOFError
            return data

    def _recv_into(self, view: memoryview, deadline: float | None) -> int:
        while True:
            if deadline is not None:
                self.arm(deadline)
            try:
                count = self._sock.recv_into(view)
            except BlockingIOError:
                continue
            if not count:
                raise EOFError
            return count


def send_parts(
    sock: socket.socket,
    parts: Sequence[bytes],
    reader: FrameReader | None = None,
    deadline: float | None = None,
) -> None:
    """Write all of ``parts``: one sendmsg when it fits (the usual case), else until done.

    With a deadline, ``reader`` arms the socket's send timeout, and a peer that stops reading makes
    it give up with ``FrameTimeout``.
    """
    if reader is not None and deadline is not None:
        reader.arm(deadline)
    try:
        sent = sock.sendmsg(parts)
    except BlockingIOError:
        sent = 0
    total = sum(map(len, parts))
    if sent == total:
        return
    rest = memoryview(b"".join(parts))[sent:]
    while rest:
        if reader is not None and deadline is not None:
            reader.arm(deadline)
        try:
            rest = rest[sock.send(rest) :]
        except BlockingIOError:
            continue
