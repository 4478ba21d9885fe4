"""The host's side of one execution environment: its socket, its pid, and one invocation at a time.

Nothing the environment sends is trusted: frames are size-capped, unexpected ones kill it, and the
pid comes from its first frame, sent before any function code runs. The process is killed through
a pidfd (no pid-reuse race) and its session's process group (subprocesses it started).

On a root host each environment has a user id of its own (``_uids``), sent with the fork request;
``destroy`` hands it back (``release``) only once the pidfd says the process has exited, and retires
it (``retire``) when that cannot be confirmed (no HELLO yet, or still running after a second).
"""

from __future__ import annotations

import contextlib
import marshal
import os
import select
import signal
import socket
from collections.abc import Callable
from time import monotonic
from typing import Any

from silo.runtime import _protocol as proto
from silo.runtime._calls import OnCall, answer, error_document
from silo.runtime._logs import exit_reason, peak_rss_mb, read_log, timed_out
from silo.runtime._models import EnvironmentSpec, InvocationResult

INIT_TIMEOUT_S = 10.0  # Lambda's init phase limit; the invocation's own timeout starts after it
HOP_SLACK_S = 0.005
EXIT_WAIT_MS = 1000  # how long ``destroy`` waits for a killed process before retiring its uid

_INVOKE_HEAD = proto.INVOKE_HEAD.pack
_INVOKE_FIXED_SIZE = proto.INVOKE_FIXED.size
_INVOKE = proto.INVOKE


_RESULT = proto.RESULT
_RESULT_FIXED = proto.RESULT_FIXED.unpack_from
_RESULT_FIXED_SIZE = proto.RESULT_FIXED.size
_STATUS_OK = proto.STATUS_OK


def _invoke_head(rid: bytes, payload: bytes, timeout_s: float, deadline: float | None) -> bytes:
    """The INVOKE frame's header and fixed fields (the request id and payload follow as they are)."""
    size = _INVOKE_FIXED_SIZE + len(rid) + len(payload)
    return _INVOKE_HEAD(size, _INVOKE, timeout_s, deadline or 0.0, len(rid))


class EnvironmentStale(Exception):
    """A warm environment turned out to be dead before it got the request: use another one."""


class _Died(Exception):
    def __init__(self, status: int | None) -> None:
        super().__init__(status)
        self.status = status


