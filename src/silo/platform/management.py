"""``ManagementHandle``: the management plane. Reaching into an account goes through ``assume``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from silo.accounts import (
    Account,
    AccountId,
    AccountSpec,
    AccountStatus,
    KeyKind,
    OrganizationalUnit,
    Principal,
    account_id,
    mint_context,
)
from silo.audit import AuditEntry
from silo.credentials import AccessKey, IssuedKey
from silo.dlq import DeadLetter, DeadLetterFilter, RedriveBatch, Redriven
from silo.errors import Conflict, ValidationError
from silo.guardrails import AttachedPolicy, Guardrail
from silo.platform.account import AccountHandle
from silo.platform.account_factory import AccountRequest
from silo.platform.fleet_audit import AuditedFleet
from silo.platform.provisioning import Provisioning
from silo.platform.services import Services
from silo.store import utcnow
from silo.store.pages import Page
from silo.workflows.models import ExecutionInfo

MAX_SESSION = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class AssumedSession:
    """The result of ``assume``: a handle bound to the account, and a session key for the API."""

    handle: AccountHandle
    key: IssuedKey


class ManagementHandle:
    """Everything the management plane may do. Made only for a management principal."""

    def __init__(self, principal: Principal, services: Services) -> None:
        self.principal = principal
        self._services = services
        self._store = services.store
        self._registry = services.registry
        self._ous = services.ous
        self._keys = services.keys
        self._guardrails = services.guardrails
        self._audit = services.audit
        self._facts = services.facts
        self._dlq = services.dlq
        self.provisioning = Provisioning(principal, services)
        self.fleet = AuditedFleet(
            services.fleet, lambda action, details: self._audit_now(action, None, details)
        )

    # --- accounts -------------------------------------------------------------------------------
    def create_accounts(self, specs: Sequence[AccountSpec]) -> list[Account]:
        made = self._registry.create_many(specs)
        with self._store.write() as conn:
            for account in made[:100]:
                self._record(conn, "accounts:Create", account.account_id, details={"name": account.name})
            if len(made) > 100:
                self._record(conn, "accounts:CreateBatch", None, details={"count": len(made)})
            self._services.account_events.changed(conn, "Create", made)
        self.fleet.accounts_placed([a.account_id for a in made])
        return made

    def create_account(self, spec: AccountSpec) -> Account:
        """Create an account directly, ACTIVE at once (bulk creation and tests); a tenant's account
        normally comes from :meth:`request_account`, the account factory."""
        return self.create_accounts([spec])[0]

    def request_account(
        self, spec: AccountSpec, *, guardrails: Sequence[str] = (), wait_seconds: float = 60.0
    ) -> tuple[AccountRequest, ExecutionInfo]:
        """Make an account through the account factory workflow; waits up to ``wait_seconds`` for
        it to be ready. The request holds the new account's first key (shown only here)."""
        request = self._services.factory.request(spec, guardrails=guardrails)
        with self._store.write() as conn:
            self._record(
                conn,
                "accounts:Request",
                None,
                details={"name": spec.name, "execution": request.execution_arn, "key_id": request.key_id},
            )
        return request, self._services.factory.wait(request, wait_seconds)

    def describe_account(self, account: str) -> Account:
        return self._registry.get(account_id(account))

    def list_accounts(
        self,
        *,
        ou_id: str | None = None,
        recursive: bool = False,
        tags: Mapping[str, str | None] | None = None,
        status: AccountStatus | None = None,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> Page[Account]:
        return self._registry.find(
            ou_id=ou_id, recursive=recursive, tags=tags, status=status, limit=limit, next_token=next_token
        )

    def suspend_account(self, account: str, reason: str = "") -> Account:
        return self._change_status(account, AccountStatus.SUSPENDED, [AccountStatus.ACTIVE], reason)

    def reactivate_account(self, account: str, reason: str = "") -> Account:
        return self._change_status(account, AccountStatus.ACTIVE, [AccountStatus.SUSPENDED], reason)

    def close_account(self, account: str, reason: str = "") -> Account:
        """Close: the account's keys stop working; its data stays readable here until purged."""
        closed = self._change_status(
            account, AccountStatus.CLOSED, [AccountStatus.ACTIVE, AccountStatus.SUSPENDED], reason
        )
        with self._store.write() as conn:
            self._keys.revoke_all(conn, closed.account_id)
        self._services.housekeeper.poke()  # its retention clock is now running
        return closed

    def move_account(self, account: str, ou_id: str) -> Account:
        moved = self._registry.move(account_id(account), ou_id)
        self._facts.invalidate(moved.account_id)
        with self._store.write() as conn:
            self._record(conn, "accounts:Move", moved.account_id, details={"ou_id": ou_id})
            self._services.account_events.changed(conn, "Move", [moved])
        self.fleet.accounts_placed([moved.account_id])
        return moved

    def tag_account(self, account: str, tags: Mapping[str, str], remove: Sequence[str] = ()) -> Account:
        tagged = self._registry.tag(account_id(account), tags, remove)
        self._audit_now("accounts:Tag", tagged.account_id, {"set": dict(tags), "remove": list(remove)})
        return tagged

    def set_concurrency_limit(self, account: str, limit: int) -> Account:
        changed = self._registry.set_concurrency_limit(account_id(account), limit)
        self._facts.invalidate(changed.account_id)
        with self._store.write() as conn:
            self._record(conn, "accounts:SetConcurrencyLimit", changed.account_id, details={"limit": limit})
        return changed

    def purge_expired_accounts(self, now: datetime | None = None) -> list[AccountId]:
        """Purge closed accounts past their retention; detached and audited in the purge's transaction."""

        def record(conn: sa.Connection, purged: list[AccountId]) -> None:
            for gone in purged:
                self._guardrails.detach_all(conn, gone)
                self._record(conn, "accounts:Purge", gone)
            self._services.account_events.changed(conn, "Purge", purged)

        return self._registry.purge_expired(now, record=record)

    # --- organizational units ----------------------------------------------------------------
    def create_ou(self, name: str, parent_id: str | None = None) -> OrganizationalUnit:
        made = self._ous.create(name, parent_id)
        self._audit_now("ous:Create", None, {"ou_id": made.ou_id, "name": name})
        return made

    def describe_ou(self, ou_id: str) -> OrganizationalUnit:
        return self._ous.get(ou_id)

    def list_ous(self, parent_id: str | None = None) -> list[OrganizationalUnit]:
        return self._ous.children(parent_id)

    def ou_tree(self) -> list[OrganizationalUnit]:
        return self._ous.tree()

    def root_ou(self) -> OrganizationalUnit:
        return self._ous.root()

    def rename_ou(self, ou_id: str, name: str) -> OrganizationalUnit:
        renamed = self._ous.rename(ou_id, name)
        self._audit_now("ous:Rename", None, {"ou_id": ou_id, "name": name})
        return renamed

    def delete_ou(self, ou_id: str) -> None:
        self._ous.delete(ou_id)
        with self._store.write() as conn:
            self._guardrails.detach_all(conn, ou_id)
            self._record(conn, "ous:Delete", None, details={"ou_id": ou_id})
        self._facts.invalidate()

    # --- keys -----------------------------------------------------------------------------------
    def create_management_key(self, name: str) -> IssuedKey:
        with self._store.write() as conn:
            issued = self._keys.issue(
                self.principal.account_id,
                KeyKind.MANAGEMENT,
                name,
                created_by=self.principal.key_id,
                conn=conn,
            )
            self._record(conn, "keys:CreateManagementKey", None, details={"key_id": issued.key.key_id})
        return issued

    def list_management_keys(
        self, *, include_revoked: bool = False, limit: int | None = None, next_token: str | None = None
    ) -> Page[AccessKey]:
        return self._keys.list(
            self.principal.account_id,
            KeyKind.MANAGEMENT,
            include_revoked=include_revoked,
            limit=limit,
            next_token=next_token,
        )

    def rotate_management_key(self, key_id: str, *, grace_seconds: int = 0) -> IssuedKey:
        issued = self._keys.rotate(
            self.principal.account_id, key_id, kind=KeyKind.MANAGEMENT, grace_seconds=grace_seconds
        )
        self._audit_now("keys:RotateManagementKey", None, {"key_id": key_id, "new_key_id": issued.key.key_id})
        return issued

    def revoke_management_key(self, key_id: str) -> AccessKey:
        live = self._keys.list(self.principal.account_id, KeyKind.MANAGEMENT, limit=1000).items
        if all(k.key_id == key_id for k in live):
            raise Conflict(
                "refusing to revoke the last active management key: the fleet would have no manager"
            )
        revoked = self._keys.revoke(self.principal.account_id, key_id, kind=KeyKind.MANAGEMENT)
        self._audit_now("keys:RevokeManagementKey", None, {"key_id": key_id})
        return revoked

    def issue_account_key(self, account: str, name: str) -> IssuedKey:
        target = self._active(account)
        with self._store.write() as conn:
            issued = self._keys.issue(
                target.account_id, KeyKind.ACCOUNT, name, created_by=self.principal.key_id, conn=conn
            )
            self._record(
                conn, "keys:IssueAccountKey", target.account_id, details={"key_id": issued.key.key_id}
            )
        return issued

    def list_account_keys(
        self,
        account: str,
        *,
        include_revoked: bool = False,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> Page[AccessKey]:
        target = self._registry.get(account_id(account))
        return self._keys.list(
            target.account_id,
            KeyKind.ACCOUNT,
            include_revoked=include_revoked,
            limit=limit,
            next_token=next_token,
        )

    def revoke_account_key(self, account: str, key_id: str) -> AccessKey:
        target = self._registry.get(account_id(account))
        revoked = self._keys.revoke(target.account_id, key_id, kind=KeyKind.ACCOUNT)
        self._audit_now("keys:RevokeAccountKey", target.account_id, {"key_id": key_id})
        return revoked

    # --- guardrails -----------------------------------------------------------------------------
    def create_guardrail(self, name: str, document: object, description: str = "") -> Guardrail:
        made = self._guardrails.create(name, document, description)
        self._audit_now("guardrails:Create", None, {"policy_id": made.policy_id, "name": name})
        return made

    def describe_guardrail(self, policy_id: str) -> Guardrail:
        return self._guardrails.get(policy_id)

    def list_guardrails(self) -> list[Guardrail]:
        return self._guardrails.all()

    def update_guardrail(
        self, policy_id: str, *, document: object = None, description: str | None = None
    ) -> Guardrail:
        updated = self._guardrails.update(policy_id, document=document, description=description)
        self._facts.invalidate()
        self._audit_now("guardrails:Update", None, {"policy_id": policy_id})
        return updated

    def delete_guardrail(self, policy_id: str) -> None:
        self._guardrails.delete(policy_id)
        self._audit_now("guardrails:Delete", None, {"policy_id": policy_id})

    def attach_guardrail(self, policy_id: str, target_id: str) -> Guardrail:
        self._check_target(target_id)
        attached = self._guardrails.attach(policy_id, target_id)
        self._facts.invalidate()
        with self._store.write() as conn:
            self._record(
                conn,
                "guardrails:Attach",
                _account_or_none(target_id),
                details={"policy_id": policy_id, "target": target_id},
            )
        return attached

    def detach_guardrail(self, policy_id: str, target_id: str) -> Guardrail:
        detached = self._guardrails.detach(policy_id, target_id)
        self._facts.invalidate()
        with self._store.write() as conn:
            self._record(
                conn,
                "guardrails:Detach",
                _account_or_none(target_id),
                details={"policy_id": policy_id, "target": target_id},
            )
        return detached

    def effective_guardrails(self, account: str) -> list[AttachedPolicy]:
        found, path = self._registry.ou_path(account_id(account))
        return self._guardrails.effective([*path, found.account_id])

    # --- central dead-letter queue --------------------------------------------------------------
    def dead_letters(
        self,
        filters: DeadLetterFilter | None = None,
        *,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> Page[DeadLetter]:
        return self._dlq.list_fleet(filters or DeadLetterFilter(), limit=limit, next_token=next_token)

    def dead_letter(self, account: str, entry_id: str) -> DeadLetter:
        return self._dlq.get_fleet(account_id(account), entry_id)

    def purge_dead_letters(self, filters: DeadLetterFilter) -> int:
        account = _account_or_none(filters.account_id or "")
        return self._dlq.purge(
            filters,
            record=lambda conn, count: self._record(conn, "dlq:Purge", account, details={"count": count}),
        )

    def expire_dead_letters(self, now: datetime | None = None) -> int:
        """Delete entries older than the retention period (the housekeeper calls this when one is due)."""

        def record(conn: sa.Connection, count: int) -> None:
            if count:
                days = self._dlq.retention.days
                self._record(conn, "dlq:PurgeExpired", None, details={"count": count, "retention_days": days})

        return self._dlq.expire(now, record=record)

    def redrive_dead_letter(self, account: str, entry_id: str, *, force: bool = False) -> Redriven:
        """Send one entry's payload back to its original target, inside the entry's own account.

        The account is the stored entry's (``account`` only finds the entry); an entry already
        redriven is refused with ``Conflict`` unless ``force``. Audited in the redrive's transaction.
        """
        return self._dlq.redrive(account_id(account), entry_id, force=force, record=self._record_redrive)

    def redrive_dead_letters(self, filters: DeadLetterFilter, *, limit: int | None = None) -> RedriveBatch:
        """Redrive up to ``limit`` matching entries that were not redriven yet, oldest first."""
        if filters.account_id is not None:
            filters = replace(filters, account_id=account_id(filters.account_id))
        return self._dlq.redrive_many(filters, limit=limit, record=self._record_redrive)

    def _record_redrive(self, conn: sa.Connection, redriven: Redriven) -> None:
        entry = redriven.entry
        details = {"entry_id": entry.entry_id, "target": entry.target, **redriven.detail}
        if redriven.forced:
            details["force"] = True
        self._record(conn, "dlq:Redrive", AccountId(entry.account_id), details=details)

    # --- audit and assume -------------------------------------------------------------------------
    def audit_log(
        self,
        *,
        account: str | None = None,
        action: str | None = None,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> Page[AuditEntry]:
        return self._audit.list(
            account=account_id(account) if account else None,
            action=action,
            limit=limit,
            next_token=next_token,
        )

    def assume(
        self, account: str, reason: str, *, duration: timedelta = timedelta(hours=1)
    ) -> AssumedSession:
        """Act inside one account, like assuming a cross-account role: audited, time-limited.

        Suspended and closed accounts may be assumed to read their data (retention); writes stay
        refused by the account handle.
        """
        if not isinstance(reason, str) or not 3 <= len(reason.strip()) <= 512:
            raise ValidationError(
                "reason: say why (3-512 characters); it goes into the audit log", field="reason"
            )
        if not timedelta(minutes=1) <= duration <= MAX_SESSION:
            raise ValidationError("duration_seconds: from 60 to 43200", field="duration_seconds")
        target = self._registry.get(account_id(account))
        with self._store.write() as conn:
            issued = self._keys.issue(
                target.account_id,
                KeyKind.SESSION,
                "assumed-session",
                created_by=self.principal.key_id,
                expires_at=utcnow() + duration,
                conn=conn,
            )
            self._record(
                conn,
                "accounts:Assume",
                target.account_id,
                reason=reason.strip(),
                details={
                    "session_key_id": issued.key.key_id,
                    "duration_seconds": int(duration.total_seconds()),
                },
            )
        session = Principal(
            issued.key.key_id, target.account_id, KeyKind.SESSION, assumed_by=self.principal.key_id
        )
        handle = AccountHandle(mint_context(target.account_id, session), self._services)
        return AssumedSession(handle, issued)

    # --- helpers ----------------------------------------------------------------------------------
    def _change_status(
        self, account: str, status: AccountStatus, allowed_from: list[AccountStatus], reason: str
    ) -> Account:
        if not isinstance(reason, str) or len(reason) > 512:
            raise ValidationError("reason: at most 512 characters", field="reason")
        changed = self._registry.set_status(account_id(account), status, allowed_from=allowed_from)
        self._facts.invalidate(changed.account_id)
        verb = {
            AccountStatus.ACTIVE: "Reactivate",
            AccountStatus.SUSPENDED: "Suspend",
            AccountStatus.CLOSED: "Close",
        }
        with self._store.write() as conn:
            self._record(conn, f"accounts:{verb[status]}", changed.account_id, reason=reason, details={})
            self._services.account_events.changed(conn, verb[status], [changed], reason=reason)
        return changed

    def _active(self, account: str) -> Account:
        found = self._registry.get(account_id(account))
        if found.status is not AccountStatus.ACTIVE:
            raise Conflict(f"account {found.account_id} is {found.status.value}", account_id=found.account_id)
        return found

    def _check_target(self, target_id: str) -> None:
        if isinstance(target_id, str) and target_id.isdigit():
            self._registry.get(account_id(target_id, where="target_id"))
        elif isinstance(target_id, str) and (target_id.startswith("ou-") or target_id.startswith("r-")):
            self._ous.get(target_id)
        else:
            raise ValidationError(
                f"target_id: a root, OU or account id, got {target_id!r}", field="target_id"
            )

    def _audit_now(
        self, action: str, account: AccountId | None, details: dict[str, Any], *, reason: str = ""
    ) -> None:
        with self._store.write() as conn:
            self._record(conn, action, account, reason=reason, details=details)

    def _record(
        self,
        conn: Any,
        action: str,
        account: AccountId | None,
        *,
        reason: str = "",
        details: dict[str, Any] | None = None,
    ) -> None:
        self._audit.record(
            conn,
            principal=self.principal.key_id,
            action=action,
            account=account,
            reason=reason,
            details=details,
        )


def _account_or_none(target_id: str) -> AccountId | None:
    return AccountId(target_id) if target_id.isdigit() else None


__all__ = ["AssumedSession", "ManagementHandle"]
