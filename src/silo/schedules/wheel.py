"""``ScheduleWheel``: one timer for every schedule of the platform.

The wheel is a binary heap of fire times plus a few flat arrays, with no thread and no clock of its
own. The caller sleeps until :meth:`ScheduleWheel.next_due` (nothing wakes while nothing is due),
then calls :meth:`ScheduleWheel.pop_due`, which hands back every due ``(key, fire_time)`` and
re-arms each popped schedule for its next time.

Memory per schedule (64-bit CPython), besides the caller's key string::

    heap entry     8 (list pointer) + 32 (one int: fire_time << 26 | slot)
    slot arrays    8 (key pointer) + 8 (fire time) + 8 (offset) + 4 (schedule id)
    key index      about 6-11 (KeyIndex cells)

Schedules are interned: a million keys on ``rate(5 minutes)`` share one Schedule object. A removed
or replaced key leaves its heap entry behind as a stale entry, skipped when it surfaces (its slot's
fire time no longer matches) and dropped in bulk when stale entries outnumber live ones.

A key added at ``now`` is armed for its first fire time after ``now``: with a flexible window,
that can be in the window of a nominal time just past (a key added at 00:05 on an hourly cron with
a 15-minute window and a 7-minute offset fires at 00:07).

Late callers: a schedule popped after its time fires once for what it missed and is re-armed for
its first time after ``now`` (no burst of catch-up fires). A schedule with no next time (an ``at``
that fired, a cron past its last year) leaves the wheel. Ties are broken by key, so the order of
``pop_due`` depends only on the fire times and keys.
"""

from __future__ import annotations

import heapq
from array import array
from datetime import datetime

from silo.schedules._index import KeyIndex
from silo.schedules._localtime import epoch_s, from_epoch
from silo.schedules.model import Schedule

SLOT_BITS = 26
MAX_SLOTS = 1 << SLOT_BITS
_SLOT_MASK = MAX_SLOTS - 1
_UNARMED = -1
_COMPACT_AFTER = 1024


