"""``ScheduleTimer``: the one timer thread that fires every scheduled rule of the platform.

It holds a :class:`ScheduleWheel` of every enabled rule with a ``ScheduleExpression`` (loaded once
at start, kept current by PutRule/DeleteRule on this node and, on PostgreSQL, by the other nodes'
notifications: ``schedule_sync``) and sleeps until the earliest fire time; with no schedules it has
no thread at all. Due fires are handed to ``fire`` in batches, which writes their deliveries durably
(and, via a compare-and-set on the rule, once per fire time even when several nodes hold the same
schedules). A fire time the rule's current schedule would not give (it was changed elsewhere and this
wheel has not heard) does not fire: the rule is armed again from what is stored (``fires_at``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from datetime import datetime

from silo.events.models import Rule, RuleState
from silo.schedules import FlexibleTimeWindow, Schedule, ScheduleWheel, parse_schedule, schedule_key
from silo.schedules.errors import InvalidSchedule
from silo.store import utcnow

log = logging.getLogger(__name__)
Fire = tuple[str, str, str, datetime]
"""(account, bus, rule, fire time)"""


def rule_key(account: str, bus: str, rule: str) -> str:
    return schedule_key(account, f"{bus}/{rule}")


def split_key(key: str) -> tuple[str, str, str]:
    account, rest = key.split("/", 1)
    bus, rule = rest.rsplit("/", 1)
    return account, bus, rule


class StaleSchedule(Exception):
    """A fire of a schedule armed from an older version of its rule (``rule`` is the stored one)."""

    def __init__(self, account: str, rule: Rule) -> None:
        super().__init__(f"{account}/{rule.bus}/{rule.name}")
        self.account = account
        self.rule = rule


def schedule_of(rule: Rule) -> Schedule | None:
    """What the timer arms for ``rule``: None when it is not an enabled schedule."""
    if rule.schedule is None or rule.state is not RuleState.ENABLED:
        return None
    window = None
    if rule.schedule.window_minutes:
        window = FlexibleTimeWindow("FLEXIBLE", rule.schedule.window_minutes)
    return parse_schedule(rule.schedule.expression, timezone=rule.schedule.timezone, window=window)


def fires_at(account: str, rule: Rule, at: datetime) -> bool:
    """Whether ``at`` is a fire time of ``rule``'s schedule as it is now (with its key's offset)."""
    try:
        schedule = schedule_of(rule)
    except InvalidSchedule:
        return False
    if schedule is None:
        return False
    seconds = int(at.timestamp())
    if seconds != at.timestamp():
        return False
    offset = schedule.offset_for(rule_key(account, rule.bus, rule.name))
    return schedule.next_epoch(seconds - 1, offset) == seconds


class ScheduleTimer:
    def __init__(self, fire: Callable[[list[Fire]], None], *, retry_after: float = 5.0) -> None:
        self._fire = fire
        self._retry_after = retry_after
        self._wheel = ScheduleWheel()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopped = False
        self.wakeups = 0

    def __len__(self) -> int:
        with self._cond:
            return len(self._wheel)

    def load(self, rules: Iterable[tuple[str, Rule]]) -> int:
        """Arm the schedules of ``(account, rule)`` pairs (at start); returns how many were armed."""
        armed = 0
        now = utcnow()
        with self._cond:
            for account, rule in rules:
                armed += self._arm(account, rule, now)
        self._kick()
        return armed

    def changed(self, account: str, rule: Rule) -> None:
        """A rule was put or its state changed: (re-)arm it, or drop it if it no longer fires."""
        with self._cond:
            key = rule_key(account, rule.bus, rule.name)
            self._wheel.remove(key)
            self._arm(account, rule, utcnow())
        self._kick()

    def removed(self, account: str, bus: str, rule: str) -> None:
        with self._cond:
            self._wheel.remove(rule_key(account, bus, rule))
            self._cond.notify()

    def __contains__(self, key: object) -> bool:
        with self._cond:
            return key in self._wheel

    def due(self, account: str, bus: str, rule: str) -> datetime | None:
        """The rule's next fire time here, or None when it is not armed."""
        with self._cond:
            return self._wheel.due(rule_key(account, bus, rule))

    def next_due(self) -> datetime | None:
        with self._cond:
            return self._wheel.next_due()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _arm(self, account: str, rule: Rule, now: datetime) -> int:
        try:
            schedule = schedule_of(rule)
        except InvalidSchedule:  # checked when the rule was put; a time zone database change may differ
            log.exception("cannot arm schedule of rule %s/%s in %s", rule.bus, rule.name, account)
            return 0
        if schedule is None:
            return 0
        return int(self._wheel.add(rule_key(account, rule.bus, rule.name), schedule, now=now) is not None)

    def _kick(self) -> None:
        with self._cond:
            if self._stopped or not len(self._wheel):
                self._cond.notify()
                return
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="silo-schedules", daemon=True)
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stopped:
                    return
                self.wakeups += 1
                due = self._wheel.pop_due(utcnow())
            if due:
                fires = [(*split_key(key), at) for key, at in due]
                try:
                    self._fire(fires)
                except Exception:  # the store may be busy: these fires are retried, none is skipped
                    log.exception("firing %d schedules failed; retrying", len(fires))
                    self._retry(fires)
                continue
            with self._cond:
                if self._stopped:
                    return
                nxt = self._wheel.next_due()
                timeout = None if nxt is None else max((nxt - utcnow()).total_seconds(), 0.0) + 0.001
                self._cond.wait(timeout)

    def _retry(self, fires: list[Fire]) -> None:
        with self._cond:
            if not self._stopped:
                self._cond.wait(self._retry_after)
        if not self._stopped:
            try:
                self._fire(fires)
            except Exception:
                log.exception("firing %d schedules failed twice; they fire at their next time", len(fires))
