"""An environment's invocation loop: one INVOKE frame in, one RESULT frame out, nothing else per call.

Per invocation the environment makes a handful of syscalls: the blocking recv, getrusage + setrlimit
(RLIMIT_CPU soft = CPU used so far + timeout + 1 s, so a spin is stopped by the kernel too), fstat of
the log file (plus pread when there was output), getrusage for Max Memory Used, and one sendmsg.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import socket
import sys
from decimal import Decimal
from time import monotonic
from typing import Any

from silo.runtime import _context, channel
from silo.runtime import _protocol as proto

LOG_FD = 4
LOG_CAP = 1 << 20  # bytes of output kept per invocation; the log file is truncated past it
MAX_RESPONSE = 6 << 20  # Lambda's synchronous response limit


def _json_default(value: object) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_ENCODER = json.JSONEncoder(default=_json_default)


class Logs:
    """Hands out what fds 1/2 received since the last call (the host reads the same file after a crash)."""

    __slots__ = ("fd", "offset")

    def __init__(self, fd: int = LOG_FD) -> None:
        self.fd = fd
        self.offset = os.fstat(fd).st_size

    def take(self) -> bytes:
        for stream in (sys.__stdout__, sys.__stderr__):
            if stream is not None:
                with contextlib.suppress(OSError, ValueError):
                    stream.flush()
        size = os.fstat(self.fd).st_size
        start = self.offset
        if size <= start:
            self.offset = size
            return b""
        data = os.pread(self.fd, min(size - start, LOG_CAP), start)
        if size - start > LOG_CAP:
            data += f"\n[silo: {size - start - LOG_CAP} more bytes of output dropped]\n".encode()
        if size > LOG_CAP:
            os.ftruncate(self.fd, 0)
            self.offset = 0
        else:
            self.offset = size
        return data


def serve(sock: socket.socket, handler: Any, logs: Logs, *, arm_cpu: bool = True) -> int:
    """Run invocations until the host closes the socket (0) or one ends fatally (1)."""
    reader = proto.FrameReader(sock)
    transport = channel._Transport(sock, reader)
    channel._transport = transport
    lock = transport.lock
    pack_result = proto.RESULT_HEAD.pack
    result_extra = proto.RESULT_HEAD.size - 5
    while True:
        try:
            kind, body = reader.read(None)
        except (EOFError, OSError):
            return 0
        if kind != proto.INVOKE:
            return 1
        status, out, duration_ms, maxrss_kb = run_one(handler, body, transport, arm_cpu=arm_cpu)
        text = logs.take()
        head = pack_result(
            result_extra + len(text) + len(out),
            proto.RESULT,
            duration_ms,
            logs.offset,
            maxrss_kb,
            len(text),
            status,
        )
        with lock:
            transport.active = False
            proto.send_parts(sock, (head, text, out))
        if status == proto.STATUS_FATAL:
            return 1


def run_one(
    handler: Any, body: bytes, transport: channel._Transport | None, *, arm_cpu: bool = True
) -> tuple[int, bytes, float, int]:
    """One INVOKE body through the handler: (status, response or error JSON, duration_ms, max RSS kB)."""
    fixed = proto.INVOKE_FIXED.size
    timeout_s, caller_deadline, rid_len = proto.INVOKE_FIXED.unpack_from(body)
    rid = body[fixed : fixed + rid_len].decode()
    _context.current_request_id = rid
    if arm_cpu:
        _arm_cpu_limit(timeout_s)
    start = monotonic()
    deadline = start + timeout_s
    if 0 < caller_deadline < deadline:
        deadline = caller_deadline
    status = proto.STATUS_OK
    out = b""
    error: dict[str, Any] | None = None
    oom = False
    if transport is not None:
        transport.active = True
    try:
        event = json.loads(body[fixed + rid_len :])
    except ValueError as exc:
        error = _context.simple_error("Runtime.UnmarshalError", f"Unable to unmarshal input: {exc}")
    else:
        try:
            result = handler(event, _context.LambdaContext(rid, deadline))
        except MemoryError:
            oom = True
        except SystemExit as exc:
            code = 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
            message = f"RequestId: {rid} Error: Runtime exited with error: exit status {code}"
            error = _context.simple_error("Runtime.ExitError", message)
            status = proto.STATUS_FATAL
        except BaseException as exc:
            error = _context.error_from(exc)
        else:
            out, error, oom = _marshal(result)
            del result
        if len(out) > MAX_RESPONSE:
            error = _context.simple_error(
                "Function.ResponseSizeTooLarge",
                f"Response payload size ({len(out)} bytes) exceeded maximum allowed payload size "
                f"({MAX_RESPONSE} bytes).",
            )
    duration_ms = (monotonic() - start) * 1000.0
    maxrss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if oom:
        status = proto.STATUS_FATAL
        error = _context.simple_error(
            "Runtime.OutOfMemory",
            f"RequestId: {rid} Error: Runtime exited with error: MemoryError (Max Memory Used: "
            f"{(maxrss_kb + 1023) >> 10} MB of {_context.LambdaContext.memory_limit_in_mb} MB)",
        )
    if error is not None:
        _context.log_error(error)
        out = json.dumps(error).encode()
        if status == proto.STATUS_OK:
            status = proto.STATUS_ERROR
    return status, out, duration_ms, maxrss_kb


def _marshal(result: Any) -> tuple[bytes, dict[str, Any] | None, bool]:
    try:
        return _ENCODER.encode(result).encode(), None, False
    except MemoryError:
        return b"", None, True
    except (TypeError, ValueError, RecursionError) as exc:
        return b"", _context.simple_error("Runtime.MarshalError", f"Unable to marshal response: {exc}"), False


_cpu_soft = -1


def _arm_cpu_limit(timeout_s: float) -> None:
    """RLIMIT_CPU soft = CPU seconds used so far + timeout + 1 (rounded up): SIGXCPU stops a spin.

    The value only changes when the CPU used crosses a whole second, so setrlimit is mostly skipped.
    """
    global _cpu_soft  # noqa: PLW0603 - per-process state of a single-threaded loop
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(usage.ru_utime + usage.ru_stime + timeout_s) + 2
    if soft != _cpu_soft:
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        resource.setrlimit(
            resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard)
        )
        _cpu_soft = soft
