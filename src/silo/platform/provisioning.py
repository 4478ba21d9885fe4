"""What the account factory does on the management plane that no operator does by hand: make an
account that is not ready yet, give it a key whose secret the factory never sees, deploy its
baseline, and then mark it ready or discard it. Every step is audited under the acting principal."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from silo.accounts import Account, AccountId, AccountSpec, AccountStatus, KeyKind, Principal
from silo.accounts.models import account_id
from silo.credentials import AccessKey, AccessKeys
from silo.errors import Conflict
from silo.fleet import Operation
from silo.platform.services import Services


class Provisioning:
    def __init__(self, principal: Principal, services: Services) -> None:
        self._principal = principal
        self._services = services

    def check_specs(self, specs: Sequence[AccountSpec]) -> None:
        self._services.registry.check_specs(specs)

    @staticmethod
    def prepare_key() -> tuple[str, str, str]:
        """(key id, token, secret hash) of the new account's first key."""
        return AccessKeys.prepare(KeyKind.ACCOUNT)

    def provision(self, spec: AccountSpec) -> Account:
        [made] = self._services.registry.create_many(
            [spec], status=AccountStatus.PROVISIONING, platform_tags=True
        )
        self._record("accounts:Create", made, {"name": made.name, "status": "PROVISIONING"})
        return made

    def find(self, tag: str, value: str) -> Account | None:
        """The PROVISIONING account carrying ``tag=value`` (a factory step that ran before)."""
        page = self._services.registry.find(tags={tag: value}, status=AccountStatus.PROVISIONING, limit=1)
        return page.items[0] if page.items else None

    def register_key(self, account: str, name: str, key_id: str, secret_hash: str) -> AccessKey:
        target = self._provisioning(account)
        with self._services.store.write() as conn:
            key = self._services.keys.register(
                conn,
                target,
                KeyKind.ACCOUNT,
                name,
                key_id,
                secret_hash,
                created_by=self._principal.key_id,
            )
            self._audit(conn, "keys:Create", target, {"key_id": key_id, "name": name})
        return key

    def deploy_baseline(self, account: str) -> list[Operation]:
        """Queue the stack sets that auto-deploy to the account's OU (one operation per set)."""
        return self._services.fleet.accounts_placed([self._provisioning(account)])

    def baseline_statuses(self, account: str) -> dict[str, tuple[str, str]]:
        """Every deployment to the account so far (a new account has only its baseline's)."""
        return self._services.fleet.account_targets(account)

    def activate(self, account: str, *, drop_tags: Sequence[str] = ()) -> Account:
        """Mark the account ready (ACTIVE), dropping the factory's own bookkeeping tags."""
        target = account_id(account)
        self._services.registry.set_status(
            target, AccountStatus.ACTIVE, allowed_from=[AccountStatus.PROVISIONING, AccountStatus.ACTIVE]
        )
        ready = self._services.registry.tag(target, {}, remove=drop_tags) if drop_tags else None
        ready = ready or self._services.registry.get(target)
        self._services.facts.invalidate(target)
        self._record("accounts:Ready", ready, {})
        return ready

    def discard(self, account: str) -> bool:
        """Delete an account the factory could not finish, with everything written for it."""
        target = account_id(account)
        discarded = self._services.registry.discard_provisioning(target)
        self._services.facts.invalidate(target)
        if discarded:
            self._record("accounts:Discard", target, {})
        return discarded

    def _provisioning(self, account: str) -> AccountId:
        target = self._services.registry.get(account_id(account))
        if target.status is not AccountStatus.PROVISIONING:
            raise Conflict(f"account {target.account_id} is {target.status.value}, not PROVISIONING")
        return target.account_id

    def _record(self, action: str, account: Account | AccountId, details: dict[str, object]) -> None:
        """Audit a change of the account, and put it on the management bus (one transaction)."""
        target = account.account_id if isinstance(account, Account) else account
        with self._services.store.write() as conn:
            self._audit(conn, action, target, details)
            self._services.account_events.changed(conn, action.removeprefix("accounts:"), [account])

    def _audit(
        self, conn: sa.Connection, action: str, account: AccountId, details: dict[str, object]
    ) -> None:
        self._services.audit.record(
            conn,
            principal=self._principal.key_id,
            action=action,
            account=account,
            details=dict(details),
        )
