"""``AuditTrail``: the management plane's audit records, each under the acting principal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from silo.accounts import AccountId, Principal
from silo.audit import AuditLog
from silo.store import Store


@dataclass(frozen=True, slots=True)
class AuditTrail:
    """Records one principal's management actions, in the caller's transaction or in one of its own."""

    principal: Principal
    store: Store
    audit: AuditLog

    def record(
        self,
        conn: Any,
        action: str,
        account: AccountId | None,
        *,
        reason: str = "",
        details: dict[str, Any] | None = None,
    ) -> None:
        self.audit.record(
            conn,
            principal=self.principal.key_id,
            action=action,
            account=account,
            reason=reason,
            details=details,
        )

    def now(
        self, action: str, account: AccountId | None, details: dict[str, Any], *, reason: str = ""
    ) -> None:
        """Record in a write transaction of its own."""
        with self.store.write() as conn:
            self.record(conn, action, account, reason=reason, details=details)


def account_or_none(target_id: str) -> AccountId | None:
    """The account a guardrail target or a filter names, for the audit record (none for an OU)."""
    return AccountId(target_id) if target_id.isdigit() else None