class ScheduleWheel:
    """Keys (``schedule_key(account, name)``) with their schedules, ordered by next fire time."""

    def __init__(self) -> None:
        self._heap: list[int] = []
        self._stale = 0
        self._keys: list[str | None] = []
        self._due = array("q")
        self._offset = array("q")
        self._schedule_id = array("i")
        self._free_slots = array("i")
        self._index = KeyIndex(self._keys)
        self._schedules: list[Schedule | None] = []
        self._schedule_ids: dict[Schedule, int] = {}
        self._schedule_users = array("i")
        self._free_schedule_ids: list[int] = []

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._index.find(key) >= 0

    @property
    def distinct_schedules(self) -> int:
        return len(self._schedule_ids)

    def add(self, key: str, schedule: Schedule, *, now: datetime) -> datetime | None:
        """Arm ``key`` for its first fire time after ``now``, replacing what it had.

        Returns that time, or None when the schedule never fires after ``now`` (it is not kept).
        """
        offset = schedule.offset_for(key)
        due = schedule.next_epoch(epoch_s(now), offset)
        if due is None:
            self.remove(key)
            return None
        if due < 0:
            raise ValueError(f"{key}: fire times before 1970 are not supported")
        schedule_id = self._intern(schedule)
        slot = self._index.find(key)
        if slot >= 0:
            # Replaced in place: the key's old heap entry goes stale.
            self._unintern(self._schedule_id[slot])
            self._note_stale()
        else:
            slot = self._take_slot()
            self._keys[slot] = key
            self._index.insert(key, slot)
        self._due[slot] = due
        self._offset[slot] = offset
        self._schedule_id[slot] = schedule_id
        heapq.heappush(self._heap, due << SLOT_BITS | slot)
        return from_epoch(due)

    def remove(self, key: str) -> bool:
        """Forget ``key``; False when it was not in the wheel."""
        slot = self._index.delete(key)
        if slot < 0:
            return False
        self._release(slot)
        self._note_stale()
        return True

    def due(self, key: str) -> datetime | None:
        """The key's next fire time, or None when it is not in the wheel."""
        slot = self._index.find(key)
        return None if slot < 0 else from_epoch(self._due[slot])

    def next_due(self) -> datetime | None:
        """The earliest fire time in the wheel: how long the caller may sleep."""
        heap, due = self._heap, self._due
        while heap:
            entry = heap[0]
            if due[entry & _SLOT_MASK] == entry >> SLOT_BITS:
                return from_epoch(entry >> SLOT_BITS)
            heapq.heappop(heap)
            self._stale -= 1
        return None

    def pop_due(self, now: datetime) -> list[tuple[str, datetime]]:
        """Every ``(key, fire_time)`` due at or before ``now``, by fire time then key; each popped
        schedule is re-armed for its next time after ``now``."""
        times: dict[int, datetime] = {}
        popped: list[tuple[str, datetime]] = []
        for due, key in self._pop_due(epoch_s(now)):
            when = times.get(due)
            if when is None:
                when = times[due] = from_epoch(due)
            popped.append((key, when))
        return popped

    def _pop_due(self, now_s: int) -> list[tuple[int, str]]:
        heap, due, keys, offsets, ids = self._heap, self._due, self._keys, self._offset, self._schedule_id
        schedules = self._schedules
        fired: list[tuple[int, str]] = []
        limit = (now_s + 1) << SLOT_BITS
        while heap and heap[0] < limit:
            entry = heap[0]
            slot, when = entry & _SLOT_MASK, entry >> SLOT_BITS
            if due[slot] != when:
                heapq.heappop(heap)
                self._stale -= 1
                continue
            key = keys[slot]
            schedule = schedules[ids[slot]]
            assert key is not None and schedule is not None
            fired.append((when, key))
            following = schedule.next_epoch(now_s, offsets[slot])
            if following is None:
                heapq.heappop(heap)
                self._index.delete(key)
                self._release(slot)
            else:
                due[slot] = following
                heapq.heapreplace(heap, following << SLOT_BITS | slot)
        fired.sort()
        return fired

    def _take_slot(self) -> int:
        if self._free_slots:
            return self._free_slots.pop()
        slot = len(self._keys)
        if slot >= MAX_SLOTS:
            raise OverflowError(f"a wheel holds at most {MAX_SLOTS} schedules")
        self._keys.append(None)
        self._due.append(_UNARMED)
        self._offset.append(0)
        self._schedule_id.append(-1)
        return slot

    def _release(self, slot: int) -> None:
        self._keys[slot] = None
        self._due[slot] = _UNARMED
        self._offset[slot] = 0
        self._unintern(self._schedule_id[slot])
        self._schedule_id[slot] = -1
        self._free_slots.append(slot)

    def _intern(self, schedule: Schedule) -> int:
        found = self._schedule_ids.get(schedule)
        if found is None:
            if self._free_schedule_ids:
                found = self._free_schedule_ids.pop()
                self._schedules[found] = schedule
            else:
                found = len(self._schedules)
                self._schedules.append(schedule)
                self._schedule_users.append(0)
            self._schedule_ids[schedule] = found
        self._schedule_users[found] += 1
        return found

    def _unintern(self, schedule_id: int) -> None:
        self._schedule_users[schedule_id] -= 1
        if self._schedule_users[schedule_id] == 0:
            schedule = self._schedules[schedule_id]
            assert schedule is not None
            del self._schedule_ids[schedule]
            self._schedules[schedule_id] = None
            self._free_schedule_ids.append(schedule_id)

    def _note_stale(self) -> None:
        self._stale += 1
        if self._stale > _COMPACT_AFTER and self._stale > len(self._index):
            self._compact()

    def _compact(self) -> None:
        """Drop every stale heap entry at once."""
        due = self._due
        self._heap = [when << SLOT_BITS | slot for slot, when in enumerate(due) if when != _UNARMED]
        heapq.heapify(self._heap)
        self._stale = 0
