"""How the fleet engine acts inside target accounts: as the platform's fleet principal, under the
account's status and guardrails (as StackSets' execution role is under SCPs)."""

from __future__ import annotations

from collections.abc import Mapping

from silo.accounts import Account, AccountContext, AccountId, AccountStatus, KeyKind, Principal, mint_context
from silo.errors import AccountNotActive
from silo.guardrails import AttachedPolicy, check
from silo.platform.authz import AuthorizationFacts


class FleetGate:
    """Facts are read once per batch (``prefetch``) and used for the whole batch: a batch is one
    decision point, as a guardrail change mid-batch applies from the next batch on."""

    def __init__(self, facts: AuthorizationFacts) -> None:
        self._facts = facts
        self._batch: dict[str, tuple[Account, list[AttachedPolicy]]] = {}

    def _get(self, account: str) -> tuple[Account, list[AttachedPolicy]]:
        hit = self._batch.get(account)
        return hit if hit is not None else self._facts.get(AccountId(account))

    def context(self, account: str) -> AccountContext:
        principal = Principal("silo:fleet", AccountId(account), KeyKind.DELIVERY)
        return mint_context(AccountId(account), principal)

    def authorize(self, context: AccountContext, action: str, facts: Mapping[str, object]) -> None:
        account, policies = self._get(context.account_id)
        # the account factory deploys an account's baseline before the account is ready
        if account.status not in (AccountStatus.ACTIVE, AccountStatus.PROVISIONING):
            raise AccountNotActive(
                f"account {account.account_id} is {account.status.value}: {action} is not allowed",
                account_id=account.account_id,
            )
        if policies:
            check(policies, action, dict(facts))

    def concurrency_limit(self, account: str) -> int:
        return self._get(account)[0].concurrency_limit

    def prefetch(self, accounts: list[str]) -> None:
        self._batch = self._facts.get_many(accounts)
