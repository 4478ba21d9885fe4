"""The audit log: who did what in which account, when and why. Append-only, management plane."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from silo.accounts.models import AccountId
from silo.errors import ValidationError
from silo.store import Store, utcnow
from silo.store.pages import Page, check_limit, decode_token, encode_token
from silo.store.schema import fleet_audit_log


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at: datetime
    principal: str
    action: str
    account_id: AccountId | None
    reason: str
    details: dict[str, Any]


class AuditLog:
    def __init__(self, store: Store) -> None:
        self._store = store

    def record(
        self,
        conn: sa.Connection,
        *,
        principal: str,
        action: str,
        account: AccountId | None,
        reason: str = "",
        details: dict[str, Any] | None = None,
    ) -> None:
        """Append an entry inside the caller's transaction, so it lands exactly when the action does."""
        conn.execute(
            fleet_audit_log.insert().values(
                at=utcnow(),
                principal=principal,
                action=action,
                account_id=account,
                reason=reason,
                details=details or {},
            )
        )

    def list(
        self,
        *,
        account: AccountId | None = None,
        action: str | None = None,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> Page[AuditEntry]:
        """Newest first."""
        size = check_limit(limit)
        before = decode_token(next_token)
        query = sa.select(fleet_audit_log).order_by(fleet_audit_log.c.seq.desc()).limit(size + 1)
        if account is not None:
            query = query.where(fleet_audit_log.c.account_id == account)
        if action is not None:
            query = query.where(fleet_audit_log.c.action == action)
        if before is not None:
            if not isinstance(before, int) or isinstance(before, bool) or not 0 < before < 2**63:
                raise ValidationError("next_token: not a token this API issued", field="next_token")
            query = query.where(fleet_audit_log.c.seq < before)
        with self._store.read() as conn:
            rows = conn.execute(query).all()
        items = [
            AuditEntry(
                seq=m["seq"],
                at=m["at"],
                principal=m["principal"],
                action=m["action"],
                account_id=m["account_id"],
                reason=m["reason"],
                details=m["details"],
            )
            for m in (r._mapping for r in rows[:size])
        ]
        return Page(items, encode_token(items[-1].seq) if len(rows) > size else None)
