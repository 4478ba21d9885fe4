"""The package surface, the error tree and the reserved words."""

from __future__ import annotations

import silo.tables
import silo.tables.expressions
from silo.errors import SiloError, ValidationError
from silo.tables.errors import (
    ConditionalCheckFailed,
    ResourceInUse,
    ResourceNotFound,
    TransactionCanceled,
    ValidationException,
)
from silo.tables.expressions import RESERVED_WORDS, is_reserved


def test_public_surface() -> None:
    assert {
        "ExpressionContext",
        "parse_condition",
        "parse_update",
        "parse_projection",
        "parse_key_condition",
        "Condition",
        "Update",
        "Projection",
        "KeyCondition",
    } <= set(silo.tables.expressions.__all__)
    for name in silo.tables.__all__:
        assert getattr(silo.tables, name) is not None


def test_error_codes_and_statuses() -> None:
    assert issubclass(ValidationException, ValidationError)
    assert (ValidationException.code, ValidationException.http_status) == ("ValidationException", 400)
    assert (ConditionalCheckFailed.code, ConditionalCheckFailed.http_status) == (
        "ConditionalCheckFailedException",
        400,
    )
    assert (TransactionCanceled.code, TransactionCanceled.http_status) == (
        "TransactionCanceledException",
        400,
    )
    assert (ResourceNotFound.code, ResourceNotFound.http_status) == ("ResourceNotFoundException", 404)
    assert (ResourceInUse.code, ResourceInUse.http_status) == ("ResourceInUseException", 400)
    for error in (ConditionalCheckFailed, TransactionCanceled, ResourceNotFound, ResourceInUse):
        assert issubclass(error, SiloError)


def test_conditional_check_failed() -> None:
    error = ConditionalCheckFailed()
    assert error.message == "The conditional request failed" and error.details == {}
    item = {"pk": {"S": "a"}}
    assert ConditionalCheckFailed("The conditional request failed", Item=item).to_dict()["details"] == {
        "Item": item
    }


def test_transaction_canceled_carries_reasons() -> None:
    reasons = [
        {"Code": "None"},
        {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"},
    ]
    error = TransactionCanceled(reasons)
    assert error.cancellation_reasons == reasons
    assert error.message == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[None, ConditionalCheckFailed]"
    )
    assert error.to_dict() == {
        "code": "TransactionCanceledException",
        "message": error.message,
        "details": {"cancellation_reasons": reasons},
    }
    assert TransactionCanceled(reasons, "custom").message == "custom"


def test_reserved_words() -> None:
    assert len(RESERVED_WORDS) == 573
    assert all(word == word.upper() for word in RESERVED_WORDS)
    for word in ("status", "Name", "DATA", "size", "TTL", "zone", "abort"):
        assert is_reserved(word)
    for word in ("remove", "pk", "price", "title", "id", "email"):
        assert not is_reserved(word)
