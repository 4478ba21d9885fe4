"""Keyset pagination: opaque ``next_token``s that neither repeat nor skip rows."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

from silo.errors import ValidationError

T = TypeVar("T")
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T] = field(default_factory=list)
    next_token: str | None = None


def check_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(f"limit: between 1 and {MAX_LIMIT}, got {limit!r}", field="limit")
    return limit


def encode_token(position: Any) -> str:
    raw = json.dumps(position, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str | None) -> Any:
    """The position a token stands for, or ``None`` for the first page."""
    if token is None or token == "":
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error):
        raise ValidationError("next_token: not a token this API issued", field="next_token") from None


def older_than(
    at: sa.ColumnElement[Any], key: sa.ColumnElement[Any], position: Any
) -> sa.ColumnElement[bool]:
    """Rows after ``position`` in newest-first ``(at, key)`` order: ``position`` is a decoded token
    ``[at.isoformat(), key]`` of the last row of the previous page."""
    try:
        last_at, last_key = datetime.fromisoformat(position[0]), str(position[1])
    except (TypeError, ValueError, IndexError, KeyError):
        raise ValidationError("next_token: not a token this API issued", field="next_token") from None
    return sa.or_(at < last_at, sa.and_(at == last_at, key < last_key))
