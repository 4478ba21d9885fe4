"""The zygote: a fresh, minimal interpreter that keeps a pool of spares forked and reaps them.

It is started by the host (``_launcher``) as ``python -I -S -c <bootstrap>``: no site-packages, no
``silo/__init__`` (which would pull in ``importlib.metadata``), only the standard library modules that
handlers commonly use and this package's in-environment modules, imported once, rehearsed (so the
request path's bytecode is quickened before any fork) and frozen out of the garbage collector.

The host never talks to the zygote: it sends each fork request (a marshalled dict and one end of a
socketpair, by SCM_RIGHTS) on a SOCK_SEQPACKET control socket that the spares (``_spare``) read. A spare
that takes a request sends the zygote a copy of its socket; the zygote forks a replacement, and when
an environment dies it writes an EXIT frame (the wait status) into that socket and closes its copy,
so the host learns "exit status 3" or "signal: killed" right after the EOF.

It runs at SCHED_BATCH (refilling the pool never preempts a starting environment), forks without
CPython's at-fork machinery (``_limits.fork``) and notices exits through pidfds in an epoll set rather
than SIGCHLD (no signal handler for a child to reset; its state is plain ints, so a child has nothing
to let go of). It is a child subreaper (orphaned grandchildren are reaped when an environment ends),
dies with the host thread that started it (PR_SET_PDEATHSIG) and, when the control socket hangs up,
kills every child and exits. Idle, it sleeps in epoll_wait() with no timeout.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import resource
import select
import shutil
import signal
import socket
import sys
from typing import Any, NoReturn

from silo.runtime import _context, _environment, _limits, _paths, _spare
from silo.runtime import _protocol as proto

PRELOAD = (
    "base64",
    "collections",
    "copy",
    "dataclasses",
    "datetime",
    "decimal",
    "enum",
    "functools",
    "hashlib",
    "hmac",
    "itertools",
    "json",
    "math",
    "random",
    "re",
    "string",
    "struct",
    "typing",
    "urllib.parse",
    "uuid",
    "zlib",
    "silo.runtime.channel",
)
REHEARSALS = 20  # enough for the adaptive interpreter to quicken the request path
_HANG_UP = select.EPOLLHUP | select.EPOLLERR


class Zygote:
    """State kept as plain ints, so a forked child has no Python objects to let go of.

    Exits are noticed through pidfds (readable once the process is gone), not SIGCHLD: no signal
    handler, so a child inherits nothing to reset.
    """

    def __init__(self, ctrl_fd: int, config: dict[str, Any], keep_fds: list[int]) -> None:
        self.ctrl_fd = ctrl_fd
        self.pid = os.getpid()
        self.boot = _environment.Boot(
            zygote_pid=self.pid,
            baseline_as=_limits.address_space_bytes(),
            drop=config["probe_uid"] is not None,
            host_dir=config["host_dir"],
            rehearsal_dir=config["rehearsal_dir"],
            keep_fds=tuple(keep_fds),
        )
        self.target: int = max(1, config["spares"])
        self.spares: dict[int, tuple[int, str]] = {}  # pid -> (link fd, name), while waiting
        self.envs: dict[int, tuple[int, str]] = {}  # pid -> (our copy of its socket, its name)
        self.links: dict[int, int] = {}  # link fd -> spare pid
        self.pidfds: dict[int, int] = {}  # pidfd -> pid, for every spare and environment
        self.watched: dict[int, int] = {}  # pid -> pidfd
        self.statuses: dict[int, int] = {}  # watched pids reaped before their pidfd was handled
        self.seq = 0
        self.poller = select.epoll()  # O(ready) per wake-up, with a thousand environments watched

    def serve(self) -> NoReturn:
        self.poller.register(self.ctrl_fd, 0)  # hang-ups only: requests are for the spares
        while True:
            short = len(self.spares) < self.target and not self._fill()
            for fd, events in self.poller.poll(0.1 if short else -1):
                if fd == self.ctrl_fd:
                    if events & _HANG_UP:
                        self._shutdown()
                elif fd in self.links:
                    self._taken(fd)
                elif fd in self.pidfds:
                    self._exited(fd)

    def _fill(self) -> bool:
        """Fork spares up to the target; False if the kernel refused (retried on a timer)."""
        while len(self.spares) < self.target:
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            self.seq += 1
            # Unguessable (host_dir, 0711, only hides the list); its owner is the environment's own uid.
            name = f"{self.pid}-{self.seq}-{os.urandom(6).hex()}"
            rehearsal = bool(self.spares)  # an empty pool means a burst: be ready sooner instead
            try:
                pid = _limits.fork()
            except OSError:
                ours.close()
                theirs.close()
                return False
            if pid == 0:
                ours.detach()  # the spare closes every fd it does not keep
                _spare.run_spare(self.ctrl_fd, theirs.detach(), self.boot, name, rehearsal)
            theirs.close()
            link = ours.detach()
            self.spares[pid] = (link, name)
            self.links[link] = pid
            self.poller.register(link, select.EPOLLIN)
            self._watch(pid)
        return True

    def _watch(self, pid: int) -> None:
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:  # already gone: _reap_orphans collects it
            return
        self.pidfds[pidfd] = pid
        self.watched[pid] = pidfd
        self.poller.register(pidfd, select.EPOLLIN)

    def _taken(self, link: int) -> None:
        pid = self.links.pop(link)
        self.poller.unregister(link)
        _, name = self.spares.pop(pid)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET, 0, link)
        try:
            msg, fds, _flags, _addr = socket.recv_fds(sock, 64, 1, socket.MSG_CMSG_CLOEXEC)
        except OSError:
            msg, fds = b"", []
        sock.close()
        if msg == _spare.TAKEN and len(fds) == 1:
            self.envs[pid] = (fds[0], name)
            return
        for fd in fds:  # it died, or sent something else: it is no spare of ours any more
            os.close(fd)
        _kill_group(pid)
        self._remove_files(name)

    def _exited(self, pidfd: int) -> None:
        pid = self.pidfds.pop(pidfd)
        del self.watched[pid]
        self.poller.unregister(pidfd)
        os.close(pidfd)
        status = self.statuses.pop(pid, None)
        if status is None:
            try:
                _, status = os.waitpid(pid, 0)
            except ChildProcessError:
                status = 0
        env = self.envs.pop(pid, None)
        if env is not None:
            _send_nowait(env[0], proto.EXIT_FRAME.pack(4, proto.EXIT, status))
            self._remove_tmp_dir(env[1])  # its log file is the host's to read, then remove
            self._reap_orphans()
        spare = self.spares.pop(pid, None)
        if spare is not None:  # died unused
            link, name = spare
            self.links.pop(link, None)
            self.poller.unregister(link)
            os.close(link)
            self._remove_files(name)

    def _reap_orphans(self) -> None:
        """Collect zombies of processes an environment left behind (we are their subreaper).

        ``waitpid(-1)`` walks every child, so it runs when an environment ends (that is when orphans
        appear), not on every wake-up; a watched child it happens to reap keeps its status for
        ``_exited``.
        """
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid in self.watched:
                self.statuses[pid] = status

    def _remove_files(self, name: str) -> None:
        """A spare that never became an environment: nobody else knows its files."""
        with contextlib.suppress(OSError):
            os.unlink(_spare.paths(self.boot.host_dir, name)[1])
        self._remove_tmp_dir(name)

    def _remove_tmp_dir(self, name: str) -> None:
        """An empty TMPDIR is one rmdir; one the function filled is removed by a short-lived child,
        so a large tree never holds up the pool or the EXIT frames."""
        tmp_dir = _spare.paths(self.boot.host_dir, name)[0]
        try:
            os.rmdir(tmp_dir)
        except FileNotFoundError:
            return
        except OSError:
            with contextlib.suppress(OSError):
                if _limits.fork() == 0:
                    _close_all_but_stdio()
                    shutil.rmtree(tmp_dir, ignore_errors=True)
                    os._exit(0)

    def _shutdown(self) -> NoReturn:
        pids = list(self.watched)
        for pid in [*pids, *_direct_children()]:
            _kill_group(pid)
        for pid in pids:
            if pid not in self.statuses:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, 0)
        os._exit(0)  # the host removes the whole directory


def _send_nowait(fd: int, frame: bytes) -> None:
    """Write ``frame`` if it fits right now (an environment may have filled its socket); close ``fd``."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM, 0, fd)
    with contextlib.suppress(OSError):
        sock.send(frame, socket.MSG_DONTWAIT)
    sock.close()


