"""``ClientRequestToken`` of ``TransactWriteItems``: idempotency for ten minutes.

The same request under the same token within ten minutes of the first one that succeeded is answered
without being applied again; another request under that token is refused
(``IdempotentParameterMismatchException``); after ten minutes the token is new again. A cancelled
transaction wrote nothing and records no token: retrying it runs it again. Tokens are per account;
each use deletes the account's expired ones (no sweeper: an idle account costs nothing).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from silo.accounts import AccountContext
from silo.store.schema import kv_transaction_tokens
from silo.tables.errors import IdempotentParameterMismatch, ValidationException

T = kv_transaction_tokens
WINDOW = timedelta(minutes=10)
MAX_TOKEN = 36


def token_of(request: Mapping[str, Any]) -> str | None:
    """The request's ``ClientRequestToken`` (1 to 36 characters), or None."""
    token = request.get("ClientRequestToken")
    if token is None:
        return None
    if not isinstance(token, str) or not 1 <= len(token) <= MAX_TOKEN:
        raise ValidationException(
            f"ClientRequestToken: a string of 1 to {MAX_TOKEN} characters", field="ClientRequestToken"
        )
    return token


def digest_of(request: Mapping[str, Any]) -> str:
    """What identifies the request's parameters (all of them but the token itself)."""
    rest = {key: value for key, value in request.items() if key != "ClientRequestToken"}
    text = json.dumps(rest, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class TransactionTokens:
    """One account's tokens (every statement filters by the account)."""

    def __init__(self, context: AccountContext) -> None:
        self._account = context.account_id

    def already_applied(self, conn: sa.Connection, token: str, digest: str, now: datetime) -> bool:
        """Whether this request ran under ``token`` within the window (answer it, apply nothing).

        Raises:
            IdempotentParameterMismatch: the token came with another request within the window.
        """
        conn.execute(sa.delete(T).where(T.c.account_id == self._account, T.c.created_at < now - WINDOW))
        seen = conn.execute(
            sa.select(T.c.request_sha256).where(T.c.account_id == self._account, T.c.token == token)
        ).scalar()
        if seen is None:
            return False
        if seen != digest:
            raise IdempotentParameterMismatch(
                "ClientRequestToken was used in the last ten minutes with different parameters",
                field="ClientRequestToken",
            )
        return True

    def remember(self, conn: sa.Connection, token: str, digest: str, now: datetime) -> None:
        conn.execute(
            sa.insert(T).values(account_id=self._account, token=token, request_sha256=digest, created_at=now)
        )
