"""``AccountAdmin``: the management plane's audited changes to accounts, from creation to purge."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import sqlalchemy as sa

from silo.accounts import Account, AccountId, AccountSpec, AccountStatus, account_id
from silo.errors import ValidationError
from silo.platform.account_factory import AccountRequest
from silo.platform.management_audit import AuditTrail
from silo.platform.services import Services
from silo.workflows.models import ExecutionInfo

VERBS = {
    AccountStatus.ACTIVE: "Reactivate",
    AccountStatus.SUSPENDED: "Suspend",
    AccountStatus.CLOSED: "Close",
}


class AccountAdmin:
    """Each change is audited and, where the account's state changes, put on the management bus."""

    def __init__(self, services: Services, trail: AuditTrail) -> None:
        self._services = services
        self._store = services.store
        self._registry = services.registry
        self._facts = services.facts
        self._trail = trail

    def create(self, specs: Sequence[AccountSpec]) -> list[Account]:
        made = self._registry.create_many(specs)
        with self._store.write() as conn:
            for account in made[:100]:
                self._trail.record(
                    conn, "accounts:Create", account.account_id, details={"name": account.name}
                )
            if len(made) > 100:
                self._trail.record(conn, "accounts:CreateBatch", None, details={"count": len(made)})
            self._services.account_events.changed(conn, "Create", made)
        self._services.fleet.accounts_placed([a.account_id for a in made])
        return made

    def request(
        self, spec: AccountSpec, guardrails: Sequence[str], wait_seconds: float
    ) -> tuple[AccountRequest, ExecutionInfo]:
        request = self._services.factory.request(spec, guardrails=guardrails)
        with self._store.write() as conn:
            self._trail.record(
                conn,
                "accounts:Request",
                None,
                details={"name": spec.name, "execution": request.execution_arn, "key_id": request.key_id},
            )
        return request, self._services.factory.wait(request, wait_seconds)

    def suspend(self, account: str, reason: str) -> Account:
        return self._change_status(account, AccountStatus.SUSPENDED, [AccountStatus.ACTIVE], reason)

    def reactivate(self, account: str, reason: str) -> Account:
        return self._change_status(account, AccountStatus.ACTIVE, [AccountStatus.SUSPENDED], reason)

    def close(self, account: str, reason: str) -> Account:
        closed = self._change_status(
            account, AccountStatus.CLOSED, [AccountStatus.ACTIVE, AccountStatus.SUSPENDED], reason
        )
        with self._store.write() as conn:
            self._services.keys.revoke_all(conn, closed.account_id)
        self._services.housekeeper.poke()  # its retention clock is now running
        return closed

    def move(self, account: str, ou_id: str) -> Account:
        moved = self._registry.move(account_id(account), ou_id)
        self._facts.invalidate(moved.account_id)
        with self._store.write() as conn:
            self._trail.record(conn, "accounts:Move", moved.account_id, details={"ou_id": ou_id})
            self._services.account_events.changed(conn, "Move", [moved])
        self._services.fleet.accounts_placed([moved.account_id])
        return moved

    def tag(self, account: str, tags: Mapping[str, str], remove: Sequence[str]) -> Account:
        tagged = self._registry.tag(account_id(account), tags, remove)
        self._trail.now("accounts:Tag", tagged.account_id, {"set": dict(tags), "remove": list(remove)})
        return tagged

    def set_concurrency_limit(self, account: str, limit: int) -> Account:
        changed = self._registry.set_concurrency_limit(account_id(account), limit)
        self._facts.invalidate(changed.account_id)
        with self._store.write() as conn:
            self._trail.record(
                conn, "accounts:SetConcurrencyLimit", changed.account_id, details={"limit": limit}
            )
        return changed

    def purge_expired(self, now: datetime | None) -> list[AccountId]:
        def record(conn: sa.Connection, purged: list[AccountId]) -> None:
            for gone in purged:
                self._services.guardrails.detach_all(conn, gone)
                self._trail.record(conn, "accounts:Purge", gone)
            self._services.account_events.changed(conn, "Purge", purged)

        return self._registry.purge_expired(now, record=record)

    def _change_status(
        self, account: str, status: AccountStatus, allowed_from: list[AccountStatus], reason: str
    ) -> Account:
        if not isinstance(reason, str) or len(reason) > 512:
            raise ValidationError("reason: at most 512 characters", field="reason")
        changed = self._registry.set_status(account_id(account), status, allowed_from=allowed_from)
        self._facts.invalidate(changed.account_id)
        verb = VERBS[status]
        with self._store.write() as conn:
            self._trail.record(conn, f"accounts:{verb}", changed.account_id, reason=reason, details={})
            self._services.account_events.changed(conn, verb, [changed], reason=reason)
        return changed
