"""``FunctionsEngine``: the platform-wide parts of the function service, shared by every account.

It owns no account's data: each account reaches it through its own ``Functions`` scope. It keeps a
small, bounded cache of resolved targets (so a warm invoke does not touch the database) and the
async dispatcher.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa

from silo.accounts import AccountContext
from silo.dlq import DeadLetterQueue
from silo.functions.artifacts import ArtifactStore
from silo.functions.async_queue import AsyncItem, AsyncQueue, item_of, queued_row
from silo.functions.invoker import Invoker, Target
from silo.functions.models import Function
from silo.functions.repository import _WITH_RESERVED_TOTAL
from silo.functions.repository import _function as function_from_row
from silo.store import Store
from silo.store.schema import functions
from silo.telemetry import Logs, Metrics
from silo.transport import Dispatcher

if TYPE_CHECKING:
    from silo.functions.service import Functions

MAX_CACHED_TARGETS = 10_000

SdkOperation = Callable[[AccountContext, Mapping[str, Any]], dict[str, Any]]
"""Serves one kind of SDK call (``silo.runtime.channel.call(op, **args)``) made by a running handler:
given the context of the scope that invoked the handler (so, the handler's own account) and the
call's ``args``, it returns the JSON object of the result or raises a ``SiloError``. Nothing in
``args`` names an account; the context is the only account there is."""


@dataclass(frozen=True, slots=True)
class AsyncPolicy:
    """Retry timing for ``Event`` invocations (Lambda: 1 then 2 minutes; throttles back off up to 5)."""

    retry_base: timedelta = timedelta(seconds=60)
    throttle_base: timedelta = timedelta(seconds=1)
    throttle_max: timedelta = timedelta(minutes=5)


class TargetCache:
    """Resolved targets by (account, function, qualifier) for ``ttl`` seconds; LRU-bounded.

    Writes through a ``Functions`` scope invalidate the function's entries at once; the TTL bounds
    how long another node's change can take to be seen.
    """

    def __init__(self, ttl: float) -> None:
        self._ttl = ttl
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str, str], tuple[float, Target]] = OrderedDict()

    def get(self, key: tuple[str, str, str]) -> Target | None:
        with self._lock:
            hit = self._entries.get(key)
            if hit is None:
                return None
            if hit[0] < time.monotonic():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return hit[1]

    def put(self, key: tuple[str, str, str], target: Target) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic() + self._ttl, target)
            self._entries.move_to_end(key)
            while len(self._entries) > MAX_CACHED_TARGETS:
                self._entries.popitem(last=False)

    def invalidate(self, account: str, function: str) -> None:
        with self._lock:
            for key in [k for k in self._entries if k[0] == account and k[1] == function]:
                del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)


class LatestQuery:
    """The invoke cold path's one query (a function's ``$LATEST`` and the account's reserved total):
    the repository's statement, compiled once per dialect and run straight on a pooled driver
    connection, with the table's own result types applied. It saves SQLAlchemy's per-execution work
    (cache key, transaction events, row objects): most of a cold resolve's platform time."""

    def __init__(self, store: Store) -> None:
        self._engine = store.engine
        compiled = _WITH_RESERVED_TOTAL.compile(dialect=self._engine.dialect)
        self._sql = compiled.string
        self._defaults = compiled.construct_params({"account": "", "name": ""})
        self._order = compiled.positiontup  # None for named parameter styles
        dialect = self._engine.dialect
        self._names = [column.name for column in functions.c]
        self._processors = [column.type.result_processor(dialect, None) for column in functions.c]

    def get(self, account: str, name: str) -> tuple[Function, int] | None:
        params = {**self._defaults, "account": account, "name": name}
        args = params if self._order is None else [params[key] for key in self._order]
        raw = self._engine.raw_connection()
        try:
            cursor = raw.cursor()
            try:
                cursor.execute(self._sql, args)
                row = cursor.fetchone()
            finally:
                cursor.close()
        finally:
            raw.close()  # back to the pool, which ends the (read-only) transaction
        if row is None:
            return None
        values = {
            key: value if convert is None else convert(value)
            for key, convert, value in zip(self._names, self._processors, row, strict=False)
        }
        return function_from_row(cast("sa.Row[Any]", _Mapped(values))), int(row[-1])


class _Mapped:
    __slots__ = ("_mapping",)

    def __init__(self, mapping: dict[str, object]) -> None:
        self._mapping = mapping


class FunctionsEngine:
    def __init__(
        self,
        store: Store,
        artifacts: ArtifactStore,
        invoker: Invoker,
        queue: AsyncQueue,
        dlq: DeadLetterQueue,
        metrics: Metrics,
        logs: Logs,
        *,
        cache_ttl: float = 1.0,
        async_policy: AsyncPolicy | None = None,
        async_workers: int = 8,
    ) -> None:
        self.store = store
        self.artifacts = artifacts
        self.invoker = invoker
        self.queue = queue
        self.dlq = dlq
        self.metrics = metrics
        self.logs = logs
        self.targets = TargetCache(cache_ttl)
        self.latest = LatestQuery(store)
        self.async_policy = async_policy or AsyncPolicy()
        self._delivery_scope: Callable[[str], Functions] | None = None
        self.sdk_operations: dict[str, SdkOperation] = {}
        self.dispatcher: Dispatcher[AsyncItem] = Dispatcher(queue, self._process, workers=async_workers)

    def bind_delivery(self, scope_for: Callable[[str], Functions]) -> None:
        """The platform says how to act inside an item's account (a delivery principal)."""
        self._delivery_scope = scope_for

    def register_sdk_operation(self, op: str, serve: SdkOperation) -> None:
        """Let handlers call ``op`` over their channel (``invoke`` is the service's own); the platform
        registers the operations of other services here (``"tables"``)."""
        if op == "invoke" or op in self.sdk_operations:
            raise ValueError(f"the SDK operation {op!r} is taken")
        self.sdk_operations[op] = serve

    def resume(self) -> None:
        """Start dispatching if durable work is waiting (after a restart); otherwise stay asleep."""
        if self.queue.pending():
            self.dispatcher.wake()

    def queued(
        self, account: str, name: str, qualifier: str, payload: bytes, *, source: str
    ) -> dict[str, Any]:
        """A new ``Event`` invocation row; leased to this process when its dispatcher can take it,
        so that :meth:`run_queued` (after the commit) runs it without a claim."""
        lease = self.dispatcher.lease if self.dispatcher.can_take() else None
        return queued_row(account, name, qualifier, payload, source=source, leased_for=lease)

    def run_queued(self, rows: Sequence[dict[str, Any]]) -> None:
        """(After the accepting commit.) Run rows made by :meth:`queued`: leased ones here at once,
        the rest by a claim."""
        due = False
        for row in rows:
            if row["lease_until"] is None:
                due = True
            else:
                self.dispatcher.offer(item_of(row))
        if due:
            self.dispatcher.wake()

    def retry_later(
        self, item: AsyncItem, at: datetime, *, attempts: int, throttles: int, error: dict[str, Any] | None
    ) -> None:
        """Make ``item`` due again at ``at``; the dispatcher then sleeps until the earliest such time."""
        self.queue.retry_at(item, at, attempts=attempts, throttles=throttles, error=error)
        self.dispatcher.wake()

    def _process(self, item: AsyncItem) -> None:
        assert self._delivery_scope is not None, "bind_delivery was not called"
        self._delivery_scope(item.account_id).process_async(item)

    def close(self) -> None:
        self.dispatcher.stop()
        self.invoker.runtime.close()
        self.metrics.close()
        self.logs.close()
