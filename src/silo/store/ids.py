"""Row ids: random (version 4) UUIDs without a system call each.

Ids need to be unique, not unpredictable; ``uuid.uuid4`` reads ``os.urandom`` every time, which costs
a system call (and on some machines far more), so a generator seeded once from it serves instead.
Secrets (keys, tokens) keep using :mod:`secrets`.
"""

from __future__ import annotations

import os
import random

_ids = random.Random(int.from_bytes(os.urandom(16), "big"))
_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}


def new_id() -> str:
    """A random (version 4) UUID in its usual text form."""
    h = f"{_ids.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"
