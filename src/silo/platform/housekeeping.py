"""One housekeeping thread per platform: purges closed accounts when their retention runs out.

It sleeps until the earliest ``purge_after`` among closed accounts, or indefinitely when there is
none, and is poked when an account is closed: an idle platform has no wake-ups.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from silo.store import utcnow

log = logging.getLogger(__name__)


class Housekeeper:
    def __init__(
        self,
        purge: Callable[[], object],
        next_due: Callable[[], datetime | None],
        *,
        retry_after: float = 30.0,
    ) -> None:
        self._purge = purge
        self._retry_after = retry_after
        self._next_due = next_due
        self._cond = threading.Condition()
        self._poked = False
        self._stopped = False
        self._thread: threading.Thread | None = None
        self.runs = 0

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
            self.runs += 1
            try:
                due = self._next_due()
                if due is not None and due <= utcnow():
                    self._purge()
                    continue
            except Exception:  # keep the thread alive and try again soon (the store may be busy)
                log.exception("housekeeping failed; retrying in %.0f s", self._retry_after)
                with self._cond:
                    if not self._stopped:
                        self._cond.wait(self._retry_after)
                continue
            timeout = None if due is None else max((due - utcnow()).total_seconds(), 0.0) + 0.01
            with self._cond:
                if not self._poked and not self._stopped:
                    self._cond.wait(timeout)