class EnvironmentProcess:
    __slots__ = (
        "_theirs",
        "_uid_done",
        "account_id",
        "alive",
        "env_id",
        "host_dir",
        "key",
        "last_used",
        "log_offset",
        "log_path",
        "pid",
        "pidfd",
        "reader",
        "sock",
        "spec",
        "sweep",
        "uid",
    )

    def __init__(
        self,
        env_id: str,
        spec: EnvironmentSpec | None,
        host_dir: str,
        uid: int | None = None,
        uid_done: Callable[[int, bool], None] | None = None,
        *,
        sweep: bool = False,
    ) -> None:
        """``uid``: the environment's own user id (root hosts); ``uid_done(uid, exited)`` gives it back;
        ``sweep``: the id was handed out before, so whatever still runs under it is killed first."""
        self.uid = uid
        self.sweep = sweep
        self._uid_done = uid_done
        self.host_dir = host_dir
        self.env_id = env_id
        self.spec: EnvironmentSpec
        self.key: tuple[str, str, str, str]
        self.account_id = ""
        if spec is not None:
            self.bind(spec)
        self.log_path: str | None = None  # named in the HELLO frame; read after a crash or timeout
        self.sock, self._theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.reader = proto.FrameReader(self.sock)
        self.pid: int | None = None
        self.pidfd: int | None = None
        self.log_offset = 0
        self.last_used = 0.0
        self.alive = True

    def bind(self, spec: EnvironmentSpec) -> None:
        """The function this environment becomes (at once, or later for a claimed spare)."""
        self.spec = spec
        self.key = spec.key
        self.account_id = spec.account_id

    def fork_request(self) -> tuple[dict[str, Any], socket.socket]:
        """The request a spare takes from the zygote's queue (with our socket's other end): who to
        become, not yet which function: that comes as the SPEC frame (``spec_frame``)."""
        return {"uid": self.uid, "gid": self.uid, "sweep": self.sweep}, self._theirs

    def spec_frame(self) -> bytes:
        spec = self.spec
        name, version = spec.function_name, spec.version
        body = marshal.dumps(
            {
                "env_id": self.env_id,
                "account_id": spec.account_id,
                "function_name": name,
                "version": version,
                "arn": f"arn:silo:lambda:local:{spec.account_id}:function:{name}:{version}",
                "log_group": f"/aws/lambda/{name}",
                "log_stream": f"[{version}]{self.env_id}",
                "code_dir": os.path.abspath(spec.code_dir),
                "handler": spec.handler,
                "memory_mb": spec.memory_mb,
                "environment": dict(spec.environment),
            }
        )
        return proto.HEADER.pack(len(body), proto.SPEC) + body

    def usable(self, hello_wait: float = 0.0) -> bool:
        """(A claim kept ready.) Whether its process is still there, its HELLO read if it came
        (waiting up to ``hello_wait`` for it)."""
        unread = self.pid is None and (hello_wait or self.reader.pending())
        if unread and (not self._read_hello(hello_wait) or self.pidfd is None):
            return False  # EOF, a timeout, a broken frame, or gone: not a spare to hand a function
        if self.pidfd is not None:
            poller = select.poll()
            poller.register(self.pidfd, select.POLLIN)
            return not poller.poll(0)  # readable: it has exited
        return True

    def forked(self) -> None:
        """The request (with the other end) is queued for a spare, or failed: drop our copy."""
        self._theirs.close()

    def invoke(
        self, rid: str, payload: bytes, on_call: OnCall | None, deadline: float | None, cold: bool
    ) -> InvocationResult:
        if cold:
            return self._invoke_cold(rid, payload, on_call, deadline)
        # The warm path, kept flat: one poll (is it still there?), one sendmsg, usually one recv.
        spec = self.spec
        t0 = monotonic()
        limit = t0 + spec.timeout_s
        if deadline is not None and deadline < limit:
            limit = deadline
        reader = self.reader
        if reader.pending():
            raise EnvironmentStale
        rid_b = rid.encode()
        head = _invoke_head(rid_b, payload, spec.timeout_s, deadline)
        try:
            try:
                proto.send_parts(self.sock, (head, rid_b, payload), reader, limit)
            except (BrokenPipeError, ConnectionResetError):
                raise EnvironmentStale from None
            try:
                kind, body = reader.read(limit)
            except EOFError:
                raise _Died(None) from None
            except (proto.ProtocolError, OSError):
                raise self._broken() from None
            if kind == _RESULT:
                duration, self.log_offset, maxrss_kb, log_len, status = _RESULT_FIXED(body)
                start = _RESULT_FIXED_SIZE
                end = start + log_len
                peak = (maxrss_kb + 1023) >> 10
                if status == _STATUS_OK:
                    return self._result(
                        rid, False, body[end:], None, b"", body[start:end], duration, None, peak
                    )
                if status == proto.STATUS_FATAL:
                    self.alive = False
                error = error_document(body[end:])
                return self._result(rid, False, None, error, b"", body[start:end], duration, None, peak)
            if kind == proto.EXIT:
                raise _Died(int.from_bytes(body[:4], "little", signed=True))
            if kind != proto.CALL:
                raise self._broken()
            self._reply(on_call, body, limit)
            return self._finish(rid, False, on_call, limit, None, b"")
        except proto.FrameTimeout:
            return self._timed_out(rid, False, None, b"", limit - t0, t0, False)
        except _Died as died:
            return self._died(rid, False, None, b"", t0, died)

    def _invoke_cold(
        self, rid: str, payload: bytes, on_call: OnCall | None, deadline: float | None
    ) -> InvocationResult:
        spec = self.spec
        t0 = monotonic()
        limit = t0 + INIT_TIMEOUT_S
        if deadline is not None and deadline < limit:
            limit = deadline
        rid_b = rid.encode()
        head = _invoke_head(rid_b, payload, spec.timeout_s, deadline)
        init_ms: float | None = None
        init_logs = b""
        in_init = True
        budget = limit - t0  # the handler's time, as a timeout message reports it
        try:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                proto.send_parts(self.sock, (self.spec_frame(), head, rid_b, payload), self.reader, limit)
            checkpoint = min(limit, t0 + spec.timeout_s)
            init_ms, init_logs, error = self._start(checkpoint, limit)
            if error is not None:
                self.alive = False
                return self._result(rid, True, None, error, init_logs, b"", 0.0, init_ms, 0)
            in_init = False
            # The handler's time starts after init, which the environment measured from when it
            # took the request (after t0); the slack covers that hop.
            t0 += init_ms / 1000.0
            limit = t0 + spec.timeout_s + HOP_SLACK_S
            if deadline is not None and deadline < limit:
                limit = deadline
            budget = min(spec.timeout_s, limit - t0)
            return self._finish(rid, True, on_call, limit, init_ms, init_logs)
        except proto.FrameTimeout:
            return self._timed_out(rid, True, init_ms, init_logs, budget, t0, in_init)
        except _Died as died:
            return self._died(rid, True, init_ms, init_logs, t0, died)

    def _timed_out(
        self,
        rid: str,
        cold: bool,
        init_ms: float | None,
        init_logs: bytes,
        budget: float,
        t0: float,
        in_init: bool,
    ) -> InvocationResult:
        self.alive = False
        peak = peak_rss_mb(self.pid)
        self.kill()
        elapsed = monotonic() - t0 if in_init else budget
        error = timed_out(rid, elapsed)
        logs = read_log(self.log_path, self.log_offset)
        message = error["errorMessage"]
        return self._result(rid, cold, None, error, init_logs, logs, elapsed * 1e3, init_ms, peak, message)

    def _died(
        self, rid: str, cold: bool, init_ms: float | None, init_logs: bytes, t0: float, died: _Died
    ) -> InvocationResult:
        self.alive = False
        error = {"errorType": "Runtime.ExitError", "errorMessage": exit_reason(rid, died.status)}
        logs = read_log(self.log_path, self.log_offset)
        duration = (monotonic() - t0) * 1e3
        message = error["errorMessage"]
        return self._result(rid, cold, None, error, init_logs, logs, duration, init_ms, 0, message)

    def _reply(self, on_call: OnCall | None, body: bytes, limit: float) -> None:
        reply = answer(on_call, body)
        proto.send_parts(self.sock, (proto.HEADER.pack(len(reply), proto.REPLY), reply), self.reader, limit)

    def _start(self, checkpoint: float, limit: float) -> tuple[float, bytes, dict[str, Any] | None]:
        """HELLO and INIT. The first recv sleeps until HELLO, INIT and the head of a RESULT could all
        be there (SO_RCVLOWAT), so a quick cold start wakes this thread once; it wakes at
        ``checkpoint`` (when a handler after a quick init could time out) at the latest."""
        said_hello = self.pid is not None  # a claim kept ready: its HELLO was read when it was taken
        hello = 0 if said_hello else proto.HELLO_FRAME.size
        self.reader.wait_for(hello + proto.INIT_HEAD.size + proto.RESULT_HEAD.size)
        try:
            try:
                kind, body = self._read(checkpoint)
            except proto.FrameTimeout:
                kind, body = self._read(limit)  # not even a HELLO yet: a slow start
        finally:
            self.reader.wait_for(1)
        if not said_hello:
            if kind != proto.HELLO:
                raise self._broken()
            pid = self._hello(body)
            try:
                self.pidfd = os.pidfd_open(pid)
            except OSError:
                self.pidfd = None
            kind, body = self._read(limit)  # INIT, usually read already
        if kind != proto.INIT:
            raise self._broken()
        init_ms, self.log_offset, log_len = proto.INIT_FIXED.unpack_from(body)
        start = proto.INIT_FIXED.size
        logs = body[start : start + log_len]
        rest = body[start + log_len :]
        error = error_document(rest) if rest else None
        return init_ms, logs, error

    def _finish(
        self,
        rid: str,
        cold: bool,
        on_call: OnCall | None,
        limit: float,
        init_ms: float | None,
        init_logs: bytes,
    ) -> InvocationResult:
        while True:
            kind, body = self._read(limit)
            if kind == proto.RESULT:
                duration, log_offset, maxrss_kb, log_len, status = proto.RESULT_FIXED.unpack_from(body)
                start = proto.RESULT_FIXED.size
                self.log_offset = log_offset
                out = body[start + log_len :]
                logs = body[start : start + log_len]
                peak = (maxrss_kb + 1023) >> 10
                if status == proto.STATUS_OK:
                    return self._result(rid, cold, out, None, init_logs, logs, duration, init_ms, peak)
                if status == proto.STATUS_FATAL:
                    self.alive = False
                error = error_document(out)
                return self._result(rid, cold, None, error, init_logs, logs, duration, init_ms, peak)
            if kind == proto.CALL:
                self._reply(on_call, body, limit)
                continue
            raise self._broken()

    def _read(self, limit: float) -> tuple[int, bytes]:
        try:
            kind, body = self.reader.read(limit)
        except EOFError:
            raise _Died(None) from None
        except (proto.ProtocolError, OSError):
            raise self._broken() from None
        if kind == proto.EXIT:
            raise _Died(int.from_bytes(body[:4], "little", signed=True))
        return kind, body

    def _broken(self) -> _Died:
        self.kill()
        return _Died(signal.SIGKILL)

    def _result(
        self,
        rid: str,
        cold: bool,
        payload: bytes | None,
        error: dict[str, Any] | None,
        init_logs: bytes,
        logs: bytes,
        duration_ms: float,
        init_ms: float | None,
        peak_mb: int,
        extra: str | None = None,
    ) -> InvocationResult:
        spec = self.spec
        return InvocationResult(
            payload,
            error,
            cold,
            init_ms,
            duration_ms,
            peak_mb,
            self.env_id,
            request_id=rid,
            version=spec.version,
            memory_mb=spec.memory_mb,
            output=logs,
            init_logs=init_logs,
            extra=extra,
        )

    def kill(self) -> None:
        """SIGKILL the environment and its process group (idempotent; ``destroy`` closes the pidfd)."""
        if self.pidfd is not None:
            with contextlib.suppress(OSError):
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
        if self.pid is not None:
            with contextlib.suppress(OSError):
                os.killpg(self.pid, signal.SIGKILL)

    def destroy(self, hello_wait: float = 0.0) -> None:
        """Kill it (if it still runs), close its socket, remove its log file (the zygote removes its
        TMPDIR once it has reaped the process). ``hello_wait``: how long to wait for a HELLO not
        sent yet (a claimed spare), to learn the pid and so confirm the process gone."""
        self.alive = False
        if self.pid is None and (hello_wait or self.reader.pending()):  # its HELLO may be unread
            self._read_hello(hello_wait)
        self.kill()
        exited = self._wait_exited(self.uid is not None)
        self.sock.close()
        self._theirs.close()
        uid, uid_done, self._uid_done = self.uid, self._uid_done, None
        if uid is not None and uid_done is not None:
            uid_done(uid, exited)
        log_path, self.log_path = self.log_path, None
        if log_path is not None:
            with contextlib.suppress(OSError):
                os.unlink(log_path)

    def _wait_exited(self, wait: bool) -> bool:
        """Close the pidfd, once the (killed) process has exited if ``wait``; whether it is known gone."""
        pidfd, self.pidfd = self.pidfd, None
        if pidfd is None:
            return False
        try:
            if not wait:
                return False
            poller = select.poll()
            poller.register(pidfd, select.POLLIN)
            return bool(poller.poll(EXIT_WAIT_MS))
        finally:
            os.close(pidfd)

    def _read_hello(self, wait: float) -> bool:
        """Read a HELLO not read yet (waiting up to ``wait``): learn the pid, open a pidfd (left None
        if the process is already gone). False when no HELLO came."""
        try:
            kind, body = self.reader.read(monotonic() + max(wait, 0.05))
        except Exception:  # EOF, a timeout, a broken frame
            return False
        if kind != proto.HELLO:
            return False
        self._hello(body)
        with contextlib.suppress(OSError):
            self.pidfd = os.pidfd_open(self.pid or 0)
        return True

    def _hello(self, body: bytes) -> int:
        self.pid = pid = int.from_bytes(body[:4], "little", signed=True)
        name = body[4:].rstrip(b"\0").decode("ascii", "replace")
        if name and "/" not in name and not name.startswith("."):
            self.log_path = f"{self.host_dir}/{name}.log"
        return pid
