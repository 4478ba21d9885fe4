"""Directories the function users must reach: the host's work directory, and the interpreter's own
files (kept importable after the privilege drop).

Every check here is made for the host's probe id (``_uids``), which stands for any environment's
user id: those own nothing, so only the bits for "others" count.

A Python installed under a directory the function users cannot traverse (``/root/.pyenv`` is the
usual case: ``/root`` is 0700) would leave an environment with only the modules the zygote
preimported. The zygote therefore opens each such import directory (as the host's user, O_PATH,
close-on-exec, at fd 100 and up) and rewrites ``sys.path`` and every package ``__path__`` to
``/proc/self/fd/N``: a process may always follow its own fd links, and past the link only the
directories below are permission-checked, which are world-readable in a normal installation. The
fds are inherited by every environment and nothing else is opened up.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import stat
import sys
from pathlib import Path

FIRST_FD = 100


def traversable(path: str, uid: int, gid: int) -> bool:
    """Whether ``uid``/``gid`` (no supplementary groups) can search every directory down to ``path``."""
    current = os.path.abspath(path)
    while True:
        try:
            info = os.stat(current)
        except OSError:
            return False
        if info.st_uid == uid:
            allowed = info.st_mode & stat.S_IXUSR
        elif info.st_gid == gid:
            allowed = info.st_mode & stat.S_IXGRP
        else:
            allowed = info.st_mode & stat.S_IXOTH
        if not allowed:
            return False
        parent = os.path.dirname(current)
        if parent == current:
            return True
        current = parent


def reroute_unreachable(uid: int, gid: int) -> list[int]:
    """(Zygote, before the first fork.) Returns the fds every environment must keep open."""
    roots: dict[str, str] = {}  # unreachable directory -> /proc/self/fd/N
    fds: list[int] = []

    def route(directory: str) -> str:
        if not os.path.isdir(directory):
            return directory
        for root, proxy in roots.items():
            if directory == root or directory.startswith(root + os.sep):
                return proxy + directory[len(root) :]
        if traversable(directory, uid, gid):
            return directory
        opened = os.open(directory, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        fd = fcntl.fcntl(opened, fcntl.F_DUPFD_CLOEXEC, FIRST_FD)
        os.close(opened)
        fds.append(fd)
        roots[directory] = f"/proc/self/fd/{fd}"
        return roots[directory]

    sys.path[:] = [route(entry) for entry in sys.path]
    for module in list(sys.modules.values()):
        path = getattr(module, "__path__", None)
        if isinstance(path, list):
            path[:] = [route(entry) if isinstance(entry, str) else entry for entry in path]
    if fds:
        sys.path_importer_cache.clear()
    return fds


def make_host_dir(work_dir: Path, uid: int | None, gid: int | None) -> Path:
    """``work_dir/tmp/h<pid>-<nonce>`` (0711), after removing those of hosts no longer running.

    Raises:
        ValueError: the function user (``uid``) could not reach it.
    """
    tmp_root = work_dir / "tmp"
    tmp_root.mkdir(parents=True, exist_ok=True)
    os.chmod(tmp_root, 0o711)
    for entry in tmp_root.glob("h*-*"):
        pid = entry.name[1:].split("-", 1)[0]
        if pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)
    host_dir = tmp_root / f"h{os.getpid()}-{secrets.token_hex(4)}"
    host_dir.mkdir(mode=0o711)
    os.chmod(host_dir, 0o711)
    if uid is not None and not traversable(str(host_dir), uid, gid or 0):
        shutil.rmtree(host_dir, ignore_errors=True)
        raise ValueError(
            f"work_dir {work_dir} must be reachable by the function user (any uid, e.g. {uid}): every "
            "parent directory needs the x bit for others (0711 is enough)"
        )
    return host_dir


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
