"""One dispatcher per kind of durable work (async invocations, event deliveries) for the whole
platform: claims due work from its queue and runs it on a worker pool.

Push, not poll: ``wake()`` is called after every enqueue; otherwise the scheduler thread sleeps
until the earliest ``next_attempt_at`` in the queue, or indefinitely when the queue is empty, so an
idle platform has no wake-ups at all.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Generic, Protocol, TypeVar

from silo.store import utcnow

T = TypeVar("T")
T_ = TypeVar("T_")


class DueQueue(Protocol[T_]):
    """A durable queue: ``claim_due`` leases up to ``limit`` due items (an item whose lease runs out
    becomes due again); ``next_due`` is the earliest time anything becomes due, if anything will."""

    def claim_due(self, limit: int, lease: timedelta) -> list[T_]: ...

    def next_due(self) -> datetime | None: ...

    def release(self, items: list[T_]) -> None:
        """Make items this process leased but never started due again now (a clean stop)."""


log = logging.getLogger(__name__)


class Dispatcher(Generic[T]):
    """Runs a durable queue's items on a pool of ``workers`` threads.

    Two ways in: :meth:`wake` says "the queue may have due items" (the dispatcher claims them, which
    leases them for ``lease``); :meth:`offer` hands over an item this process accepted and leased to
    itself in the accepting transaction (``next_attempt_at = now + lease``), which saves the claim's
    write. Either way an item whose process dies becomes due again when its lease runs out.
    """

    def __init__(
        self,
        queue: DueQueue[T],
        process: Callable[[T], None],
        *,
        workers: int = 8,
        lease: timedelta = timedelta(minutes=16),
        name: str = "silo-async",
        local_limit: int | None = None,
    ) -> None:
        self._queue = queue
        self._process = process
        self._workers = workers
        self.lease = lease
        self._local: deque[T] = deque()
        self._local_limit = local_limit if local_limit is not None else 64 * workers
        self._cond = threading.Condition()
        self._woken = False
        self._drained = True  # no due items known: until wake(), only offered work runs
        self._due_at: float | None = None  # monotonic time of the queue's next due item
        self._busy = 0
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._name = name
        self.wakeups = 0  # how often the queue was checked: an idle platform must not add to it

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

    def can_take(self) -> bool:
        """Whether work being accepted now should be leased to this process (then :meth:`offer` it
        after the commit) rather than left due for a claim."""
        with self._cond:
            return not self._stopped and len(self._local) < self._local_limit

    def offer(self, item: T) -> None:
        """Run ``item``, which this process leased to itself when it accepted it (after commit)."""
        self.start()
        with self._cond:
            self._local.append(item)
            self._cond.notify()

    def stop(self) -> None:
        """Finish what is running; hand back what this process leased but never started, so that
        it is due at once for whoever runs next (not only when its lease runs out)."""
        with self._cond:
            self._stopped = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=False)
        with self._cond:
            unstarted, self._local = list(self._local), deque()
        if unstarted:
            try:
                self._queue.release(unstarted)
            except Exception:  # they stay leased and come back when the lease runs out
                log.exception("%s: releasing %d unstarted items failed", self._name, len(unstarted))

    def idle(self) -> bool:
        with self._cond:
            return self._busy == 0 and not self._local

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stopped:
                    return
                free = self._workers - self._busy
                local = [self._local.popleft() for _ in range(min(free, len(self._local)))]
                free -= len(local)
                due = self._due_at is not None and self._due_at <= time.monotonic()
                check = free > 0 and (self._woken or due or not self._drained)
                if check:
                    self._woken = False
            for item in local:
                self._submit(item)
            if check:
                self.wakeups += 1
                items = self._claim(free)
                for item in items:
                    self._submit(item)
                drained = len(items) < free
                wait = self._sleep_for() if drained else None
                with self._cond:
                    self._drained = drained
                    self._due_at = None if wait is None else time.monotonic() + wait
            with self._cond:
                if self._stopped:
                    return
                if self._busy < self._workers and (self._woken or self._local or not self._drained):
                    continue
                timeout = None if self._due_at is None else max(self._due_at - time.monotonic(), 0.0)
                self._cond.wait(timeout)

    def _claim(self, free: int) -> list[T]:
        try:
            return self._queue.claim_due(free, self.lease)
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
                self._cond.notify()
