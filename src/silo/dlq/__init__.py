"""The central dead-letter queue, shared by async invocations and (later) event delivery."""

from silo.dlq.models import (
    DeadLetter,
    DeadLetterFilter,
    Redelivery,
    RedriveBatch,
    RedriveFailure,
    Redriven,
)
from silo.dlq.service import DEFAULT_RETENTION, DeadLetterQueue

__all__ = [
    "DEFAULT_RETENTION",
    "DeadLetter",
    "DeadLetterFilter",
    "DeadLetterQueue",
    "Redelivery",
    "RedriveBatch",
    "RedriveFailure",
    "Redriven",
]
