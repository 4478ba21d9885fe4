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

    def acquire(
        self, account: str, function: str, limit: int, reserved_total: int, reserved: int | None
    ) -> int:
        """Take one concurrent execution; returns the account's in-flight count. Raises ``Throttled``.

        Every ``acquire`` that returns must be paired with one ``release`` with the same arguments.
        """
        with self._lock:
            if reserved is not None:
                key = (account, function)
                running = self._reserved.get(key, 0)
                if running >= reserved:
                    raise Throttled(
                        f"Rate Exceeded: function {function} is at its reserved concurrency ({reserved})",
                        reason="ReservedFunctionConcurrentInvocationLimitExceeded",
                    )
                self._reserved[key] = running + 1
            else:
                running = self._unreserved.get(account, 0)
                if running >= limit - reserved_total:
                    raise Throttled(
                        f"Rate Exceeded: account concurrency limit reached ({limit}, "
                        f"{reserved_total} reserved)",
                        reason="ConcurrentInvocationLimitExceeded",
                    )
                self._unreserved[account] = running + 1
            total = self._account_total.get(account, 0) + 1
            self._account_total[account] = total
            return total

    def release(self, account: str, function: str, reserved: int | None) -> None:
        with self._lock:
            if reserved is not None:
                _decrement(self._reserved, (account, function))
            else:
                _decrement(self._unreserved, account)
            _decrement(self._account_total, account)

    @contextmanager
    def lease(self, account: str, function: str, view: QuotaView) -> Iterator[int]:
        """Hold one concurrent execution; yields the account's in-flight count. Raises ``Throttled``."""
        total = self.acquire(account, function, view.account_limit, view.reserved_total, view.reserved)
        try:
            yield total
        finally:
            self.release(account, function, view.reserved)

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
