"""Errors of the events engines: all are 400s under :class:`silo.errors.ValidationError`.

    ValidationError (400)
    ├── InvalidPattern (400 InvalidEventPattern)     an event pattern that does not compile (PutRule)
    ├── InvalidEntry (400 InvalidEventEntry)         a PutEvents entry that cannot become an event
    ├── InvalidTargetInput (400 InvalidTargetInput)  a target's Input, InputPath or InputTransformer
    └── LimitExceeded (400 LimitExceededException)   a rule would have more than 5 targets (PutTargets)

Each names where the problem is (``path`` in the pattern, ``field`` of the entry or target), and the
message starts with it: ``detail.price[0]: Bottom must be less than top``.
"""

from __future__ import annotations

from silo.errors import ValidationError


class InvalidPattern(ValidationError):
    """An event pattern that does not compile; ``reason`` is worded as EventBridge words it."""

    code = "InvalidEventPattern"

    def __init__(self, reason: str, path: str = "") -> None:
        super().__init__(f"{path}: {reason}" if path else reason, path=path)
        self.path = path
        self.reason = reason


class InvalidEntry(ValidationError):
    """A PutEvents entry that fails; ``error_code`` is the per-entry code EventBridge reports
    (``InvalidArgument``, ``MalformedDetail``)."""

    code = "InvalidEventEntry"

    def __init__(self, field: str, reason: str, *, error_code: str = "InvalidArgument") -> None:
        super().__init__(f"{field}: {reason}", field=field, error_code=error_code)
        self.field = field
        self.reason = reason
        self.error_code = error_code


class InvalidTargetInput(ValidationError):
    """A target input that does not compile (PutTargets), e.g. ``InputTransformer.InputTemplate``."""

    code = "InvalidTargetInput"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}", field=field)
        self.field = field
        self.reason = reason


class LimitExceeded(ValidationError):
    """A limit of EventBridge's own (``PutTargets``: five targets per rule) would be exceeded."""

    code = "LimitExceededException"
