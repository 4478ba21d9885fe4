"""The ``bubblewrap`` level: the zygote, and so every environment it forks, runs inside ``bwrap``.

On top of ``dedicated-user`` (a user id per environment), the zygote starts in new IPC, UTS (host
name ``silo``) and cgroup namespaces and a mount namespace whose root is an empty tmpfs holding only
what a Python handler needs, each at the path it has outside (so the paths in the protocol stay
valid):

- read-only: ``/usr`` and the ``/lib*``, ``/bin``, ``/sbin`` links or directories; a few files of
  ``/etc`` (the dynamic linker's cache, name resolution, time zone, TLS certificates, passwd/group);
  the interpreter (``sys.base_prefix``, ``sys.prefix``); the ``silo`` package; the code roots
  (unpacked, content-addressed function code);
- read-write: the host's work directory (TMPDIRs and log files of its environments);
- fresh: ``/proc``, a minimal ``/dev``, an empty ``/tmp``.

Nothing else of the machine exists inside: not ``$SILO_HOME`` (the database, the root key), not
``/root`` or ``/home``, not other hosts' work directories. The network and the PID namespace are the
machine's: functions may call out, as Lambda functions may, and the host signals and watches
environments by their pids. bwrap runs as root, keeps the capabilities the zygote needs to give each
environment its user id, and dies with the host (``--die-with-parent``); the zygote is its child.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

HOSTNAME = "silo"  # what functions see instead of the machine's name
SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/lib32", "/libx32", "/bin", "/sbin")
ETC_FILES = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/nsswitch.conf",
    "/etc/host.conf",
    "/etc/hosts",
    "/etc/resolv.conf",
    "/etc/gai.conf",
    "/etc/services",
    "/etc/protocols",
    "/etc/passwd",
    "/etc/group",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/mime.types",
)


@functools.cache
def bwrap_path() -> str | None:
    """``bwrap``, if it is installed and may create namespaces here (probed once per process)."""
    path = shutil.which("bwrap")
    if path is None:
        return None
    try:
        probe = subprocess.run(
            [path, "--ro-bind", "/", "/", "--unshare-ipc", "--unshare-uts", "true"],
            capture_output=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return path if probe.returncode == 0 else None


def command(bwrap: str, *, writable: Sequence[Path], readable: Sequence[Path], silo_dir: Path) -> list[str]:
    """The argv prefix that runs a command in the sandbox described above."""
    argv = [bwrap, "--die-with-parent", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    argv += ["--hostname", HOSTNAME]
    for system in SYSTEM_DIRS:
        if os.path.islink(system):
            argv += ["--symlink", os.readlink(system), system]
        elif os.path.isdir(system):
            argv += ["--ro-bind", system, system]
    argv += ["--perms", "0755", "--dir", "/etc"]
    for name in ETC_FILES:
        argv += ["--ro-bind-try", name, name]
    argv += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    interpreter = {Path(sys.base_prefix), Path(sys.prefix), Path(os.path.realpath(sys.executable)).parent}
    shown = [p for p in _outermost([*interpreter, silo_dir, *readable]) if not str(p).startswith("/usr/")]
    owned = [Path(os.path.abspath(p)) for p in writable]
    made: set[Path] = {Path("/"), Path("/tmp")}
    for path in [*shown, *owned]:  # bwrap would make the parents 0700: function users must pass
        for parent in reversed(path.parents):
            if parent not in made:
                made.add(parent)
                argv += ["--perms", "0711", "--dir", str(parent)]
    for path in shown:
        argv += ["--ro-bind", str(path), str(path)]
    for path in owned:
        argv += ["--bind", str(path), str(path)]
    return [*argv, "--chdir", "/", "--"]


def _outermost(paths: Sequence[Path]) -> list[Path]:
    """Existing directories of ``paths``, without those inside another of them."""
    found = sorted({Path(os.path.abspath(p)) for p in paths if os.path.isdir(p)}, key=lambda p: len(p.parts))
    kept: list[Path] = []
    for path in found:
        if not any(path == k or k in path.parents for k in kept):
            kept.append(path)
    return kept
