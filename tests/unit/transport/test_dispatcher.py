"""The dispatcher: claims only when told the queue may have due work, runs offered work without a
claim, sleeps until the next due time, and hands back unstarted work when it stops."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

from silo.store import utcnow
from silo.transport import Dispatcher


class FakeQueue:
    def __init__(self) -> None:
        self.due: list[str] = []
        self.later: datetime | None = None
        self.claims = 0
        self.released: list[str] = []

    def claim_due(self, limit: int, lease: timedelta) -> list[str]:
        self.claims += 1
        taken, self.due = self.due[:limit], self.due[limit:]
        return taken

    def next_due(self) -> datetime | None:
        return self.later

    def release(self, items: list[str]) -> None:
        self.released += items


def wait_for(check: object, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.005)
    raise AssertionError("not in time")


def test_offered_work_runs_without_a_claim_and_woken_work_is_claimed() -> None:
    queue, done = FakeQueue(), []
    dispatcher: Dispatcher[str] = Dispatcher(queue, done.append, workers=2)
    dispatcher.offer("a")
    wait_for(lambda: done == ["a"])
    dispatcher.offer("b")
    wait_for(lambda: done == ["a", "b"])
    assert queue.claims == 0  # offered work needs no claim
    queue.due = ["c"]
    dispatcher.wake()
    wait_for(lambda: "c" in done)
    dispatcher.stop()


def test_it_sleeps_until_the_next_due_time_then_claims() -> None:
    queue, done = FakeQueue(), []
    dispatcher: Dispatcher[str] = Dispatcher(queue, lambda item: done.append((item, utcnow())), workers=1)
    due_at = utcnow() + timedelta(milliseconds=300)
    queue.later = due_at
    dispatcher.wake()
    wait_for(lambda: queue.claims >= 1)
    queue.due = ["retry"]  # becomes claimable now, but the dispatcher was told 300 ms
    wait_for(lambda: bool(done))
    [(item, at)] = done
    assert item == "retry" and at >= due_at
    dispatcher.stop()


def test_an_idle_dispatcher_does_not_wake() -> None:
    queue = FakeQueue()
    dispatcher: Dispatcher[str] = Dispatcher(queue, lambda item: None, workers=1)
    dispatcher.wake()
    wait_for(lambda: queue.claims >= 1)
    time.sleep(0.05)
    before = dispatcher.wakeups
    time.sleep(0.3)
    assert dispatcher.wakeups == before
    dispatcher.stop()


def test_stopping_hands_back_unstarted_offered_work() -> None:
    queue, gate, started, done = FakeQueue(), threading.Event(), threading.Event(), []

    def process(item: str) -> None:
        started.set()
        gate.wait(5)
        done.append(item)

    dispatcher: Dispatcher[str] = Dispatcher(queue, process, workers=1)
    for item in ("a", "b", "c"):
        dispatcher.offer(item)
    assert started.wait(5)  # "a" is running; "b" and "c" wait for the one worker
    stopping = threading.Thread(target=dispatcher.stop)
    stopping.start()
    time.sleep(0.05)
    gate.set()
    stopping.join(5)
    assert done == ["a"]
    assert queue.released == ["b", "c"]
    assert not dispatcher.can_take()
