"""The account lifecycle on the management bus: each change of an account, as an event.

Creating, suspending, reactivating, closing, moving and purging an account (and the account
factory's steps: created as ``PROVISIONING``, ready, discarded) each put one event on the management
account's ``default`` bus, in the transaction that records the change in the audit log (which is
their history: unlike the fleet's events they are not copied to ``fleet_management_events``). The
management account's rules can then react, e.g. onboard every new tenant::

    {"source": ["silo.accounts"], "detail-type": ["Account State Change"],
     "detail": {"action": ["Create", "Ready"], "status": ["ACTIVE"]}}

The detail: ``account_id``, ``action`` (the audit action without ``accounts:``), ``status`` (the
account's status after the change; ``DELETED`` once it is purged or discarded), and, when known,
``name``, ``ou_id`` and ``reason``. Tenants cannot send ``silo.*`` events, so a rule on this source
sees only the platform's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from silo.accounts import Account, AccountId
from silo.fleet.events import Publish
from silo.store import utcnow

SOURCE = "silo.accounts"
ACCOUNT_CHANGED = "Account State Change"
DELETED = "DELETED"


class AccountEvents:
    """Writes account changes to the management bus, in the caller's transaction."""

    def __init__(self, publish: Publish) -> None:
        self._publish = publish

    def changed(
        self,
        conn: sa.Connection,
        action: str,
        accounts: Sequence[Account | AccountId],
        *,
        reason: str = "",
    ) -> None:
        """``action`` (``Create``, ``Suspend``, ``Purge``...) happened to ``accounts``: an
        :class:`Account` as it is now, or only the id of an account that no longer exists."""
        now = utcnow()
        rows = [
            {
                "at": now,
                "source": SOURCE,
                "detail_type": ACCOUNT_CHANGED,
                "detail": _detail(action, one, reason),
            }
            for one in accounts
        ]
        if rows:
            self._publish(conn, rows)


def _detail(action: str, account: Account | AccountId, reason: str) -> dict[str, Any]:
    if isinstance(account, Account):
        detail: dict[str, Any] = {
            "account_id": account.account_id,
            "action": action,
            "status": account.status.value,
            "name": account.name,
            "ou_id": account.ou_id,
        }
    else:
        detail = {"account_id": str(account), "action": action, "status": DELETED}
    if reason:
        detail["reason"] = reason
    return detail
