"""The bookkeeping of live environments (no I/O, no locking: ``RuntimeHost`` holds its lock around it).

Idle environments are kept twice: a stack per key (the most recently used is reused first, so the
others can expire) and one LRU order across keys (oldest first, so eviction and the next idle
deadline are O(1)).
"""

from __future__ import annotations

from collections import OrderedDict

from silo.runtime._models import EnvironmentKey
from silo.runtime._process import EnvironmentProcess


class Pool:
    def __init__(self) -> None:
        self.live: dict[str, EnvironmentProcess] = {}  # every environment, busy or idle, by env_id
        self._idle: dict[EnvironmentKey, list[EnvironmentProcess]] = {}
        self._lru: OrderedDict[str, EnvironmentProcess] = OrderedDict()
        self._per_account: dict[str, int] = {}
        self._idle_versions: dict[tuple[str, str, str], int] = {}  # idle count by key minus revision

    def take_idle(self, key: EnvironmentKey) -> EnvironmentProcess | None:
        stack = self._idle.get(key)
        if not stack:
            return None
        env = stack.pop()
        if not stack:
            del self._idle[key]
        del self._lru[env.env_id]
        self._idle_count(key, -1)
        return env

    def has_idle(self, account_id: str, function_name: str, version: str) -> bool:
        return (account_id, function_name, version) in self._idle_versions

    def _idle_count(self, key: EnvironmentKey, delta: int) -> None:
        version = key[:3]
        count = self._idle_versions.get(version, 0) + delta
        if count:
            self._idle_versions[version] = count
        else:
            del self._idle_versions[version]

    def add(self, env: EnvironmentProcess) -> None:
        self.live[env.env_id] = env
        self._per_account[env.account_id] = self._per_account.get(env.account_id, 0) + 1

    def release(self, env: EnvironmentProcess) -> bool:
        """Make a live environment idle again; False if it is no longer in the pool."""
        if self.live.get(env.env_id) is not env:
            return False
        self._idle.setdefault(env.key, []).append(env)
        self._lru[env.env_id] = env
        self._idle_count(env.key, 1)
        return True

    def remove(self, env: EnvironmentProcess) -> bool:
        """Forget ``env`` (busy or idle); False if it was not in the pool."""
        if self.live.get(env.env_id) is not env:
            return False
        del self.live[env.env_id]
        if self._lru.pop(env.env_id, None) is not None:
            stack = self._idle[env.key]
            stack.remove(env)
            if not stack:
                del self._idle[env.key]
            self._idle_count(env.key, -1)
        count = self._per_account[env.account_id] - 1
        if count:
            self._per_account[env.account_id] = count
        else:
            del self._per_account[env.account_id]
        return True

    def oldest_idle(self) -> EnvironmentProcess | None:
        return next(iter(self._lru.values()), None)

    def expired(self, now: float, idle_timeout: float) -> list[EnvironmentProcess]:
        """Remove and return the environments idle for ``idle_timeout`` or longer."""
        gone = []
        while (env := self.oldest_idle()) is not None and env.last_used + idle_timeout <= now:
            self.remove(env)
            gone.append(env)
        return gone

    def count(self, account_id: str | None = None) -> int:
        return len(self.live) if account_id is None else self._per_account.get(account_id, 0)

    def drain(self) -> list[EnvironmentProcess]:
        envs = list(self.live.values())
        self.live.clear()
        self._idle.clear()
        self._lru.clear()
        self._per_account.clear()
        self._idle_versions.clear()
        return envs
