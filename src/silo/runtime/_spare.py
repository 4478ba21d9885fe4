"""Spares: processes the zygote forks ahead of time, specialised as far as possible without a request.

On a virtual machine the expensive part of a fork is not ``fork()`` but the copy-on-write faults that
follow, a few microseconds each and a few hundred of them (Android's pool of unspecialised app
processes exists for the same reason). A spare takes them before any request waits. Running at the
zygote's SCHED_BATCH (so it never preempts a starting environment), it:

1. closes every inherited fd but the control socket, its link to the zygote and the import dirs of
   ``_paths``; starts its own session; sets its name, no-new-privs and the parent-death signal;
2. creates its log file (fds 1, 2 and 4) and its TMPDIR (0700);
3. rehearses the request path on dummy data, and on root hosts the privilege drop (as a no-op: it
   stays root), unless the pool ran dry: then it hurries;
4. (root hosts) clears its supplementary groups; sets the rlimits that do not depend on the function,
   umask 077 and the environment variables that do not either (``TMPDIR``, ``HOME``, ``PATH``...) and
   makes itself non-dumpable (it holds the control socket); builds its HELLO and TAKEN messages;
5. goes back to SCHED_OTHER and blocks on the control socket with the other spares; the kernel hands
   each fork request to exactly one of them.

On a root host a spare is still root while it waits: every environment has a user id of its own
(``_uids``), which only the request names. The one that gets a request closes the control socket
before anything else, then (root hosts) kills whatever still runs under that id if it was handed out
before (``sweep_user``), gives its TMPDIR to the id, drops to that uid/gid for good, sets the
parent-death signal again (a credential change clears it) and makes itself non-dumpable again; it
says HELLO to the host and passes a copy of its socket to the zygote (for the EXIT frame). Only then
does it learn which function to become: the host's SPEC frame, on its own socket (sent with the first
INVOKE, or later when the host claimed the spare before looking the function up), and it becomes the
environment (``_environment.run``). No function code runs before the drop.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import marshal
import os
import py_compile
import resource
import signal
import socket
import sys
import time
from typing import Any, NoReturn

from silo.runtime import _environment, _limits, channel
from silo.runtime import _protocol as proto
from silo.runtime._serve import LOG_FD, Logs, serve

SOCK_FD = 3
TAKEN = b"taken"


def paths(host_dir: str, name: str) -> tuple[str, str]:
    """(TMPDIR, log file) of the environment a spare called ``name`` becomes."""
    return os.path.join(host_dir, name), os.path.join(host_dir, f"{name}.log")


def run_spare(ctrl_fd: int, link_fd: int, boot: _environment.Boot, name: str, rehearsal: bool) -> NoReturn:
    code = 70
    try:
        ctrl_fd = fcntl.fcntl(ctrl_fd, fcntl.F_DUPFD_CLOEXEC, 10)
        link_fd = fcntl.fcntl(link_fd, fcntl.F_DUPFD_CLOEXEC, 10)
        _close_all_but(ctrl_fd, link_fd, *boot.keep_fds)
        os.setsid()
        _limits.prctl(_limits.PR_SET_NAME, b"silo-env")
        _limits.prctl(_limits.PR_SET_NO_NEW_PRIVS, 1)
        _limits.prctl(_limits.PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != boot.zygote_pid:
            os._exit(0)
        tmp_dir, log_path = paths(boot.host_dir, name)
        _redirect_output(log_path)
        os.mkdir(tmp_dir, 0o700)
        if rehearsal:
            rehearse(boot.rehearsal_dir, LOG_FD)
            if boot.drop:
                rehearse_drop(tmp_dir)
        _settle(boot, tmp_dir)
        # Everything the first frames need is made now, not after the request: HELLO, and TAKEN
        # with its SCM_RIGHTS of our socket (its fd number is fixed).
        hello = proto.HELLO_FRAME.pack(proto.HELLO_FRAME.size - 5, proto.HELLO, os.getpid(), name.encode())
        link = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET, 0, link_fd)
        taken = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, SOCK_FD.to_bytes(4, sys.byteorder))]
        ctrl = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET, 0, ctrl_fd)
        _limits.set_batch(False)  # prepared at the zygote's SCHED_BATCH; a request is urgent again
        msg, fds, _flags, _addr = socket.recv_fds(ctrl, 1 << 16, 1, socket.MSG_CMSG_CLOEXEC)
        started = time.monotonic()
        ctrl.close()  # first of all: other requests (other accounts' sockets) travel on it
        if not msg or len(fds) != 1:
            os._exit(0)
        req = marshal.loads(msg)
        if boot.drop:  # the environment's own user id arrives with the request (see _uids)
            if req.get("sweep"):
                sweep_user(req["uid"], req["gid"])
            _become(req["uid"], req["gid"], tmp_dir, boot.zygote_pid)
        if fds[0] != SOCK_FD:
            os.dup2(fds[0], SOCK_FD, inheritable=False)
            os.close(fds[0])
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM, 0, SOCK_FD)
        sock.sendall(hello)
        link.sendmsg([TAKEN], taken)
        link.close()
        reader, waited = _read_spec(sock, req)
        code = _environment.run(sock, reader, req, boot, tmp_dir, started + waited)
    finally:
        os._exit(code)


def _settle(boot: _environment.Boot, tmp_dir: str) -> None:
    """What is the same for every function: groups, fixed rlimits, umask, not dumpable, and the
    environment variables that do not depend on the function (the rest come with the SPEC)."""
    if boot.drop:
        os.setgroups([])  # still root (uid 0), with no supplementary groups from here on
    _limits.apply_fixed_rlimits(boot.drop)
    os.umask(0o077)
    _limits.prctl(_limits.PR_SET_DUMPABLE, 0)
    _environment.replace_environ(_environment.base_environment(tmp_dir))


def _read_spec(sock: socket.socket, req: dict[str, Any]) -> tuple[proto.FrameReader, float]:
    """Which function to become: the SPEC frame, there already, or sent once the host has resolved
    the function (a claimed spare drops to its user id meanwhile). Adds it to ``req``; returns the
    socket's reader and how long it waited (not part of the init duration)."""
    reader = proto.FrameReader(sock)
    waiting = time.monotonic()
    try:
        kind, body = reader.read(None)
    except (EOFError, OSError):
        os._exit(0)  # the host let the claim go
    if kind != proto.SPEC:
        os._exit(1)
    req.update(marshal.loads(body))
    return reader, time.monotonic() - waiting


