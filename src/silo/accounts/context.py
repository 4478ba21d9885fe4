"""Who is calling, and the proof that a call may act inside one account.

An ``AccountContext`` is made only by the platform: when an account (or session) key
authenticates, or when the management plane assumes into an account (audited). Services take the
context, never a bare account id, so an operation cannot name another account.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from silo.accounts.models import AccountId

if TYPE_CHECKING:
    from silo.accounts.models import Account

_MINT = object()


class KeyKind(enum.StrEnum):
    MANAGEMENT = "management"
    ACCOUNT = "account"
    SESSION = "session"
    DELIVERY = "delivery"  # the platform acting inside an account for work it accepted there


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller: a key, the account it belongs to, and what kind it is."""

    key_id: str
    account_id: AccountId
    kind: KeyKind
    assumed_by: str | None = None

    @property
    def is_management(self) -> bool:
        return self.kind is KeyKind.MANAGEMENT


class AccountContext:
    """An account-bound scope. Construct only through the platform (``mint_context``)."""

    __slots__ = ("account_id", "principal", "read_only")

    def __init__(
        self, account_id: AccountId, principal: Principal, *, read_only: bool, _mint: object = None
    ) -> None:
        if _mint is not _MINT:
            raise TypeError("AccountContext is issued by the platform, not constructed directly")
        self.account_id = account_id
        self.principal = principal
        self.read_only = read_only

    def __repr__(self) -> str:
        return f"AccountContext(account_id={self.account_id!r}, principal={self.principal.key_id!r})"


def mint_context(account: AccountId, principal: Principal, *, read_only: bool = False) -> AccountContext:
    """Issue a context; callers are the platform's authentication and assume steps only."""
    return AccountContext(account, principal, read_only=read_only, _mint=_MINT)


class AccountGuard(Protocol):
    """What an account's service scope needs from its handle: the context, and the check that
    refuses an action the account may not take now (inactive account, guardrail, read-only)."""

    @property
    def context(self) -> AccountContext: ...

    def authorize(
        self, action: str, facts: Mapping[str, object] | None = None, *, write: bool = True
    ) -> Account: ...
