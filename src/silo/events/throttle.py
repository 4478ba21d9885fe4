"""Per-account invocation rate for event targets (EventBridge's "invocations throttle limit"):
a token bucket per account that delivered recently; an account that has not is not in the map.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

MAX_TRACKED_ACCOUNTS = 100_000


class InvocationRate:
    def __init__(self, per_second: float, *, burst: float | None = None) -> None:
        self.per_second = per_second
        self.burst = burst if burst is not None else per_second
        self._lock = threading.Lock()
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, at

    def take(self, account: str, wanted: int) -> int:
        """How many of ``wanted`` invocations ``account`` may make now (the rest are throttled)."""
        now = time.monotonic()
        with self._lock:
            tokens, at = self._buckets.pop(account, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.per_second)
            granted = min(wanted, int(tokens))
            self._buckets[account] = (tokens - granted, now)
            while len(self._buckets) > MAX_TRACKED_ACCOUNTS:
                self._buckets.popitem(last=False)
        return granted

    def wait_s(self) -> float:
        """How long until an emptied bucket has a token again."""
        return 1.0 / self.per_second
