"""Redrivers: how an entry goes back to its original target, one per ``target["type"]``.

The platform registers each with the way to act inside an account::

    dlq.register_redriver("function", scope_for, Functions.redrive)

A redrive calls ``scope_for`` with the account of the *stored entry* (never one a caller sent) and
hands the redriver that account-bound scope, the entry and the redrive's transaction. The target
only names a resource inside that scope's account, so a redrive cannot deliver into another account.
The redriver writes its delivery in the transaction it is given, in which the entry is also marked
redriven and audited: either all of it happens or none does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa

from silo.dlq.models import DeadLetter, Redelivery
from silo.errors import Conflict

Scope = TypeVar("Scope")
BoundRedriver = Callable[[sa.Connection, DeadLetter], Redelivery]


class Redrivers:
    def __init__(self) -> None:
        self._by_type: dict[str, BoundRedriver] = {}

    def register(
        self,
        target_type: str,
        scope_for: Callable[[str], Scope],
        redrive: Callable[[Scope, sa.Connection, DeadLetter], Redelivery],
    ) -> None:
        """Entries whose ``target["type"]`` is ``target_type`` are redriven by ``redrive``, called
        with ``scope_for(entry.account_id)``."""
        if target_type in self._by_type:
            raise ValueError(f"a redriver for target type {target_type!r} is already registered")

        def bound(conn: sa.Connection, entry: DeadLetter) -> Redelivery:
            return redrive(scope_for(entry.account_id), conn, entry)

        self._by_type[target_type] = bound

    def for_entry(self, entry: DeadLetter) -> BoundRedriver:
        """The redriver of the entry's target type; ``Conflict`` when there is none (yet)."""
        kind = entry.target.get("type") if isinstance(entry.target, dict) else None
        found = self._by_type.get(kind) if isinstance(kind, str) else None
        if found is None:
            raise Conflict(
                f"entries with target type {kind} cannot be redriven yet",
                entry_id=entry.entry_id,
                target_type=kind,
            )
        return found
