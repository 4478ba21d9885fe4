"""A short-lived cache of what authorisation needs per account: status, OU path, guardrails.

Every action is still evaluated against the guardrails; only the reads behind them are cached, for
``ttl`` seconds, and the management handle invalidates at once whatever it changes on this node.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from silo.accounts import Account, AccountId, AccountRegistry
from silo.guardrails import AttachedPolicy, Guardrails

MAX_ENTRIES = 10_000


class AuthorizationFacts:
    def __init__(self, registry: AccountRegistry, guardrails: Guardrails, *, ttl: float = 1.0) -> None:
        self._registry = registry
        self._guardrails = guardrails
        self._ttl = ttl
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, Account, list[AttachedPolicy]]] = {}

    def get(self, account: AccountId) -> tuple[Account, list[AttachedPolicy]]:
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(account)
        if hit is not None and hit[0] > now:
            return hit[1], hit[2]
        found, path = self._registry.ou_path(account)
        policies = self._guardrails.effective([*path, found.account_id])
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[account] = (now + self._ttl, found, policies)
        return found, policies

    def get_many(self, accounts: Sequence[str]) -> dict[str, tuple[Account, list[AttachedPolicy]]]:
        """Facts of many accounts (a fleet batch) with two queries; unknown accounts are left out."""
        found = self._registry.ou_paths(accounts)
        policies = self._guardrails.effective_many({a: [*path, a] for a, (_, path) in found.items()})
        return {account: (row, policies[account]) for account, (row, _) in found.items()}

    def invalidate(self, account: str | None = None) -> None:
        with self._lock:
            if account is None:
                self._entries.clear()
            else:
                self._entries.pop(account, None)
