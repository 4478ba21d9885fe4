"""``AccountHandle``: everything an account may do, bound to one account by its context."""

from __future__ import annotations

from collections.abc import Mapping

from silo.accounts import Account, AccountContext, AccountStatus, KeyKind
from silo.credentials import AccessKey, AccessKeys, IssuedKey
from silo.dlq import DeadLetter, DeadLetterFilter
from silo.errors import AccessDenied, AccountNotActive
from silo.events.scheduler import Schedules
from silo.events.service import Events
from silo.functions import Functions
from silo.guardrails import AttachedPolicy, check
from silo.platform.services import Services
from silo.stacks import Stacks
from silo.store.pages import Page
from silo.tables.service import Tables
from silo.workflows.service import Workflows


class AccountHandle:
    """An account's view of the platform. No method takes an account id: the context fixes it.

    Every action passes ``authorize``: the account must be active (an assumed management session
    may still read a suspended or closed account), and no guardrail on the root, the OUs above
    the account or the account itself may deny it.
    """

    def __init__(self, context: AccountContext, services: Services) -> None:
        self.context = context
        self._registry = services.registry
        self._facts = services.facts
        self._dlq = services.dlq
        self.keys = AccountKeys(self, services.keys)
        self.functions = Functions(self, services.functions)
        self.stacks = Stacks(self, services.stacks)
        self.events = Events(self, services.events)
        self.schedules = Schedules(self, services.events)
        self.workflows = Workflows(self, services.workflows)
        self.tables = Tables(self, services.tables)

    @property
    def account_id(self) -> str:
        return self.context.account_id

    def authorize(
        self, action: str, facts: Mapping[str, object] | None = None, *, write: bool = True
    ) -> Account:
        """Refuse ``action`` unless this context may take it now; returns the account."""
        account, policies = self._facts.get(self.context.account_id)
        assumed = self.context.principal.kind is KeyKind.SESSION
        if account.status is not AccountStatus.ACTIVE and (write or not assumed):
            raise AccountNotActive(
                f"account {account.account_id} is {account.status.value}: {action} is not allowed",
                account_id=account.account_id,
                status=account.status.value,
            )
        if write and self.context.read_only:
            raise AccessDenied(f"{action}: this session is read-only")
        if policies:  # most accounts have none: skip building and normalising the facts
            check(policies, action, dict(facts or {}))
        return account

    def describe(self) -> Account:
        self.authorize("accounts:Describe", write=False)
        return self._registry.get(self.context.account_id)

    def effective_guardrails(self) -> list[AttachedPolicy]:
        self.authorize("guardrails:ListEffective", write=False)
        return self._facts.get(self.context.account_id)[1]

    def dead_letters(
        self,
        filters: DeadLetterFilter | None = None,
        *,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> Page[DeadLetter]:
        """This account's entries in the central DLQ (never another account's, whatever the filter)."""
        self.authorize("dlq:List", write=False)
        return self._dlq.list_own(
            self.context, filters or DeadLetterFilter(), limit=limit, next_token=next_token
        )

    def dead_letter(self, entry_id: str) -> DeadLetter:
        self.authorize("dlq:Get", write=False)
        return self._dlq.get_own(self.context, entry_id)


class AccountKeys:
    """The account's own long-lived keys."""

    def __init__(self, handle: AccountHandle, keys: AccessKeys) -> None:
        self._handle = handle
        self._keys = keys

    @property
    def _account(self) -> AccountContext:
        return self._handle.context

    # Only account-kind keys: the management account's management keys are managed on the
    # management plane (which refuses to revoke the last one), never through this handle.

    def create(self, name: str) -> IssuedKey:
        self._handle.authorize("keys:Create", {"KeyName": name})
        ctx = self._account
        return self._keys.issue(ctx.account_id, KeyKind.ACCOUNT, name, created_by=ctx.principal.key_id)

    def list(
        self, *, include_revoked: bool = False, limit: int | None = None, next_token: str | None = None
    ) -> Page[AccessKey]:
        self._handle.authorize("keys:List", write=False)
        return self._keys.list(
            self._account.account_id,
            KeyKind.ACCOUNT,
            include_revoked=include_revoked,
            limit=limit,
            next_token=next_token,
        )

    def get(self, key_id: str) -> AccessKey:
        self._handle.authorize("keys:Get", write=False)
        return self._keys.get(self._account.account_id, key_id, kind=KeyKind.ACCOUNT)

    def rotate(self, key_id: str, *, grace_seconds: int = 0) -> IssuedKey:
        self._handle.authorize("keys:Rotate", {"KeyId": key_id})
        return self._keys.rotate(
            self._account.account_id, key_id, kind=KeyKind.ACCOUNT, grace_seconds=grace_seconds
        )

    def revoke(self, key_id: str) -> AccessKey:
        self._handle.authorize("keys:Revoke", {"KeyId": key_id})
        return self._keys.revoke(self._account.account_id, key_id, kind=KeyKind.ACCOUNT)
