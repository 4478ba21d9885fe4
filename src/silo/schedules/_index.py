"""A compact key -> slot index for the wheel: open addressing over an ``array('i')``.

A ``dict[str, int]`` costs about 74 bytes an entry (its table plus a boxed int per slot); this costs
4 bytes a table cell at a load of at most 0.7, about 6-11 bytes an entry. Keys live once, in the
owner's ``keys`` list (slot -> key); the table holds slot numbers, -1 for an empty cell. Linear
probing with backward-shift deletion, so there are no tombstones and lookups stay short.
"""

from __future__ import annotations

from array import array

_EMPTY = -1
_MIN_CAPACITY = 64


class KeyIndex:
    """Finds the slot of a key, given the owner's slot -> key list."""

    __slots__ = ("_count", "_keys", "_mask", "_table")

    def __init__(self, keys: list[str | None]) -> None:
        self._keys = keys
        self._table = array("i", [_EMPTY]) * _MIN_CAPACITY
        self._mask = _MIN_CAPACITY - 1
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def find(self, key: str) -> int:
        """The key's slot, or -1."""
        table, keys, mask = self._table, self._keys, self._mask
        cell = hash(key) & mask
        while (slot := table[cell]) != _EMPTY:
            if keys[slot] == key:
                return slot
            cell = (cell + 1) & mask
        return _EMPTY

    def insert(self, key: str, slot: int) -> None:
        """Index ``slot`` (whose key is ``key``); the key must not be indexed yet."""
        if (self._count + 1) * 10 > len(self._table) * 7:
            self._resize(len(self._table) * 2)
        table, mask = self._table, self._mask
        cell = hash(key) & mask
        while table[cell] != _EMPTY:
            cell = (cell + 1) & mask
        table[cell] = slot
        self._count += 1

    def delete(self, key: str) -> int:
        """Forget the key; its slot, or -1 when it was not indexed."""
        table, keys, mask = self._table, self._keys, self._mask
        cell = hash(key) & mask
        while (slot := table[cell]) != _EMPTY:
            if keys[slot] == key:
                break
            cell = (cell + 1) & mask
        else:
            return _EMPTY
        # Backward shift: pull later members of the probe run into the hole when that keeps them
        # reachable from their home cell.
        hole, probe = cell, cell
        while True:
            probe = (probe + 1) & mask
            moved = table[probe]
            if moved == _EMPTY:
                break
            home = hash(keys[moved]) & mask
            if (probe - home) & mask >= (probe - hole) & mask:
                table[hole] = moved
                hole = probe
        table[hole] = _EMPTY
        self._count -= 1
        return slot

    def _resize(self, capacity: int) -> None:
        old = self._table
        self._table = array("i", [_EMPTY]) * capacity
        self._mask = capacity - 1
        table, keys, mask = self._table, self._keys, self._mask
        for slot in old:
            if slot != _EMPTY:
                cell = hash(keys[slot]) & mask
                while table[cell] != _EMPTY:
                    cell = (cell + 1) & mask
                table[cell] = slot
