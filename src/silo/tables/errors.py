"""Errors of the tables service, with DynamoDB's codes and messages.

    SiloError
    ├── ValidationError (400)
    │   └── ValidationException (400 ValidationException)        bad input; DynamoDB's wording
    ├── ConditionalCheckFailed (400 ConditionalCheckFailedException)   a condition that did not hold
    ├── TransactionCanceled (400 TransactionCanceledException)   one reason per action of the transaction
    ├── ResourceNotFound (404 ResourceNotFoundException)         no such table (or index, stream)
    └── ResourceInUse (400 ResourceInUseException)               the table exists, or is busy

Expression errors are worded as DynamoDB words them, prefixed with the parameter at fault:
``Invalid ConditionExpression: Syntax error; token: "AND", near: "= AND"``. A syntax error also
carries ``position`` (the character offset of the offending token), ``token`` and ``near`` in its
details; other expression errors carry ``position`` when one token is at fault.
"""

from __future__ import annotations

from typing import Any

from silo.errors import SiloError, ValidationError


class ValidationException(ValidationError):
    """Input DynamoDB would refuse; the message is DynamoDB's (``details`` say where, when known)."""

    code = "ValidationException"


class ConditionalCheckFailed(SiloError):
    """A ``ConditionExpression`` that did not hold; ``Item`` in the details when asked for."""

    code = "ConditionalCheckFailedException"
    http_status = 400

    def __init__(self, message: str = "The conditional request failed", **details: Any) -> None:
        super().__init__(message, **details)


class TransactionCanceled(SiloError):
    """A transaction that did not run: one ``{"Code": ..., "Message": ...}`` reason per action, in
    order, ``{"Code": "None"}`` for the actions that were not at fault."""

    code = "TransactionCanceledException"
    http_status = 400

    def __init__(self, cancellation_reasons: list[dict[str, Any]], message: str | None = None) -> None:
        codes = ", ".join(str(reason.get("Code", "None")) for reason in cancellation_reasons)
        text = message or (
            f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]"
        )
        super().__init__(text, cancellation_reasons=cancellation_reasons)
        self.cancellation_reasons = cancellation_reasons


class ResourceNotFound(SiloError):
    """The named table (index, stream) does not exist in this account."""

    code = "ResourceNotFoundException"
    http_status = 404


class ResourceInUse(SiloError):
    """The table already exists, or is in a state that forbids the change."""

    code = "ResourceInUseException"
    http_status = 400


class IdempotentParameterMismatch(SiloError):
    """A ``ClientRequestToken`` used in the last ten minutes with a different request."""

    code = "IdempotentParameterMismatchException"
    http_status = 400


__all__ = [
    "ConditionalCheckFailed",
    "IdempotentParameterMismatch",
    "ResourceInUse",
    "ResourceNotFound",
    "TransactionCanceled",
    "ValidationException",
]
