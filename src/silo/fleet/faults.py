"""Fault injection for tests and benchmarks, and the retry timing for transient errors.

Faults are a deterministic function of (operation, account, attempt), so a run can be replayed:
a transient fault hits a given attempt, a permanent one every attempt of that account.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass


class TransientDeployError(Exception):
    """A deploy failed for a reason that may pass (retried with backoff)."""


@dataclass(frozen=True, slots=True)
class FaultInjector:
    transient_rate: float = 0.0
    permanent_rate: float = 0.0

    def check(self, operation_id: str, account: str, attempt: int) -> str | None:
        """``"transient"``, ``"permanent"`` or None for this attempt."""
        if self.permanent_rate and _fraction(f"p:{operation_id}:{account}") < self.permanent_rate:
            return "permanent"
        if self.transient_rate and _fraction(f"t:{operation_id}:{account}:{attempt}") < self.transient_rate:
            return "transient"
        return None


def _fraction(key: str) -> float:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big") / 2**64


def backoff(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff with "equal jitter": half fixed, half random (never all at once)."""
    delay = min(cap, base * 2 ** max(0, attempt - 1))
    return float(delay / 2 + random.uniform(0, delay / 2))
