"""``KeyAdmin``: the keys the management plane issues, rotates and revokes (its own, the accounts',
and the session key of an ``assume``), each change audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from silo.accounts import Account, AccountStatus, KeyKind, Principal, account_id, mint_context
from silo.credentials import AccessKey, IssuedKey
from silo.errors import Conflict, ValidationError
from silo.platform.account import AccountHandle
from silo.platform.management_audit import AuditTrail
from silo.platform.services import Services
from silo.store import utcnow

MAX_SESSION = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class AssumedSession:
    """The result of ``assume``: a handle bound to the account, and a session key for the API."""

    handle: AccountHandle
    key: IssuedKey


class KeyAdmin:
    def __init__(self, principal: Principal, services: Services, trail: AuditTrail) -> None:
        self._principal = principal
        self._services = services
        self._store = services.store
        self._registry = services.registry
        self._keys = services.keys
        self._trail = trail

    # --- the management plane's own keys --------------------------------------------------------
    def create_management_key(self, name: str) -> IssuedKey:
        with self._store.write() as conn:
            issued = self._keys.issue(
                self._principal.account_id,
                KeyKind.MANAGEMENT,
                name,
                created_by=self._principal.key_id,
                conn=conn,
            )
            self._trail.record(conn, "keys:CreateManagementKey", None, details={"key_id": issued.key.key_id})
        return issued

    def rotate_management_key(self, key_id: str, grace_seconds: int) -> IssuedKey:
        issued = self._keys.rotate(
            self._principal.account_id, key_id, kind=KeyKind.MANAGEMENT, grace_seconds=grace_seconds
        )
        self._trail.now("keys:RotateManagementKey", None, {"key_id": key_id, "new_key_id": issued.key.key_id})
        return issued

    def revoke_management_key(self, key_id: str) -> AccessKey:
        live = self._keys.list(self._principal.account_id, KeyKind.MANAGEMENT, limit=1000).items
        if all(k.key_id == key_id for k in live):
            raise Conflict(
                "refusing to revoke the last active management key: the fleet would have no manager"
            )
        revoked = self._keys.revoke(self._principal.account_id, key_id, kind=KeyKind.MANAGEMENT)
        self._trail.now("keys:RevokeManagementKey", None, {"key_id": key_id})
        return revoked

    # --- accounts' keys -------------------------------------------------------------------------
    def issue_account_key(self, account: str, name: str) -> IssuedKey:
        target = self._active(account)
        with self._store.write() as conn:
            issued = self._keys.issue(
                target.account_id, KeyKind.ACCOUNT, name, created_by=self._principal.key_id, conn=conn
            )
            self._trail.record(
                conn, "keys:IssueAccountKey", target.account_id, details={"key_id": issued.key.key_id}
            )
        return issued

    def revoke_account_key(self, account: str, key_id: str) -> AccessKey:
        target = self._registry.get(account_id(account))
        revoked = self._keys.revoke(target.account_id, key_id, kind=KeyKind.ACCOUNT)
        self._trail.now("keys:RevokeAccountKey", target.account_id, {"key_id": key_id})
        return revoked

    # --- sessions in an account -----------------------------------------------------------------
    def assume(self, account: str, reason: str, duration: timedelta) -> AssumedSession:
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
                created_by=self._principal.key_id,
                expires_at=utcnow() + duration,
                conn=conn,
            )
            self._trail.record(
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
            issued.key.key_id, target.account_id, KeyKind.SESSION, assumed_by=self._principal.key_id
        )
        handle = AccountHandle(mint_context(target.account_id, session), self._services)
        return AssumedSession(handle, issued)

    def _active(self, account: str) -> Account:
        found = self._registry.get(account_id(account))
        if found.status is not AccountStatus.ACTIVE:
            raise Conflict(f"account {found.account_id} is {found.status.value}", account_id=found.account_id)
        return found
