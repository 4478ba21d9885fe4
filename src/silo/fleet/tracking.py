"""Live progress of an operation: per-wave counts, rate and ETA, from one grouped query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from silo.fleet import repository as repo
from silo.fleet.models import Operation, TargetStatus
from silo.store import utcnow


@dataclass(frozen=True, slots=True)
class WaveProgress:
    wave: int
    name: str
    total: int
    succeeded: int
    failed: int
    running: int
    pending: int
    cancelled: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "wave": self.wave,
            "name": self.name,
            "total": self.total,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "running": self.running,
            "pending": self.pending,
            "cancelled": self.cancelled,
        }


@dataclass(frozen=True, slots=True)
class Progress:
    operation: Operation
    waves: tuple[WaveProgress, ...]
    rate_per_s: float
    eta_s: float | None
    at: datetime

    @property
    def total(self) -> int:
        return sum(w.total for w in self.waves)

    def count(self, status: str) -> int:
        return sum(getattr(w, status) for w in self.waves)

    def to_dict(self) -> dict[str, Any]:
        op = self.operation
        return {
            "operation_id": op.operation_id,
            "stack_set": op.stack_set,
            "action": op.action.value,
            "status": op.status.value,
            "status_reason": op.status_reason,
            "version": op.version,
            "current_wave": op.current_wave,
            "created_at": op.created_at.isoformat(),
            "started_at": op.started_at.isoformat() if op.started_at else None,
            "ended_at": op.ended_at.isoformat() if op.ended_at else None,
            "total": self.total,
            "succeeded": self.count("succeeded"),
            "failed": self.count("failed"),
            "running": self.count("running"),
            "pending": self.count("pending"),
            "cancelled": self.count("cancelled"),
            "rate_per_s": round(self.rate_per_s, 1),
            "eta_s": None if self.eta_s is None else round(self.eta_s, 1),
            "waves": [w.to_dict() for w in self.waves],
        }


def progress(conn: sa.Connection, operation_id: str) -> Progress:
    row = repo.operation_row(conn, operation_id)
    op = repo.operation_from_row(row)
    counts = repo.counts(conn, operation_id)
    meta = row["preferences"].get("waves", [])
    waves = []
    for index in range(op.waves):

        def n(status: TargetStatus, wave: int = index) -> int:
            return counts.get((wave, status.value), 0)

        waves.append(
            WaveProgress(
                wave=index,
                name=(meta[index].get("name") if index < len(meta) else "") or f"wave {index + 1}",
                total=sum(v for (w, _), v in counts.items() if w == index),
                succeeded=n(TargetStatus.SUCCEEDED),
                failed=n(TargetStatus.FAILED),
                running=n(TargetStatus.RUNNING),
                pending=n(TargetStatus.PENDING),
                cancelled=n(TargetStatus.CANCELLED),
            )
        )
    now = utcnow()
    done = sum(w.succeeded + w.failed for w in waves)
    end = op.ended_at or now
    elapsed = (end - op.started_at).total_seconds() if op.started_at else 0.0
    rate = done / elapsed if elapsed > 0 else 0.0
    remaining = sum(w.pending + w.running for w in waves)
    eta = remaining / rate if rate > 0 and not op.status.finished else (0.0 if op.status.finished else None)
    return Progress(op, tuple(waves), rate, eta, now)
