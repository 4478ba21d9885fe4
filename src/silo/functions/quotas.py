"""Per-account concurrency, with per-function reservations carved out of it (as Lambda does).

A function with reserved concurrency R runs at most R at once and never competes with the rest;
every other function of the account shares ``account limit - sum(reserved)``. Counters live only
while something runs: an account with nothing in flight has no entry at all.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from silo.errors import Throttled


@dataclass(frozen=True, slots=True)
class QuotaView:
    """What a lease needs to know: the account's limit and this function's reservation."""

    account_limit: int
    reserved_total: int
    reserved: int | None


class ConcurrencyQuotas:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._unreserved: dict[str, int] = {}
        self._reserved: dict[tuple[str, str], int] = {}
        self._account_total: dict[str, int] = {}

    @contextmanager
    def lease(self, account: str, function: str, view: QuotaView) -> Iterator[int]:
        """Hold one concurrent execution; yields the account's in-flight count. Raises ``Throttled``."""
        key = (account, function)
        with self._lock:
            if view.reserved is not None:
                running = self._reserved.get(key, 0)
                if running >= view.reserved:
                    raise Throttled(
                        f"Rate Exceeded: function {function} is at its reserved concurrency "
                        f"({view.reserved})",
                        reason="ReservedFunctionConcurrentInvocationLimitExceeded",
                    )
                self._reserved[key] = running + 1
            else:
                running = self._unreserved.get(account, 0)
                if running >= max(view.account_limit - view.reserved_total, 0):
                    raise Throttled(
                        f"Rate Exceeded: account concurrency limit reached ({view.account_limit}, "
                        f"{view.reserved_total} reserved)",
                        reason="ConcurrentInvocationLimitExceeded",
                    )
                self._unreserved[account] = running + 1
            total = self._account_total.get(account, 0) + 1
            self._account_total[account] = total
        try:
            yield total
        finally:
            with self._lock:
                if view.reserved is not None:
                    _decrement(self._reserved, key)
                else:
                    _decrement(self._unreserved, account)
                _decrement(self._account_total, account)

    def in_flight(self, account: str) -> int:
        with self._lock:
            return self._account_total.get(account, 0)

    def tracked_keys(self) -> int:
        """How many counters exist (zero when nothing runs: nothing is kept per idle account)."""
        with self._lock:
            return len(self._unreserved) + len(self._reserved) + len(self._account_total)


def _decrement(counters: dict[str, int] | dict[tuple[str, str], int], key: object) -> None:
    value = counters[key] - 1  # type: ignore[index]
    if value:
        counters[key] = value  # type: ignore[index]
    else:
        del counters[key]  # type: ignore[arg-type]
