"""What the dead-letter queue stores and answers with: entries, filters and redrive outcomes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from silo.errors import SiloError


@dataclass(frozen=True, slots=True)
class DeadLetter:
    entry_id: str
    account_id: str
    source: str
    target: dict[str, Any]
    payload: bytes
    reason: str
    error: dict[str, Any] | None
    attempts: int
    first_at: datetime
    last_at: datetime
    redriven_at: datetime | None


@dataclass(frozen=True, slots=True)
class DeadLetterFilter:
    account_id: str | None = None
    source: str | None = None
    reason: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Redelivery:
    """What a redriver did inside the redrive's transaction.

    Attributes:
        detail: where the payload went (e.g. ``{"invocation_id": ...}``): audited and returned.
        after_commit: run once the transaction has committed (e.g. wake the async dispatcher, which
            must not look for the new work before it is visible).
    """

    detail: dict[str, Any] = field(default_factory=dict)
    after_commit: Callable[[], None] | None = None


@dataclass(frozen=True, slots=True)
class Redriven:
    """One entry sent back to its target: the entry as it is now (``redriven_at`` set)."""

    entry: DeadLetter
    detail: dict[str, Any]
    forced: bool = False


@dataclass(frozen=True, slots=True)
class RedriveFailure:
    """An entry of a batch redrive that was not sent, and why (it stays as it was)."""

    account_id: str
    entry_id: str
    error: SiloError


@dataclass(frozen=True, slots=True)
class RedriveBatch:
    redriven: list[Redriven] = field(default_factory=list)
    failed: list[RedriveFailure] = field(default_factory=list)
