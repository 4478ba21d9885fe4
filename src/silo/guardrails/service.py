"""Guardrail documents and where they are attached (the root, OUs, accounts)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from silo.errors import Conflict, NotFound, ValidationError
from silo.guardrails.policy import AttachedPolicy, Policy, parse_policy
from silo.store import Store, utcnow
from silo.store.schema import fleet_guardrail_attachments, fleet_guardrails

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_POLICY_ID = re.compile(r"^gr-[a-f0-9]{12}$")


@dataclass(frozen=True, slots=True)
class Guardrail:
    policy_id: str
    name: str
    description: str
    document: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    targets: tuple[str, ...] = ()


def check_policy_id(value: object) -> str:
    if not isinstance(value, str) or not _POLICY_ID.match(value):
        raise ValidationError(f"policy_id: not a guardrail id (gr-<12 hex>): {value!r}", field="policy_id")
    return value


class Guardrails:
    """Guardrail CRUD and attachments. Management plane only; targets are checked by the caller."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._parsed: dict[tuple[str, datetime], Policy] = {}

    def create(self, name: str, document: object, description: str = "") -> Guardrail:
        _check_name(name)
        _check_description(description)
        policy = parse_policy(document)
        now = utcnow()
        policy_id = f"gr-{secrets.token_hex(6)}"
        with self._store.write() as conn:
            if conn.execute(
                sa.select(fleet_guardrails.c.policy_id).where(fleet_guardrails.c.name == name)
            ).first():
                raise Conflict(f"a guardrail named {name!r} already exists", name=name)
            conn.execute(
                fleet_guardrails.insert().values(
                    policy_id=policy_id,
                    name=name,
                    description=description,
                    document=policy.document,
                    created_at=now,
                    updated_at=now,
                )
            )
        return Guardrail(policy_id, name, description, policy.document, now, now)

    def get(self, policy_id: str) -> Guardrail:
        check_policy_id(policy_id)
        with self._store.read() as conn:
            return self._get(conn, policy_id)

    def all(self) -> list[Guardrail]:
        with self._store.read() as conn:
            rows = conn.execute(sa.select(fleet_guardrails).order_by(fleet_guardrails.c.name)).all()
            targets = self._targets(conn, None)
        return [_guardrail(r, targets.get(r._mapping["policy_id"], ())) for r in rows]

    def update(self, policy_id: str, *, document: object = None, description: str | None = None) -> Guardrail:
        check_policy_id(policy_id)
        values: dict[str, object] = {"updated_at": utcnow()}
        if document is not None:
            values["document"] = parse_policy(document).document
        if description is not None:
            _check_description(description)
            values["description"] = description
        with self._store.write() as conn:
            self._get(conn, policy_id)
            conn.execute(
                sa.update(fleet_guardrails).where(fleet_guardrails.c.policy_id == policy_id).values(**values)
            )
            return self._get(conn, policy_id)

    def delete(self, policy_id: str) -> None:
        check_policy_id(policy_id)
        with self._store.write() as conn:
            found = self._get(conn, policy_id)
            if found.targets:
                raise Conflict(
                    f"guardrail {policy_id} is still attached to {', '.join(found.targets)}; detach it first"
                )
            conn.execute(sa.delete(fleet_guardrails).where(fleet_guardrails.c.policy_id == policy_id))

    def attach(self, policy_id: str, target_id: str) -> Guardrail:
        check_policy_id(policy_id)
        with self._store.write() as conn:
            found = self._get(conn, policy_id)
            if target_id in found.targets:
                raise Conflict(f"guardrail {policy_id} is already attached to {target_id}")
            conn.execute(
                fleet_guardrail_attachments.insert().values(
                    policy_id=policy_id, target_id=target_id, attached_at=utcnow()
                )
            )
            return self._get(conn, policy_id)

    def detach(self, policy_id: str, target_id: str) -> Guardrail:
        check_policy_id(policy_id)
        with self._store.write() as conn:
            found = self._get(conn, policy_id)
            if target_id not in found.targets:
                raise NotFound(f"guardrail {policy_id} is not attached to {target_id}")
            conn.execute(
                sa.delete(fleet_guardrail_attachments).where(
                    fleet_guardrail_attachments.c.policy_id == policy_id,
                    fleet_guardrail_attachments.c.target_id == target_id,
                )
            )
            return self._get(conn, policy_id)

    def detach_all(self, conn: sa.Connection, target_id: str) -> None:
        conn.execute(
            sa.delete(fleet_guardrail_attachments).where(fleet_guardrail_attachments.c.target_id == target_id)
        )

    def effective(self, targets: Sequence[str]) -> list[AttachedPolicy]:
        """Policies attached to ``targets``, in their order (root, OUs down the path, the account)."""
        if not targets:
            return []
        with self._store.read() as conn:
            rows = conn.execute(
                sa.select(
                    fleet_guardrail_attachments.c.target_id,
                    fleet_guardrail_attachments.c.attached_at,
                    fleet_guardrails.c.policy_id,
                    fleet_guardrails.c.name,
                    fleet_guardrails.c.document,
                    fleet_guardrails.c.updated_at,
                )
                .join(
                    fleet_guardrails, fleet_guardrails.c.policy_id == fleet_guardrail_attachments.c.policy_id
                )
                .where(fleet_guardrail_attachments.c.target_id.in_(list(targets)))
            ).all()
        order = {t: i for i, t in enumerate(targets)}
        rows = sorted(rows, key=lambda r: (order[r.target_id], r.attached_at, r.policy_id))
        return [
            AttachedPolicy(
                r.policy_id, r.name, r.target_id, self._policy(r.policy_id, r.updated_at, r.document)
            )
            for r in rows
        ]

    def effective_many(self, targets: Mapping[str, Sequence[str]]) -> dict[str, list[AttachedPolicy]]:
        """``effective`` for many accounts at once (key -> its target path), in one query."""
        union = sorted({t for path in targets.values() for t in path})
        if not union:
            return {key: [] for key in targets}
        with self._store.read() as conn:
            rows = conn.execute(
                sa.select(
                    fleet_guardrail_attachments.c.target_id,
                    fleet_guardrail_attachments.c.attached_at,
                    fleet_guardrails.c.policy_id,
                    fleet_guardrails.c.name,
                    fleet_guardrails.c.document,
                    fleet_guardrails.c.updated_at,
                )
                .join(
                    fleet_guardrails, fleet_guardrails.c.policy_id == fleet_guardrail_attachments.c.policy_id
                )
                .where(fleet_guardrail_attachments.c.target_id.in_(union))
            ).all()
        by_target: dict[str, list[Any]] = {}
        for r in rows:
            by_target.setdefault(r.target_id, []).append(r)
        found: dict[str, list[AttachedPolicy]] = {}
        for key, path in targets.items():
            mine = [
                r
                for target in path
                for r in sorted(by_target.get(target, []), key=lambda r: (r.attached_at, r.policy_id))
            ]
            found[key] = [
                AttachedPolicy(
                    r.policy_id, r.name, r.target_id, self._policy(r.policy_id, r.updated_at, r.document)
                )
                for r in mine
            ]
        return found

    def _policy(self, policy_id: str, version: datetime, document: object) -> Policy:
        # Parsed documents are cached per (id, updated_at): compiling on every request would cost more
        # than the lookup, and a changed document has a new updated_at.
        key = (policy_id, version)
        policy = self._parsed.get(key)
        if policy is None:
            if len(self._parsed) > 10_000:
                self._parsed.clear()
            policy = self._parsed[key] = parse_policy(document)
        return policy

    def _get(self, conn: sa.Connection, policy_id: str) -> Guardrail:
        row = conn.execute(
            sa.select(fleet_guardrails).where(fleet_guardrails.c.policy_id == policy_id)
        ).first()
        if row is None:
            raise NotFound(f"no guardrail {policy_id}", policy_id=policy_id)
        return _guardrail(row, self._targets(conn, policy_id).get(policy_id, ()))

    def _targets(self, conn: sa.Connection, policy_id: str | None) -> dict[str, tuple[str, ...]]:
        query = sa.select(fleet_guardrail_attachments).order_by(fleet_guardrail_attachments.c.attached_at)
        if policy_id is not None:
            query = query.where(fleet_guardrail_attachments.c.policy_id == policy_id)
        out: dict[str, list[str]] = {}
        for row in conn.execute(query):
            out.setdefault(row.policy_id, []).append(row.target_id)
        return {k: tuple(v) for k, v in out.items()}


def _check_name(name: object) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValidationError(f"name: 1-128 letters, digits, '.', '_' or '-'; got {name!r}", field="name")


def _check_description(description: object) -> None:
    if (
        not isinstance(description, str)
        or len(description) > 512
        or any(ord(c) < 32 and c not in "\t\n" for c in description)
    ):
        raise ValidationError(
            "description: a string of at most 512 characters without control characters", field="description"
        )


def _guardrail(row: sa.Row[tuple[object, ...]], targets: tuple[str, ...]) -> Guardrail:
    m = row._mapping
    return Guardrail(
        m["policy_id"], m["name"], m["description"], m["document"], m["created_at"], m["updated_at"], targets
    )
