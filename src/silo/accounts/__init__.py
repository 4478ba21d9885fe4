"""Accounts: the tenant boundary, organised in a tree of OUs."""

from silo.accounts.context import AccountContext, AccountGuard, KeyKind, Principal, mint_context
from silo.accounts.models import Account, AccountId, AccountStatus, OrganizationalUnit, account_id
from silo.accounts.ous import OrganizationalUnits, check_ou_id
from silo.accounts.service import DEFAULT_CONCURRENCY_LIMIT, AccountRegistry, AccountSpec

__all__ = [
    "DEFAULT_CONCURRENCY_LIMIT",
    "Account",
    "AccountContext",
    "AccountGuard",
    "AccountId",
    "AccountRegistry",
    "AccountSpec",
    "AccountStatus",
    "KeyKind",
    "OrganizationalUnit",
    "OrganizationalUnits",
    "Principal",
    "account_id",
    "check_ou_id",
    "mint_context",
]