def _become(uid: int, gid: int, tmp_dir: str, zygote_pid: int) -> None:
    """(Root spares, with the request.) Give the TMPDIR to the environment's user id and drop to it."""
    os.chown(tmp_dir, uid, gid)
    _limits.drop_privileges(uid, gid)
    _limits.prctl(_limits.PR_SET_PDEATHSIG, signal.SIGKILL)  # a credential change clears it
    if os.getppid() != zygote_pid:
        os._exit(0)
    _limits.prctl(_limits.PR_SET_DUMPABLE, 0)  # and resets this one


def sweep_user(uid: int, gid: int) -> None:
    """(Root spares, before dropping to a reused id.) Kill every process still running as ``uid``:
    a helper child drops to it and sends SIGKILL to all it may signal (``kill(-1)``: every process of
    that user but itself), so the spare never shares the id with a leftover of its last holder."""
    pid = _limits.fork()
    if pid == 0:
        code = 1
        try:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            os.kill(-1, signal.SIGKILL)
            code = 0
        except OSError as exc:
            code = 0 if exc.errno == errno.ESRCH else 1  # ESRCH: nothing ran as uid
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        raise RuntimeError(f"could not sweep user id {uid} (status {status})")


def rehearse_drop(tmp_dir: str) -> None:
    """(Root spares.) Walk the drop path to root itself, which changes nothing, so its copy-on-write
    faults (the Python side of them) are taken before a request waits; the real drop follows it."""
    with contextlib.suppress(PermissionError):  # "root could be regained": yes, it never left
        _become(0, 0, tmp_dir, os.getppid())
    _limits.prctl(_limits.PR_SET_PDEATHSIG, signal.SIGKILL)
    os.getppid()
    _limits.prctl(_limits.PR_SET_DUMPABLE, 0)


