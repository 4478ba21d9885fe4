"""An environment's invocation loop: one INVOKE frame in, one RESULT frame out, nothing else per call.

Per invocation the environment makes a handful of syscalls: the blocking recv, getrusage + setrlimit
(RLIMIT_CPU soft = CPU used so far + timeout + 1 s, so a spin is stopped by the kernel too), fstat of
the log file (plus pread when there was output), getrusage for Max Memory Used, and one sendmsg.
"""

from __future__ import annotations

import json
import json.encoder
import os
import resource
import socket
import sys
import time
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


class Logs:
    """Hands out what fds 1/2 received since the last call (the host reads the same file after a crash)."""

    __slots__ = ("fd", "offset")

    def __init__(self, fd: int = LOG_FD) -> None:
        self.fd = fd
        self.offset = os.fstat(fd).st_size

    def take(self) -> bytes:
        for stream in _STREAMS:
            if stream is not None:
                try:  # noqa: SIM105 - contextlib.suppress costs two calls per stream per invocation
                    stream.flush()
                except (OSError, ValueError):
                    pass
        size = _fstat(self.fd).st_size
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


_STREAMS = (sys.__stdout__, sys.__stderr__)
_fstat = os.fstat


def serve(
    sock: socket.socket, reader: proto.FrameReader, handler: Any, logs: Logs, *, arm_cpu: bool = True
) -> int:
    """Run invocations until the host closes the socket (0) or one ends fatally (1)."""
    transport = channel._Transport(sock, reader)
    channel._transport = transport
    lock = transport.lock
    pack_result = proto.RESULT_HEAD.pack
    result_extra = proto.RESULT_HEAD.size - 5
    read = reader.read
    send = sock.sendmsg
    take = logs.take
    result_kind, invoke_kind, fatal = proto.RESULT, proto.INVOKE, proto.STATUS_FATAL
    while True:
        try:
            kind, body = read(None)
        except (EOFError, OSError):
            return 0
        if kind != invoke_kind:
            return 1
        status, out, duration_ms, maxrss_kb = run_one(handler, body, transport, arm_cpu=arm_cpu)
        text = take()
        head = pack_result(
            result_extra + len(text) + len(out),
            result_kind,
            duration_ms,
            logs.offset,
            maxrss_kb,
            len(text),
            status,
        )
        with lock:
            transport.active = False
            parts = (head, text, out)
            try:
                sent = send(parts)
            except BlockingIOError:
                sent = 0
            if sent != len(head) + len(text) + len(out):
                proto.send_parts(sock, (b"".join(parts)[sent:],))
        if status == fatal:
            return 1


def run_one(
    handler: Any, body: bytes, transport: channel._Transport | None, *, arm_cpu: bool = True
) -> tuple[int, bytes, float, int]:
    """One INVOKE body through the handler: (status, response or error JSON, duration_ms, max RSS kB)."""
    timeout_s, caller_deadline, rid_len = _unpack_invoke(body)
    rid_end = _FIXED + rid_len
    rid = body[_FIXED:rid_end].decode()
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
        event = _loads(body[rid_end:])
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
    maxrss_kb = _getrusage(_SELF).ru_maxrss
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
        chunks = _encode(result, 0)
        return (chunks if type(chunks) is str else "".join(chunks)).encode(), None, False
    except MemoryError:
        return b"", None, True
    except (TypeError, ValueError, RecursionError) as exc:
        _markers.clear()
        return b"", _context.simple_error("Runtime.MarshalError", f"Unable to marshal response: {exc}"), False


_FIXED = proto.INVOKE_FIXED.size
_unpack_invoke = proto.INVOKE_FIXED.unpack_from
_loads = json.loads
_getrusage = resource.getrusage
_SELF = resource.RUSAGE_SELF
# The C encoder of ``json.dumps`` (ensure_ascii, check_circular, allow_nan), made once instead of per
# response; ``_markers`` is the circular-reference check's state, emptied again after a failure.
_markers: dict[int, Any] = {}
_encode = (json.encoder.c_make_encoder or json.encoder._make_iterencode)(  # type: ignore[attr-defined]
    _markers,
    _json_default,
    json.encoder.encode_basestring_ascii,
    None,
    ": ",
    ", ",
    False,
    False,
    True,
)


_cpu_soft = -1


def _arm_cpu_limit(timeout_s: float) -> None:
    """RLIMIT_CPU soft = CPU seconds used so far + timeout + 1 (rounded up): SIGXCPU stops a spin.

    The value only changes when the CPU used crosses a whole second, so setrlimit is mostly skipped.
    """
    global _cpu_soft  # noqa: PLW0603 - per-process state of a single-threaded loop
    soft = int(_process_time() + timeout_s) + 2
    if soft != _cpu_soft:
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        resource.setrlimit(
            resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard)
        )
        _cpu_soft = soft


_process_time = time.process_time
