"""``Platform``: the composition root. Built from ``Settings``; hands out account-bound handles."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from silo.accounts import (
    AccountId,
    AccountRegistry,
    AccountStatus,
    KeyKind,
    OrganizationalUnits,
    Principal,
    mint_context,
)
from silo.accounts.service import DEFAULT_CONCURRENCY_LIMIT
from silo.audit import AuditLog
from silo.credentials import AccessKeys, IssuedKey
from silo.errors import AccessDenied, AccountNotActive
from silo.guardrails import Guardrails
from silo.platform.account import AccountHandle
from silo.platform.management import ManagementHandle
from silo.settings import Settings
from silo.store import Store, utcnow
from silo.store.schema import accounts, fleet_meta

MANAGEMENT_ACCOUNT_NAME = "management"


@dataclass(frozen=True, slots=True)
class Initialised:
    """What the very first start made: the management account and its root key (shown once)."""

    management_account_id: AccountId
    root_key: IssuedKey
    root_key_path: Path


class Platform:
    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.ous = OrganizationalUnits(store)
        self.registry = AccountRegistry(
            store, self.ous, retention=timedelta(days=settings.closed_account_retention_days)
        )
        self.keys = AccessKeys(store)
        self.guardrails = Guardrails(store)
        self.audit = AuditLog(store)

    @classmethod
    def open(cls, settings: Settings | None = None) -> Platform:
        """Connect to the store and bring its schema up to date."""
        settings = settings or Settings.from_env()
        store = Store(
            settings.resolved_database_url,
            schema=settings.database_schema,
            strict_scoping=settings.strict_scoping,
        )
        store.migrate()
        return cls(settings, store)

    def close(self) -> None:
        self.store.dispose()

    def initialise(self) -> Initialised | None:
        """On first start: root OU, management account and a root management key; else ``None``.

        The root key's token is written to ``$SILO_HOME/root-key`` (mode 0600).
        """
        with self.store.write() as conn:
            if self._management_account_id(conn) is not None:
                return None
            root = self.ous.ensure_root(conn)
            now = utcnow()
            management = AccountId(f"{int.from_bytes(os.urandom(5), 'big') % 10**12:012d}")
            conn.execute(
                accounts.insert().values(
                    account_id=management,
                    name=MANAGEMENT_ACCOUNT_NAME,
                    owner_email="admin@silo.invalid",
                    status=AccountStatus.ACTIVE.value,
                    ou_id=root.ou_id,
                    ou_path=root.path,
                    concurrency_limit=DEFAULT_CONCURRENCY_LIMIT,
                    created_at=now,
                    updated_at=now,
                )
            )
            conn.execute(fleet_meta.insert().values(key="management_account_id", value=management))
            issued = self.keys.issue(management, KeyKind.MANAGEMENT, "root", created_by=None, conn=conn)
            self.audit.record(conn, principal="silo", action="platform:Initialise", account=management)
        path = self.settings.root_key_path
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(issued.token + "\n")
        os.chmod(path, 0o600)
        return Initialised(management, issued, path)

    @property
    def management_account_id(self) -> AccountId:
        with self.store.read() as conn:
            found = self._management_account_id(conn)
        if found is None:
            raise AccessDenied("the platform is not initialised yet")
        return found

    def authenticate(self, token: str) -> Principal:
        """Check a ``KEYID.SECRET`` token; refuses revoked, expired and suspended-account keys."""
        principal = self.keys.authenticate(token)
        if principal.kind is KeyKind.ACCOUNT:
            account, _ = self.registry.ou_path(principal.account_id)
            if account.status is not AccountStatus.ACTIVE:
                raise AccountNotActive(
                    f"account {account.account_id} is {account.status.value}; its keys are not accepted",
                    account_id=account.account_id,
                )
        return principal

    def account(self, principal: Principal) -> AccountHandle:
        """The handle for the principal's own account (a management key acts in the management account)."""
        context = mint_context(principal.account_id, principal)
        return AccountHandle(context, self.registry, self.keys, self.guardrails)

    def management(self, principal: Principal) -> ManagementHandle:
        if principal.kind is not KeyKind.MANAGEMENT:
            raise AccessDenied("this needs a management key; account keys act only inside their own account")
        return ManagementHandle(
            principal, self.store, self.registry, self.ous, self.keys, self.guardrails, self.audit
        )

    @staticmethod
    def _management_account_id(conn: sa.Connection) -> AccountId | None:
        value = conn.execute(
            sa.select(fleet_meta.c.value).where(fleet_meta.c.key == "management_account_id")
        ).scalar()
        return AccountId(value) if value else None
