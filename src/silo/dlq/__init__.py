"""The central dead-letter queue, shared by async invocations and (later) event delivery."""

from silo.dlq.service import DeadLetter, DeadLetterFilter, DeadLetterQueue

__all__ = ["DeadLetter", "DeadLetterFilter", "DeadLetterQueue"]
