"""Schedules: EventBridge Scheduler expressions and one timer for the whole platform. Pure: no
database, no threads, no clock of its own::

    schedule = parse_schedule("cron(0 9 ? * MON-FRI *)", timezone="Europe/Berlin")
    schedule.next_after(now)                          # the next 09:00 Berlin time, as a UTC datetime

    wheel = ScheduleWheel()
    wheel.add(schedule_key(account_id, "nightly"), schedule, now=now)
    sleep_until(wheel.next_due())                     # nothing wakes while nothing is due
    for key, fire_time in wheel.pop_due(clock()):     # each popped schedule is re-armed
        deliver(key, fire_time)

Expressions: ``rate(N minute|minutes|hour|hours|day|days)``, AWS ``cron(...)`` (six fields with
``?``, ``L``, ``W``, ``#``, names and years) and ``at(yyyy-mm-ddThh:mm:ss)``, each in an IANA time
zone with EventBridge Scheduler's daylight saving rules (a skipped local time does not fire, a
repeated one fires once). Anything invalid is an :class:`InvalidSchedule` naming the field.

Spreading the load: by default a ``rate`` schedule fires at its own stable phase within its period,
a BLAKE2b hash of its key (account and name), so a million ``rate(5 minutes)`` schedules spread
evenly over the five minutes and each still fires exactly every five minutes. ``cron`` and ``at``
schedules fire on their times, plus a stable offset inside their :class:`FlexibleTimeWindow` when
it is ``FLEXIBLE``. See :mod:`silo.schedules.window`.

The benchmark behind ``silo bench schedules`` is :func:`silo.schedules.simulation.run_benchmark`.
"""

from silo.schedules.errors import InvalidSchedule
from silo.schedules.expressions import parse_schedule
from silo.schedules.model import AtSchedule, RateSchedule, Schedule
from silo.schedules.wheel import ScheduleWheel
from silo.schedules.window import FlexibleTimeWindow, offset_within, schedule_key, stable_hash

__all__ = [
    "AtSchedule",
    "FlexibleTimeWindow",
    "InvalidSchedule",
    "RateSchedule",
    "Schedule",
    "ScheduleWheel",
    "offset_within",
    "parse_schedule",
    "schedule_key",
    "stable_hash",
]
