"""KeyIndex against a dict: random inserts and deletes, many growths, long probe runs."""

from __future__ import annotations

import random

from silo.schedules._index import KeyIndex


class _CollidingKey(str):
    """A key whose hash is one of 8 values, so probe runs get long and wrap around the table."""

    __slots__ = ()

    def __hash__(self) -> int:
        return (int(self.rsplit("-", 1)[1]) % 8) * 7


def _exercise(make_key: type[str], operations: int, seed: int) -> None:
    keys: list[str | None] = []
    index = KeyIndex(keys)
    model: dict[str, int] = {}
    free: list[int] = []
    rng = random.Random(seed)
    for _ in range(operations):
        key = make_key(f"key-{rng.randrange(operations // 2)}")
        if key in model and rng.random() < 0.5:
            slot = model.pop(key)
            assert index.delete(key) == slot
            keys[slot] = None
            free.append(slot)
        elif key not in model:
            slot = free.pop() if free else len(keys)
            if slot == len(keys):
                keys.append(None)
            keys[slot] = key
            index.insert(key, slot)
            model[key] = slot
        assert index.find(key) == model.get(key, -1)
        assert len(index) == len(model)
    for key, slot in model.items():
        assert index.find(key) == slot
    assert index.delete(make_key(f"key-{operations}")) == -1


def test_matches_a_dict_under_random_operations() -> None:
    _exercise(str, 20_000, seed=1)


def test_matches_a_dict_when_every_key_collides() -> None:
    _exercise(_CollidingKey, 3_000, seed=2)
