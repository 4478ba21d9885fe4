"""One housekeeping thread per platform: purges closed accounts and expires old dead letters.

Each job is a pair: what to run, and when it is next due (``None``: nothing to do). The thread
sleeps until the earliest due time of all jobs, or indefinitely when none has one, and is poked
when something may have become due sooner (an account was closed, the first dead letter after an
empty queue committed, the platform started with work waiting): an idle platform has no wake-ups.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from silo.store import utcnow

log = logging.getLogger(__name__)

Job = tuple[Callable[[], object], Callable[[], datetime | None]]


class Housekeeper:
    def __init__(
        self,
        purge: Callable[[], object],
        next_due: Callable[[], datetime | None],
        *,
        retry_after: float = 30.0,
    ) -> None:
        self._jobs: list[Job] = [(purge, next_due)]
        self._retry_after = retry_after
        self._cond = threading.Condition()
        self._poked = False
        self._stopped = False
        self._thread: threading.Thread | None = None
        self.runs = 0

    def add(self, run: Callable[[], object], next_due: Callable[[], datetime | None]) -> None:
        """Another job: ``run`` when ``next_due()`` has passed."""
        with self._cond:
            self._jobs.append((run, next_due))

    def next_due(self) -> datetime | None:
        """The earliest due time of any job (``None``: nothing will be due until something changes)."""
        return _earliest([due_at() for _, due_at in self._jobs])

    def poke(self) -> None:
        """Something may have become due (an account was closed, or the platform started)."""
        with self._cond:
            if self._stopped:
                return
            self._poked = True
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="silo-housekeeping", daemon=True)
                self._thread.start()
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stopped:
                    return
                self._poked = False
                jobs = list(self._jobs)
            self.runs += 1
            try:
                dues = [due_at() for _, due_at in jobs]
                now = utcnow()
                due_now = [
                    run for (run, _), at in zip(jobs, dues, strict=True) if at is not None and at <= now
                ]
                for run in due_now:
                    run()
                if due_now:
                    continue  # look again: what ran may have left something due
            except Exception:  # keep the thread alive and try again soon (the store may be busy)
                log.exception("housekeeping failed; retrying in %.0f s", self._retry_after)
                with self._cond:
                    if not self._stopped:
                        self._cond.wait(self._retry_after)
                continue
            due = _earliest(dues)
            timeout = None if due is None else max((due - utcnow()).total_seconds(), 0.0) + 0.01
            with self._cond:
                if not self._poked and not self._stopped:
                    self._cond.wait(timeout)


def _earliest(dues: list[datetime | None]) -> datetime | None:
    return min((at for at in dues if at is not None), default=None)
