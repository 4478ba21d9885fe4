"""One dispatcher per kind of durable work (async invocations, event deliveries) for the whole
platform: claims due work from its queue and runs it on a worker pool.

Push, not poll: ``wake()`` is called after every enqueue; otherwise the scheduler thread sleeps
until the earliest ``next_attempt_at`` in the queue, or indefinitely when the queue is empty, so an
idle platform has no wake-ups at all.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Generic, Protocol, TypeVar

from silo.store import utcnow

T = TypeVar("T")


class DueQueue(Protocol[T]):
    """A durable queue: ``claim_due`` leases up to ``limit`` due items (an item whose lease runs out
    becomes due again); ``next_due`` is the earliest time anything becomes due, if anything will."""

    def claim_due(self, limit: int, lease: timedelta) -> list[T]: ...

    def next_due(self) -> datetime | None: ...


log = logging.getLogger(__name__)


class Dispatcher(Generic[T]):
    def __init__(
        self,
        queue: DueQueue[T],
        process: Callable[[T], None],
        *,
        workers: int = 8,
        lease: timedelta = timedelta(minutes=16),
        name: str = "silo-async",
    ) -> None:
        self._queue = queue
        self._process = process
        self._workers = workers
        self._lease = lease
        self._cond = threading.Condition()
        self._woken = False
        self._busy = 0
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._name = name
        self.wakeups = 0  # how often the scheduler loop ran: an idle platform must not add to it

    def start(self) -> None:
        with self._cond:
            if self._thread is not None or self._stopped:
                return
            self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix=self._name)
            self._thread = threading.Thread(target=self._run, name=f"{self._name}-dispatcher", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        self.start()
        with self._cond:
            self._woken = True
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=False)

    def idle(self) -> bool:
        with self._cond:
            return self._busy == 0

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stopped:
                    return
                self._woken = False
                free = self._workers - self._busy
            self.wakeups += 1
            items = self._claim(free) if free > 0 else []
            for item in items:
                self._submit(item)
            # Computed outside the lock; a wake() in between sets _woken, checked below.
            timeout = self._sleep_for() if len(items) < free else None
            with self._cond:
                if self._stopped:
                    return
                if self._woken or (items and self._busy < self._workers):
                    continue
                self._cond.wait(timeout)

    def _claim(self, free: int) -> list[T]:
        try:
            return self._queue.claim_due(free, self._lease)
        except Exception:  # the store may be briefly unavailable; try again after a pause
            log.exception("%s: claiming work failed", self._name)
            with self._cond:
                self._cond.wait(1.0)
            return []

    def _sleep_for(self) -> float | None:
        due = self._queue.next_due()
        if due is None:
            return None
        return max((due - utcnow()).total_seconds(), 0.0) + 0.001

    def _submit(self, item: T) -> None:
        with self._cond:
            self._busy += 1
        assert self._pool is not None
        self._pool.submit(self._work, item)

    def _work(self, item: T) -> None:
        try:
            self._process(item)
        except Exception:  # the item stays leased and becomes due again when the lease expires
            log.exception("%s: an item failed in the dispatcher", self._name)
        finally:
            with self._cond:
                self._busy -= 1
                self._woken = True
                self._cond.notify()
