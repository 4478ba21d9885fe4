"""Per-environment user ids (``dedicated-user`` level): one uid (gid = uid) per live environment.

Range: ``UID_BASE`` (1 900 000 000) up to ``2**31 - 1``, above the ranges systems hand out (regular
users, systemd's dynamic users, container/subordinate id ranges, which end at 1 879 048 191) and far
from ``nobody`` (65534). No passwd entry is needed: root can setuid to any number.

The range is cut into blocks of ``BLOCK`` ids; each host claims one block for its lifetime by binding
an abstract unix socket named after it (released by the kernel when the host exits), so two platform
processes on one machine never hand out the same id. The first id of a block is the host's probe id
(``traversable`` checks, ``_paths.reroute_unreachable``) and is never allocated.

Within its block a host hands ids out round robin and never reuses one that a live environment still
holds: ``release`` is called once the environment's process is known to be gone. An id whose process
could not be confirmed gone is retired instead (never handed out again by this host).

An environment's process being gone is not enough: a grandchild that escaped its process group
(``setsid``) outlives it under the same id. So an id is swept before it is handed out again: ``take``
says when (the id was handed out before), and the spare that gets it has a helper, running as that
id, kill every process of the id (``kill(-1, SIGKILL)``) before the spare itself drops to it
(``_spare``). Ids of the block that an earlier host (a crashed one) may have left processes under
are swept when a host claims the block (``sweep_block``: a scan of ``/proc``, once).
"""

from __future__ import annotations

import os
import signal
import socket

UID_BASE = 1_900_000_000
BLOCK = 1 << 16
BLOCKS = (2**31 - 1 - UID_BASE) // BLOCK  # the last id stays below 2**31 - 1


class UidsExhausted(Exception):
    """Every id of the host's block is held by a live (or retired) environment."""


class UidAllocator:
    """Not thread-safe: ``RuntimeHost`` calls it with its lock held."""

    def __init__(self, size: int = BLOCK) -> None:
        if not 2 <= size <= BLOCK:
            raise ValueError(f"size must be between 2 and {BLOCK}")
        self._size = size  # ids used from the block, the probe included (smaller in tests)
        self._claim = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        start = os.getpid() % BLOCKS
        for offset in range(BLOCKS):
            block = (start + offset) % BLOCKS
            try:
                self._claim.bind(f"\0silo-runtime-uids-{UID_BASE}-{block}")
            except OSError:
                continue
            break
        else:
            self._claim.close()
            raise UidsExhausted("every block of function user ids is claimed by another host")
        self.block = block
        self.probe = UID_BASE + block * BLOCK  # never allocated
        self._next = 1
        self._held: set[int] = set()
        self._retired: set[int] = set()
        self._used: set[int] = set()  # handed out before: swept before the next holder gets them

    def sweep_block(self) -> int:
        """(Root.) SIGKILL every process running under an id of this host's part of the block (left
        by an earlier host that claimed it); returns how many were signalled."""
        return kill_users(range(self.probe, self.probe + self._size))

    def take(self) -> tuple[int, bool]:
        """An id and whether it must be swept first (it was handed out before)."""
        for _ in range(self._size - 1):
            uid = self.probe + self._next
            self._next = self._next % (self._size - 1) + 1
            if uid not in self._held and uid not in self._retired:
                self._held.add(uid)
                reused = uid in self._used
                self._used.add(uid)
                return uid, reused
        raise UidsExhausted(f"all {self._size - 1} function user ids of this host are in use")

    def allocate(self) -> int:
        return self.take()[0]

    def release(self, uid: int) -> None:
        """The environment holding ``uid`` is gone: the id may be handed out again (later)."""
        self._held.discard(uid)

    def retire(self, uid: int) -> None:
        """Its process may still run: never hand ``uid`` out again."""
        self._held.discard(uid)
        self._retired.add(uid)

    def held(self) -> set[int]:
        return set(self._held)

    def close(self) -> None:
        self._claim.close()


def kill_users(uids: range) -> int:
    """SIGKILL every live process whose real, effective or saved user id is in ``uids`` (a /proc
    scan); returns how many were signalled."""
    killed = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", "rb") as status:
                ids: list[int] = []
                for line in status:
                    if line.startswith(b"State:") and line.split()[1] in (b"Z", b"X"):
                        break  # a zombie runs nothing
                    if line.startswith(b"Uid:"):
                        ids = [int(part) for part in line.split()[1:4]]
                        break
        except (OSError, ValueError, IndexError):
            continue
        if any(uid in uids for uid in ids):
            try:
                os.kill(int(entry), signal.SIGKILL)
                killed += 1
            except OSError:
                pass
    return killed
