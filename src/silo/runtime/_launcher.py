"""The host's handle on the zygote process: start it, ask it to fork, stop it."""

from __future__ import annotations

import json
import marshal
import os
import socket
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

from silo.runtime.errors import RuntimeStartError

# Registers ``silo`` as a bare package (its __init__ imports importlib.metadata: ~45 ms and a few MB
# every environment would share for nothing), then hands over to the zygote.
BOOTSTRAP = (
    "import sys, types, json\n"
    "config = json.loads(sys.argv[1])\n"
    "package = types.ModuleType('silo')\n"
    "package.__path__ = [config['silo_dir']]\n"
    "sys.modules['silo'] = package\n"
    "from silo.runtime._zygote import main\n"
    "main(config)\n"
)
QUEUE_TIMEOUT_S = 10
SILO_DIR = Path(__file__).resolve().parent.parent
ZYGOTE_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "TZ": ":UTC",
    "MALLOC_ARENA_MAX": "2",  # glibc reserves 64 MiB of address space per arena: keep RLIMIT_AS honest
}


class ZygoteGone(Exception):
    """The zygote is not running any more (the host starts a new one)."""


class ZygoteProcess:
    """A running zygote. ``fork`` is safe from many threads at once: each request is one datagram."""

    def __init__(
        self, probe_uid: int | None, spares: int, host_dir: Path, sandbox: list[str] | None = None
    ) -> None:
        """``probe_uid``: None keeps the host's user; else environments get their own ids (the request
        carries them) and this one, never allocated, stands for "any of them" in the zygote's checks.
        ``sandbox``: the argv prefix of a sandbox the zygote runs in (``_bubblewrap.command``); the
        zygote is then its child, not ours."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        config: dict[str, Any] = {
            "silo_dir": str(SILO_DIR),
            "parent_pid": None if sandbox else os.getpid(),
            "control_fd": theirs.fileno(),
            "probe_uid": probe_uid,
            "spares": spares,
            "host_dir": str(host_dir),
            "rehearsal_dir": str(host_dir / "zygote"),
        }
        try:
            self.process = subprocess.Popen(
                [*(sandbox or ()), sys.executable, "-I", "-S", "-c", BOOTSTRAP, json.dumps(config)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),),
                env=ZYGOTE_ENV,
                cwd="/",
                start_new_session=True,
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        # Requests queue here until a spare takes one; a full queue must not block callers forever.
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("@ll", QUEUE_TIMEOUT_S, 0))
        self.ctrl = ours
        self.sandboxed = bool(sandbox)
        self.broken = False

    @property
    def pid(self) -> int | None:
        """The zygote's pid: the process we started, or the one child of the sandbox we started."""
        if not self.sandboxed:
            return self.process.pid
        pid = self.process.pid
        try:
            with open(f"/proc/{pid}/task/{pid}/children", "rb") as children:
                found = children.read().split()
        except OSError:
            return None
        return int(found[0]) if found else None

    def fork(self, request: dict[str, Any], env_end: socket.socket) -> None:
        """Ask for one environment on ``env_end`` (which the caller may close right after)."""
        if self.process.poll() is not None:  # its spares may outlive it by a moment: not to them
            self.broken = True
            raise ZygoteGone("the zygote has exited")
        data = marshal.dumps(request)  # str/int/dict only; read by our own spares (_spare)
        try:
            socket.send_fds(self.ctrl, [data], [env_end.fileno()])
        except BlockingIOError:
            raise RuntimeStartError("no environment could be started: the fork queue is full") from None
        except OSError as exc:
            self.broken = True
            raise ZygoteGone(str(exc)) from exc

    def close(self, timeout: float = 5.0) -> None:
        """EOF on the control socket: the zygote kills its environments, reaps them and exits."""
        self.broken = True
        self.ctrl.close()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
