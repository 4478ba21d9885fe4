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
"""

from __future__ import annotations

import os
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

    def allocate(self) -> int:
        for _ in range(self._size - 1):
            uid = self.probe + self._next
            self._next = self._next % (self._size - 1) + 1
            if uid not in self._held and uid not in self._retired:
                self._held.add(uid)
                return uid
        raise UidsExhausted(f"all {self._size - 1} function user ids of this host are in use")

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