def _close_all_but_stdio() -> None:
    os.closerange(3, resource.getrlimit(resource.RLIMIT_NOFILE)[0])


def _kill_group(pid: int) -> None:
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(OSError):
            kill(pid, signal.SIGKILL)


def _direct_children() -> list[int]:
    pid = os.getpid()
    try:
        with open(f"/proc/{pid}/task/{pid}/children", "rb") as children:
            return [int(part) for part in children.read().split()]
    except OSError:
        return []


def main(config: dict[str, Any]) -> NoReturn:
    """Entry point of the zygote process (see ``_launcher.BOOTSTRAP``)."""
    _limits.prctl(_limits.PR_SET_PDEATHSIG, signal.SIGKILL)
    if config["parent_pid"] is not None and os.getppid() != config["parent_pid"]:
        os._exit(0)  # the host died before we set the parent-death signal (in a sandbox: bwrap's care)
    _limits.prctl(_limits.PR_SET_CHILD_SUBREAPER, 1)
    _limits.prctl(_limits.PR_SET_NAME, b"silo-zygote")
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Refilling the spare pool is background work: it must not preempt a starting environment.
    _limits.set_batch(True)
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    for name in PRELOAD:
        importlib.import_module(name)
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(line_buffering=True, errors="backslashreplace")  # type: ignore[union-attr]
    _context.install_logging(sys.stderr)
    probe = config["probe_uid"]
    keep_fds = [] if probe is None else _paths.reroute_unreachable(probe, probe)
    _spare.write_rehearsal_module(config["rehearsal_dir"])
    null = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)  # the rehearsal's stand-in log file
    for _ in range(REHEARSALS):
        _spare.rehearse(config["rehearsal_dir"], null)
    os.close(null)
    zygote = Zygote(config["control_fd"], config, keep_fds)
    gc.collect()
    gc.freeze()
    zygote.serve()