def _close_all_but(*keep: int) -> None:
    low = 3
    for fd in sorted(keep):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, max(resource.getrlimit(resource.RLIMIT_NOFILE)[0], 1024))


def _redirect_output(log_path: str) -> None:
    """fd 0 = /dev/null; fds 1, 2 and LOG_FD = the log file, created here (as the zygote's user)."""
    log = os.open(log_path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC, 0o600)
    null = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(log, 1)
    os.dup2(log, 2)
    if log != LOG_FD:
        os.dup2(log, LOG_FD, inheritable=False)
        os.close(log)


REHEARSAL_MODULE = "_silo_rehearsal"
_REHEARSAL_REQUEST = marshal.dumps(
    {
        "account_id": "000000000000",
        "function_name": "rehearsal",
        "version": "$LATEST",
        "arn": "arn:silo:lambda:local:000000000000:function:rehearsal:$LATEST",
        "log_group": "/aws/lambda/rehearsal",
        "log_stream": "[$LATEST]rehearsal",
        "code_dir": "/nonexistent",
        "handler": f"{REHEARSAL_MODULE}.handler",
        "memory_mb": 128,
        "environment": {"KEY": "value"},
    }
)


def write_rehearsal_module(directory: str) -> None:
    """(Zygote start.) The module ``rehearse`` imports: a handler that returns its event."""
    os.makedirs(directory, mode=0o700, exist_ok=True)
    path = os.path.join(directory, f"{REHEARSAL_MODULE}.py")
    with open(path, "w", encoding="utf-8") as source:
        source.write("def handler(event, context):\n    return event\n")
    py_compile.compile(path, doraise=True, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)


def rehearse(directory: str, log_fd: int) -> None:
    """Walk the request path on dummy data, without its side effects: parse a request, build the
    environment, import a handler, serve one invocation over a socketpair (``log_fd`` stands in for
    the log file).

    In the zygote, before it forks anything, this quickens the path's bytecode (the adaptive
    interpreter writes into code objects while it warms up). In a spare, it takes the path's
    copy-on-write faults (refcounts, allocator pools, stack) before a request waits for them.
    """
    try:
        req: dict[str, Any] = marshal.loads(_REHEARSAL_REQUEST)
        environ: dict[bytes, bytes] = getattr(os.environ, "_data")  # noqa: B009
        _environment.environment_for(req, directory)
        _environment.replace_environ({key.decode(): value.decode() for key, value in environ.items()})
        _environment.set_context(req)
        sys.path.insert(0, directory)
        try:
            handler = _environment.load_handler(req["handler"])
        finally:
            sys.path.remove(directory)
            sys.modules.pop(REHEARSAL_MODULE, None)
            sys.path_importer_cache.pop(directory, None)
        proto.HELLO_FRAME.pack(proto.HELLO_FRAME.size - 5, proto.HELLO, os.getpid(), b"")
        rid = b"00000000-0000-0000-0000-000000000000"
        body = proto.INVOKE_FIXED.pack(3.0, 0.0, len(rid)) + rid + b'{"key": "value"}'
        host, env = socket.socketpair()
        with host, env:
            host.sendall(proto.HEADER.pack(len(body), proto.INVOKE) + body)
            host.shutdown(socket.SHUT_WR)
            serve(env, proto.FrameReader(env), handler, Logs(log_fd), arm_cpu=False)
            proto.FrameReader(host).read(None)
    except Exception:  # a rehearsal only saves time: it must never cost a process
        return
    finally:
        channel._transport = None
