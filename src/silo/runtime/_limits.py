"""Isolation primitives: the sandbox level, rlimits, privilege drop and Linux prctl calls.

Levels, strongest first (``RuntimeHost.sandbox_level()`` reports the active one):

- ``bubblewrap`` (root, and ``bwrap`` works here): ``dedicated-user`` inside a bubblewrap sandbox
  that the zygote, and so every environment, runs in: its own mount namespace showing only the
  interpreter, the code and the host's work directory, and its own IPC and UTS namespaces
  (``_bubblewrap``). ``auto`` picks it whenever it can.
- ``dedicated-user``: the host runs as root; every environment runs under a dedicated user id of its
  own (gid = uid, from the host's block of ``_uids``; no passwd entry), with no supplementary groups,
  ``PR_SET_NO_NEW_PRIVS`` and not dumpable, so no environment can signal, ptrace or open the files of
  another. The host allocates the id and sends it with the fork request; the spare stays root until
  it takes the request, then chowns its TMPDIR and drops (``_spare``).
- ``rlimits-only``: the host is not root; environments run as the host's user, limited by rlimits.

Limits: RLIMIT_NOFILE 1024, RLIMIT_NPROC 64 under a dedicated user id (counted per uid, so it is the
environment's own; 4096 at ``rlimits-only``, where it counts the host user's processes), RLIMIT_CORE 0,
RLIMIT_FSIZE 512 MiB (soft = hard), and RLIMIT_CPU soft = CPU used so far + timeout + 1 s, reset before
every invocation (``_serve``).
Memory rule: ``RLIMIT_AS = zygote address space at startup + memory_mb MiB``, so a 128 MB function has
128 MiB of address space for its own imports and data on top of the (shared, copy-on-write) runtime.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import random
import resource
from typing import Any

from silo.runtime._bubblewrap import bwrap_path

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_NAME = 15
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38

NOFILE = 1024
NPROC = 4096  # rlimits-only: shared with the host's user
NPROC_DEDICATED = 64  # dedicated-user: the environment's own uid
FSIZE = 512 << 20
SANDBOX_LEVELS = ("auto", "bubblewrap", "dedicated-user", "rlimits-only")

_libc: Any = None


def prctl(option: int, arg: int | bytes) -> None:
    """Call prctl(2); a no-op where libc has no prctl (not Linux)."""
    global _libc  # noqa: PLW0603 - loaded once, in the zygote, before any fork
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    func = getattr(_libc, "prctl", None)
    if func is None:
        return
    if func(option, arg, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


_fork: Any = None


def fork() -> int:
    """fork(2) without CPython's at-fork machinery (only for the single-threaded zygote).

    ``os.fork()`` re-initialises the interpreter's locks and runs every ``os.register_at_fork``
    callback (threading, logging, random) in both processes; in a forked child every page that
    touches is a copy-on-write fault, about 150 of them. The zygote has no other thread and holds no
    lock while it forks, and it reseeds ``random`` itself just before each fork (so the child inherits
    a state of its own without touching it), so a plain fork is all it needs.
    """
    global _fork  # noqa: PLW0603
    if _fork is None:
        _fork = ctypes.PyDLL(None).fork  # keeps the GIL across the call
        _fork.restype = ctypes.c_int
        _fork.argtypes = ()
    random.seed()
    pid: int = _fork()
    if pid < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return pid


def set_batch(batch: bool) -> None:
    """SCHED_BATCH (no wakeup preemption) or back to SCHED_OTHER; both allowed without privileges."""
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setscheduler(0, os.SCHED_BATCH if batch else os.SCHED_OTHER, os.sched_param(0))


def address_space_bytes() -> int:
    """This process's current virtual size (the zygote's baseline for RLIMIT_AS)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def _set(which: int, soft: int) -> None:
    _, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY and soft > hard:
        soft = hard
    resource.setrlimit(which, (soft, soft))


def apply_fixed_rlimits(dedicated: bool) -> None:
    """The limits every environment gets (a spare sets them before it knows its function)."""
    _set(resource.RLIMIT_NOFILE, NOFILE)
    _set(resource.RLIMIT_NPROC, NPROC_DEDICATED if dedicated else NPROC)
    _set(resource.RLIMIT_CORE, 0)
    _set(resource.RLIMIT_FSIZE, FSIZE)


def limit_memory(memory_mb: int, baseline_as: int) -> None:
    """RLIMIT_AS for a function of ``memory_mb`` (see the module docstring for the rule)."""
    _set(resource.RLIMIT_AS, baseline_as + (memory_mb << 20))


def drop_privileges(uid: int, gid: int) -> None:
    """Become ``uid``/``gid`` for good; refuse to continue if root can be regained.

    The caller has already cleared the supplementary groups (``os.setgroups([])``, which root may do
    ahead of time). setgid/setuid as root set the real, effective and saved ids together, and the
    kernel drops every capability once none of the three user ids is 0, so root can be regained
    exactly when one of the ids is still 0: that is checked (no failing setuid(0) probe, whose
    exception is the slowest step of a fresh environment).
    """
    os.setgid(gid)
    os.setuid(uid)
    if 0 in os.getresuid() or 0 in os.getresgid() or os.getgroups():
        raise PermissionError("privilege drop failed: root could be regained")


def resolve_sandbox(requested: str) -> str:
    """The level ``requested`` resolves to here ("bubblewrap", "dedicated-user" or "rlimits-only")."""
    if requested not in SANDBOX_LEVELS:
        raise ValueError(f"sandbox must be one of {', '.join(SANDBOX_LEVELS)}: {requested!r}")
    if requested == "rlimits-only":
        return "rlimits-only"
    root = os.geteuid() == 0
    if requested == "bubblewrap":
        if not root:
            raise ValueError("sandbox 'bubblewrap' needs the host to run as root")
        if bwrap_path() is None:
            raise ValueError("sandbox 'bubblewrap': bwrap is not installed or cannot create namespaces here")
        return "bubblewrap"
    if root:
        return "bubblewrap" if requested == "auto" and bwrap_path() is not None else "dedicated-user"
    if requested == "dedicated-user":
        raise ValueError("sandbox 'dedicated-user' needs the host to run as root")
    return "rlimits-only"
