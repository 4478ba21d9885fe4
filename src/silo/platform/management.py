"""``ManagementHandle``: the management plane. Reaching into an account goes through ``assume``.

The handle reads through the services itself; its changes, each audited, are made by one
collaborator per area: accounts (``management_accounts``), keys and assumed sessions
(``management_keys``), OUs and guardrails (``management_org``), the dead-letter queue
(``management_dlq``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from silo.accounts import (
    Account,
    AccountId,
    AccountSpec,
    AccountStatus,
    KeyKind,
    OrganizationalUnit,
    Principal,
    account_id,
)
from silo.audit import AuditEntry
from silo.credentials import AccessKey, IssuedKey
from silo.dlq import DeadLetter, DeadLetterFilter, RedriveBatch, Redriven
from silo.guardrails import AttachedPolicy, Guardrail
from silo.platform.account_factory import AccountRequest
from silo.platform.fleet_audit import AuditedFleet
from silo.platform.management_accounts import AccountAdmin
from silo.platform.management_audit import AuditTrail
from silo.platform.management_dlq import DeadLetterAdmin
from silo.platform.management_keys import AssumedSession, KeyAdmin
from silo.platform.management_org import OrganizationAdmin
from silo.platform.provisioning import Provisioning
from silo.platform.services import Services
from silo.store.pages import Page
from silo.workflows.models import ExecutionInfo


class ManagementHandle:
    """Everything the management plane may do. Made only for a management principal."""

    def __init__(self, principal: Principal, services: Services) -> None:
        self.principal = principal
        self._registry = services.registry
        self._ous = services.ous
        self._keys = services.keys
        self._guardrails = services.guardrails
        self._audit = services.audit
        self._dlq = services.dlq
        trail = AuditTrail(principal, services.store, services.audit)
        self._account_admin = AccountAdmin(services, trail)
        self._key_admin = KeyAdmin(principal, services, trail)
        self._org_admin = OrganizationAdmin(services, trail)
        self._dlq_admin = DeadLetterAdmin(services, trail)
        self.provisioning = Provisioning(principal, services)
        self.fleet = AuditedFleet(services.fleet, lambda action, details: trail.now(action, None, details))

    # --- accounts -------------------------------------------------------------------------------
    def create_accounts(self, specs: Sequence[AccountSpec]) -> list[Account]:
        return self._account_admin.create(specs)

    def create_account(self, spec: AccountSpec) -> Account:
        """Create an account directly, ACTIVE at once (bulk creation and tests); a tenant's account
        normally comes from :meth:`request_account`, the account factory."""
        return self.create_accounts([spec])[0]

    def request_account(
        self, spec: AccountSpec, *, guardrails: Sequence[str] = (), wait_seconds: float = 60.0
    ) -> tuple[AccountRequest, ExecutionInfo]:
        """Make an account through the account factory workflow; waits up to ``wait_seconds`` for
        it to be ready. The request holds the new account's first key (shown only here)."""
        return self._account_admin.request(spec, guardrails, wait_seconds)

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
        return self._account_admin.suspend(account, reason)

    def reactivate_account(self, account: str, reason: str = "") -> Account:
        return self._account_admin.reactivate(account, reason)

    def close_account(self, account: str, reason: str = "") -> Account:
        """Close: the account's keys stop working; its data stays readable here until purged."""
        return self._account_admin.close(account, reason)

    def move_account(self, account: str, ou_id: str) -> Account:
        return self._account_admin.move(account, ou_id)

    def tag_account(self, account: str, tags: Mapping[str, str], remove: Sequence[str] = ()) -> Account:
        return self._account_admin.tag(account, tags, remove)

    def set_concurrency_limit(self, account: str, limit: int) -> Account:
        return self._account_admin.set_concurrency_limit(account, limit)

    def purge_expired_accounts(self, now: datetime | None = None) -> list[AccountId]:
        """Purge closed accounts past their retention; detached and audited in the purge's transaction."""
        return self._account_admin.purge_expired(now)

    # --- organizational units ----------------------------------------------------------------
    def create_ou(self, name: str, parent_id: str | None = None) -> OrganizationalUnit:
        return self._org_admin.create_ou(name, parent_id)

    def describe_ou(self, ou_id: str) -> OrganizationalUnit:
        return self._ous.get(ou_id)

    def list_ous(self, parent_id: str | None = None) -> list[OrganizationalUnit]:
        return self._ous.children(parent_id)

    def ou_tree(self) -> list[OrganizationalUnit]:
        return self._ous.tree()

    def root_ou(self) -> OrganizationalUnit:
        return self._ous.root()

    def rename_ou(self, ou_id: str, name: str) -> OrganizationalUnit:
        return self._org_admin.rename_ou(ou_id, name)

    def delete_ou(self, ou_id: str) -> None:
        self._org_admin.delete_ou(ou_id)

    # --- keys -----------------------------------------------------------------------------------
    def create_management_key(self, name: str) -> IssuedKey:
        return self._key_admin.create_management_key(name)

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
        return self._key_admin.rotate_management_key(key_id, grace_seconds)

    def revoke_management_key(self, key_id: str) -> AccessKey:
        return self._key_admin.revoke_management_key(key_id)

    def issue_account_key(self, account: str, name: str) -> IssuedKey:
        return self._key_admin.issue_account_key(account, name)

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
        return self._key_admin.revoke_account_key(account, key_id)

    # --- guardrails -----------------------------------------------------------------------------
    def create_guardrail(self, name: str, document: object, description: str = "") -> Guardrail:
        return self._org_admin.create_guardrail(name, document, description)

    def describe_guardrail(self, policy_id: str) -> Guardrail:
        return self._guardrails.get(policy_id)

    def list_guardrails(self) -> list[Guardrail]:
        return self._guardrails.all()

    def update_guardrail(
        self, policy_id: str, *, document: object = None, description: str | None = None
    ) -> Guardrail:
        return self._org_admin.update_guardrail(policy_id, document, description)

    def delete_guardrail(self, policy_id: str) -> None:
        self._org_admin.delete_guardrail(policy_id)

    def attach_guardrail(self, policy_id: str, target_id: str) -> Guardrail:
        return self._org_admin.attach_guardrail(policy_id, target_id)

    def detach_guardrail(self, policy_id: str, target_id: str) -> Guardrail:
        return self._org_admin.detach_guardrail(policy_id, target_id)

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
        return self._dlq_admin.purge(filters)

    def expire_dead_letters(self, now: datetime | None = None) -> int:
        """Delete entries older than the retention period (the housekeeper calls this when one is due)."""
        return self._dlq_admin.expire(now)

    def redrive_dead_letter(self, account: str, entry_id: str, *, force: bool = False) -> Redriven:
        """Send one entry's payload back to its original target, inside the entry's own account.

        The account is the stored entry's (``account`` only finds the entry); an entry already
        redriven is refused with ``Conflict`` unless ``force``. Audited in the redrive's transaction.
        """
        return self._dlq_admin.redrive(account, entry_id, force)

    def redrive_dead_letters(self, filters: DeadLetterFilter, *, limit: int | None = None) -> RedriveBatch:
        """Redrive up to ``limit`` matching entries that were not redriven yet, oldest first."""
        return self._dlq_admin.redrive_many(filters, limit)

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
        return self._key_admin.assume(account, reason, duration)


__all__ = ["AssumedSession", "ManagementHandle"]
