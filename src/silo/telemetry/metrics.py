"""Per-account metrics in one-minute periods (sum, count, min, max), written behind."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from silo.accounts import AccountContext
from silo.store import Store, utcnow
from silo.store.schema import metric_samples
from silo.telemetry.buffer import FlushThread

_Key = tuple[str, str, str, str, datetime]


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
        self._flusher = FlushThread(self.flush, interval=flush_interval, name="silo-metrics")

    def record(
        self, context: AccountContext, namespace: str, metric: str, dimension: str, value: float
    ) -> None:
        self.record_for(context.account_id, namespace, metric, dimension, value)

    def record_for(self, account: str, namespace: str, metric: str, dimension: str, value: float) -> None:
        """Platform-internal: components that already act for ``account`` (dispatchers) record here."""
        self.record_many(account, namespace, ((metric, dimension, value),))

    def record_many(self, account: str, namespace: str, samples: Iterable[tuple[str, str, float]]) -> None:
        """Several samples of one account at once (one lock, one clock read: the invoke hot path)."""
        minute = utcnow().replace(second=0, microsecond=0)
        buffer = self._buffer
        with self._lock:
            for metric, dimension, value in samples:
                key = (account, namespace, metric, dimension, minute)
                agg = buffer.get(key)
                if agg is None:
                    buffer[key] = [value, 1, value, value]
                else:
                    agg[0] += value
                    agg[1] += 1
                    agg[2] = min(agg[2], value)
                    agg[3] = max(agg[3], value)
        self._flusher.notify()

    def flush(self) -> None:
        with self._lock:
            batch, self._buffer = self._buffer, {}
        if not batch:
            return
        rows = [
            {
                "account_id": k[0],
                "namespace": k[1],
                "metric": k[2],
                "dimension": k[3],
                "period_start": k[4],
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
