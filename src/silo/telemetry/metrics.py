"""Per-account metrics in one-minute periods (sum, count, min, max), aggregated in memory, written behind.

Nothing is kept per invocation: the invoke hot path adds into one aggregate per (account, function,
minute) (``invocation``), other samples into one per (account, namespace, metric, dimension, minute)
(``record_for``); the flusher turns them into datapoints and upserts them once per interval.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from silo.accounts import AccountContext
from silo.store import Store, utcnow
from silo.store.schema import metric_samples
from silo.telemetry.buffer import FlushThread

FUNCTIONS = "Functions"
_Key = tuple[str, str, str, str, int]  # account, namespace, metric, dimension, minute (epoch // 60)
_time = time.time

# Slots of an invocation aggregate (one list per account, function and minute).
_N, _ERRORS, _COLD, _DUR_SUM, _DUR_MIN, _DUR_MAX, _CONC_SUM, _CONC_MIN, _CONC_MAX = range(9)
_INIT_N, _INIT_SUM, _INIT_MIN, _INIT_MAX = range(9, 13)


@dataclass(frozen=True, slots=True)
class Datapoint:
    period_start: datetime
    sum: float
    count: int
    min: float
    max: float

    @property
    def average(self) -> float:
        return self.sum / self.count if self.count else 0.0


class Metrics:
    def __init__(self, store: Store, *, flush_interval: float = 1.0) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._buffer: dict[_Key, list[float]] = {}
        self._invocations: dict[tuple[str, str, int], list[float]] = {}
        self._flusher = FlushThread(self.flush, interval=flush_interval, name="silo-metrics")

    def record(
        self, context: AccountContext, namespace: str, metric: str, dimension: str, value: float
    ) -> None:
        self.record_for(context.account_id, namespace, metric, dimension, value)

    def record_for(self, account: str, namespace: str, metric: str, dimension: str, value: float) -> None:
        """Platform-internal: components that already act for ``account`` (dispatchers) record here."""
        self.record_many(account, namespace, ((metric, dimension, value),))

    def record_many(self, account: str, namespace: str, samples: Iterable[tuple[str, str, float]]) -> None:
        """Several samples of one account at once (one lock, one clock read)."""
        minute = int(_time()) // 60
        buffer = self._buffer
        with self._lock:
            for metric, dimension, value in samples:
                _add(buffer, (account, namespace, metric, dimension, minute), value, 1, value, value)
        self._flusher.notify()

    def invocation(
        self,
        account: str,
        function: str,
        duration_ms: float,
        in_flight: int,
        cold: bool,
        init_ms: float | None,
        error: bool,
    ) -> None:
        """One finished invocation: ``Invocations``, ``Duration``, ``ConcurrentExecutions`` (of the
        function and of the account), ``ColdStarts``/``WarmStarts``, ``Errors`` and ``InitDuration``,
        as separate samples would give them, for the cost of one dictionary entry update."""
        key = (account, function, int(_time()) // 60)
        with self._lock:
            agg = self._invocations.get(key)
            if agg is None:
                agg = self._invocations[key] = [
                    0, 0, 0, 0.0, duration_ms, duration_ms, 0, in_flight, in_flight, 0, 0.0, 0.0, 0.0,
                ]  # fmt: skip
            agg[_N] += 1
            agg[_DUR_SUM] += duration_ms
            if duration_ms < agg[_DUR_MIN]:
                agg[_DUR_MIN] = duration_ms
            elif duration_ms > agg[_DUR_MAX]:
                agg[_DUR_MAX] = duration_ms
            agg[_CONC_SUM] += in_flight
            if in_flight < agg[_CONC_MIN]:
                agg[_CONC_MIN] = in_flight
            elif in_flight > agg[_CONC_MAX]:
                agg[_CONC_MAX] = in_flight
            if cold:
                agg[_COLD] += 1
                if init_ms is not None:
                    if not agg[_INIT_N]:
                        agg[_INIT_MIN] = agg[_INIT_MAX] = init_ms
                    agg[_INIT_N] += 1
                    agg[_INIT_SUM] += init_ms
                    agg[_INIT_MIN] = min(agg[_INIT_MIN], init_ms)
                    agg[_INIT_MAX] = max(agg[_INIT_MAX], init_ms)
            if error:
                agg[_ERRORS] += 1
        self._flusher.notify()

    def flush(self) -> None:
        with self._lock:
            batch, self._buffer = self._buffer, {}
            invocations, self._invocations = self._invocations, {}
        for (account, function, minute), agg in invocations.items():
            _expand(batch, account, function, minute, agg)
        if not batch:
            return
        rows = [
            {
                "account_id": k[0],
                "namespace": k[1],
                "metric": k[2],
                "dimension": k[3],
                "period_start": datetime.fromtimestamp(k[4] * 60, UTC),
                "sum": v[0],
                "count": int(v[1]),
                "min": v[2],
                "max": v[3],
            }
            for k, v in batch.items()
        ]
        with self._store.write() as conn:
            postgres = conn.dialect.name == "postgresql"
            stmt = (pg_insert if postgres else sqlite_insert)(metric_samples)
            excluded = stmt.excluded
            least, greatest = (sa.func.least, sa.func.greatest) if postgres else (sa.func.min, sa.func.max)
            stmt = stmt.on_conflict_do_update(
                index_elements=["account_id", "namespace", "metric", "dimension", "period_start"],
                set_={
                    "sum": metric_samples.c.sum + excluded.sum,
                    "count": metric_samples.c.count + excluded.count,
                    "min": least(metric_samples.c.min, excluded.min),
                    "max": greatest(metric_samples.c.max, excluded.max),
                },
            )
            conn.execute(stmt, rows)

    def query(
        self,
        context: AccountContext,
        namespace: str,
        metric: str,
        dimension: str,
        *,
        since: timedelta = timedelta(hours=1),
    ) -> list[Datapoint]:
        self.flush()
        start = utcnow() - since
        with self._store.read() as conn:
            rows = conn.execute(
                sa.select(metric_samples)
                .where(
                    metric_samples.c.account_id == context.account_id,
                    metric_samples.c.namespace == namespace,
                    metric_samples.c.metric == metric,
                    metric_samples.c.dimension == dimension,
                    metric_samples.c.period_start >= start.replace(second=0, microsecond=0),
                )
                .order_by(metric_samples.c.period_start)
            ).all()
        return [
            Datapoint(m["period_start"], m["sum"], m["count"], m["min"], m["max"])
            for m in (r._mapping for r in rows)
        ]

    def totals(
        self,
        context: AccountContext,
        namespace: str,
        dimension: str,
        *,
        since: timedelta = timedelta(hours=1),
    ) -> dict[str, Datapoint]:
        """Every metric of one dimension summed over the window (for ``silo functions metrics``)."""
        self.flush()
        start = (utcnow() - since).replace(second=0, microsecond=0)
        with self._store.read() as conn:
            rows = conn.execute(
                sa.select(
                    metric_samples.c.metric,
                    sa.func.sum(metric_samples.c.sum),
                    sa.func.sum(metric_samples.c.count),
                    sa.func.min(metric_samples.c.min),
                    sa.func.max(metric_samples.c.max),
                )
                .where(
                    metric_samples.c.account_id == context.account_id,
                    metric_samples.c.namespace == namespace,
                    metric_samples.c.dimension == dimension,
                    metric_samples.c.period_start >= start,
                )
                .group_by(metric_samples.c.metric)
            ).all()
        return {r[0]: Datapoint(start, float(r[1]), int(r[2]), float(r[3]), float(r[4])) for r in rows}

    def close(self) -> None:
        self._flusher.stop()
        self.flush()


def _add(
    batch: dict[_Key, list[float]], key: _Key, total: float, count: int, low: float, high: float
) -> None:
    agg = batch.get(key)
    if agg is None:
        batch[key] = [total, count, low, high]
    else:
        agg[0] += total
        agg[1] += count
        agg[2] = min(agg[2], low)
        agg[3] = max(agg[3], high)


def _expand(
    batch: dict[_Key, list[float]], account: str, function: str, minute: int, agg: list[float]
) -> None:
    """An invocation aggregate as the datapoints its samples would have made."""
    n, errors, cold = int(agg[_N]), int(agg[_ERRORS]), int(agg[_COLD])
    _add(batch, (account, FUNCTIONS, "Invocations", function, minute), n, n, 1, 1)
    _add(
        batch,
        (account, FUNCTIONS, "Duration", function, minute),
        agg[_DUR_SUM],
        n,
        agg[_DUR_MIN],
        agg[_DUR_MAX],
    )
    concurrency = (agg[_CONC_SUM], n, agg[_CONC_MIN], agg[_CONC_MAX])
    _add(batch, (account, FUNCTIONS, "ConcurrentExecutions", function, minute), *concurrency)
    _add(batch, (account, FUNCTIONS, "ConcurrentExecutions", "", minute), *concurrency)
    if cold:
        _add(batch, (account, FUNCTIONS, "ColdStarts", function, minute), cold, cold, 1, 1)
    if n > cold:
        _add(batch, (account, FUNCTIONS, "WarmStarts", function, minute), n - cold, n - cold, 1, 1)
    if errors:
        _add(batch, (account, FUNCTIONS, "Errors", function, minute), errors, errors, 1, 1)
    if agg[_INIT_N]:
        init = (agg[_INIT_SUM], int(agg[_INIT_N]), agg[_INIT_MIN], agg[_INIT_MAX])
        _add(batch, (account, FUNCTIONS, "InitDuration", function, minute), *init)
