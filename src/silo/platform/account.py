"""``AccountHandle``: everything an account may do, bound to one account by its context."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from silo.accounts import Account, AccountContext, AccountRegistry, AccountStatus, KeyKind
from silo.credentials import AccessKey, AccessKeys, IssuedKey
from silo.errors import AccessDenied, AccountNotActive
from silo.guardrails import AttachedPolicy, Guardrails, check
from silo.store.pages import Page


class AccountHandle:
    """An account's view of the platform. No method takes an account id: the context fixes it.

    Every action passes ``authorize``: the account must be active (an assumed management session
    may still read a suspended or closed account), and no guardrail on the root, the OUs above
    the account or the account itself may deny it.
    """

    def __init__(
        self, context: AccountContext, registry: AccountRegistry, keys: AccessKeys, guardrails: Guardrails
    ) -> None:
        self.context = context
        self._registry = registry
        self._guardrails = guardrails
        self.keys = AccountKeys(self, keys)

    @property
    def account_id(self) -> str:
        return self.context.account_id

    def authorize(
        self, action: str, facts: Mapping[str, object] | None = None, *, write: bool = True
    ) -> Account:
        """Refuse ``action`` unless this context may take it now; returns the account."""
        account, path = self._registry.ou_path(self.context.account_id)
        assumed = self.context.principal.kind is KeyKind.SESSION
        if account.status is not AccountStatus.ACTIVE and (write or not assumed):
            raise AccountNotActive(
                f"account {account.account_id} is {account.status.value}: {action} is not allowed",
                account_id=account.account_id,
                status=account.status.value,
            )
        if write and self.context.read_only:
            raise AccessDenied(f"{action}: this session is read-only")
        check(self._guardrails.effective([*path, account.account_id]), action, dict(facts or {}))
        return account

    def describe(self) -> Account:
        self.authorize("accounts:Describe", write=False)
        return self._registry.get(self.context.account_id)

    def effective_guardrails(self) -> list[AttachedPolicy]:
        _, path = self._registry.ou_path(self.context.account_id)
        self.authorize("guardrails:ListEffective", write=False)
        return self._guardrails.effective([*path, self.context.account_id])


class AccountKeys:
    """The account's own long-lived keys."""

    def __init__(self, handle: AccountHandle, keys: AccessKeys) -> None:
        self._handle = handle
        self._keys = keys

    @property
    def _account(self) -> AccountContext:
        return self._handle.context

    def create(self, name: str) -> IssuedKey:
        self._handle.authorize("keys:Create", {"KeyName": name})
        ctx = self._account
        return self._keys.issue(ctx.account_id, KeyKind.ACCOUNT, name, created_by=ctx.principal.key_id)

    def list(
        self, *, include_revoked: bool = False, limit: int | None = None, next_token: str | None = None
    ) -> Page[AccessKey]:
        self._handle.authorize("keys:List", write=False)
        return self._keys.list(
            self._account.account_id, include_revoked=include_revoked, limit=limit, next_token=next_token
        )

    def get(self, key_id: str) -> AccessKey:
        self._handle.authorize("keys:Get", write=False)
        return self._keys.get(self._account.account_id, key_id)

    def rotate(self, key_id: str, *, grace_seconds: int = 0) -> IssuedKey:
        self._handle.authorize("keys:Rotate", {"KeyId": key_id})
        return self._keys.rotate(self._account.account_id, key_id, grace=timedelta(seconds=grace_seconds))

    def revoke(self, key_id: str) -> AccessKey:
        self._handle.authorize("keys:Revoke", {"KeyId": key_id})
        return self._keys.revoke(self._account.account_id, key_id)
