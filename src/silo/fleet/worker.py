"""One fleet worker thread per platform: runs open operations, one batch at a time.

It is started by the first operation (or at start-up when open operations wait), steps every open
operation round robin (operations of different stack sets run side by side; a stack set's later
operations queue behind its oldest), sleeps until the earliest retry or soak ends, and sleeps
without a timeout when there is nothing to do.
"""

from __future__ import annotations

import logging
import threading

from silo.fleet import repository as repo
from silo.fleet.runner import OperationRunner
from silo.store import Store

log = logging.getLogger(__name__)


class FleetWorker:
    def __init__(
        self, store: Store, runner: OperationRunner, *, lease_seconds: float, retry_after: float = 5.0
    ) -> None:
        self._store = store
        self._runner = runner
        self._lease_seconds = lease_seconds
        self._retry_after = retry_after
        self._cond = threading.Condition()
        self._poked = False
        self._stopped = False
        self._thread: threading.Thread | None = None
        self.steps = 0

    def poke(self) -> None:
        """An operation was queued or stopped (or the platform started with open ones)."""
        with self._cond:
            if self._stopped:
                return
            self._poked = True
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="silo-fleet", daemon=True)
                self._thread.start()
            self._cond.notify()

    def resume(self) -> None:
        with self._store.read() as conn:
            if repo.open_operations(conn):
                self.poke()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stopped:
                    return
                self._poked = False
            try:
                wait = self._round()
            except Exception:  # keep the thread alive; the store may be busy or restarting
                log.exception("fleet worker step failed; retrying in %.0f s", self._retry_after)
                wait = self._retry_after
            if wait == 0.0:
                continue
            with self._cond:
                if not self._poked and not self._stopped:
                    self._cond.wait(wait)

    def _round(self) -> float | None:
        """Step each open operation once; returns how long to sleep (None: until poked)."""
        with self._store.read() as conn:
            ops = repo.open_operations(conn)
        if not ops:
            return None
        waits: list[float] = []
        for op in ops:
            with self._cond:
                if self._stopped:
                    return None
            self.steps += 1
            delay = self._runner.step(op["operation_id"])
            if delay is None:
                # Finished, or another node holds it: look again when its lease could have run out.
                if op["owner"] not in (None, self._runner.owner) and op["lease_until"] is not None:
                    waits.append(self._lease_seconds)
                else:
                    waits.append(0.0)
            else:
                waits.append(delay)
        return min(waits) if waits else None
