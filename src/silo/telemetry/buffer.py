"""A write-behind buffer: counters and log lines batched in memory, flushed by one thread.

The flusher sleeps without a timeout while the buffer is empty, so an idle platform has no
wake-ups; after the first record it waits ``interval`` seconds, then writes everything at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class FlushThread:
    def __init__(self, flush: Callable[[], None], *, interval: float, name: str) -> None:
        self._flush = flush
        self._interval = interval
        self._cond = threading.Condition()
        self._pending = False
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._name = name

    def notify(self) -> None:
        """Something was buffered: make sure a flush follows within ``interval``."""
        if self._pending:  # a flush is already due; it clears the flag before it takes the buffer
            return
        with self._cond:
            if self._pending:
                return
            self._pending = True
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._stopped:
                    self._cond.wait()
                if self._stopped:
                    return
                self._cond.wait(self._interval)
                self._pending = False
            try:
                self._flush()
            except Exception:  # a failed flush must not kill the thread; the data stays buffered
                log.exception("telemetry flush failed")

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=5)
