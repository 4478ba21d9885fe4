"""Organizational units: a tree under one root; accounts sit in exactly one OU."""

from __future__ import annotations

import re
import secrets
import string

import sqlalchemy as sa

from silo.accounts.models import OrganizationalUnit
from silo.errors import Conflict, NotFound, ValidationError
from silo.store import Store, utcnow
from silo.store.schema import accounts, fleet_meta, fleet_ous

_OU_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,127}$")
_OU_ID = re.compile(r"^(r-[a-z0-9]{4}|ou-[a-z0-9]{4}-[a-z0-9]{8})$")
_ALPHABET = string.ascii_lowercase + string.digits
MAX_DEPTH = 5


def _random(n: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(n))


def check_ou_id(value: object, *, where: str = "ou_id") -> str:
    if not isinstance(value, str) or not _OU_ID.match(value):
        raise ValidationError(
            f"{where}: not an OU or root id (r-xxxx or ou-xxxx-xxxxxxxx): {value!r}", field=where
        )
    return value


class OrganizationalUnits:
    """The OU tree. Management plane only: reached through ``ManagementHandle.ous``."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def ensure_root(self, conn: sa.Connection) -> OrganizationalUnit:
        row = conn.execute(sa.select(fleet_ous).where(fleet_ous.c.parent_id.is_(None))).first()
        if row is not None:
            return _ou(row)
        root_id = f"r-{_random(4)}"
        now = utcnow()
        conn.execute(
            fleet_ous.insert().values(
                ou_id=root_id, parent_id=None, name="Root", path=f"/{root_id}/", created_at=now
            )
        )
        conn.execute(fleet_meta.insert().values(key="root_ou_id", value=root_id))
        return OrganizationalUnit(root_id, "Root", None, f"/{root_id}/", now)

    def root(self) -> OrganizationalUnit:
        with self._store.read() as conn:
            row = conn.execute(sa.select(fleet_ous).where(fleet_ous.c.parent_id.is_(None))).first()
        if row is None:
            raise NotFound("the organization has no root yet (platform not initialised)")
        return _ou(row)

    def create(self, name: str, parent_id: str | None = None) -> OrganizationalUnit:
        if not isinstance(name, str) or not _OU_NAME.match(name):
            raise ValidationError(
                f"name: 1-128 letters, digits, space, '.', '_' or '-'; got {name!r}", field="name"
            )
        if parent_id is not None:
            check_ou_id(parent_id, where="parent_id")
        with self._store.write() as conn:
            parent = self._get(conn, parent_id) if parent_id else self.ensure_root(conn)
            if len(parent.ancestry) >= MAX_DEPTH + 1:
                raise ValidationError(f"parent_id: OUs nest at most {MAX_DEPTH} deep", field="parent_id")
            exists = conn.execute(
                sa.select(fleet_ous.c.ou_id).where(
                    fleet_ous.c.parent_id == parent.ou_id, fleet_ous.c.name == name
                )
            ).first()
            if exists:
                raise Conflict(f"an OU named {name!r} already exists under {parent.ou_id}", ou_id=exists[0])
            root_suffix = parent.ancestry[0][2:]
            ou_id = f"ou-{root_suffix}-{_random(8)}"
            ou = OrganizationalUnit(ou_id, name, parent.ou_id, f"{parent.path}{ou_id}/", utcnow())
            conn.execute(
                fleet_ous.insert().values(
                    ou_id=ou.ou_id,
                    parent_id=ou.parent_id,
                    name=ou.name,
                    path=ou.path,
                    created_at=ou.created_at,
                )
            )
            return ou

    def get(self, ou_id: str) -> OrganizationalUnit:
        check_ou_id(ou_id)
        with self._store.read() as conn:
            return self._get(conn, ou_id)

    def get_in(self, conn: sa.Connection, ou_id: str) -> OrganizationalUnit:
        """Like ``get`` inside the caller's transaction."""
        return self._get(conn, check_ou_id(ou_id))

    def children(self, parent_id: str | None = None) -> list[OrganizationalUnit]:
        with self._store.read() as conn:
            parent = (
                self._get(conn, check_ou_id(parent_id, where="parent_id"))
                if parent_id
                else self.ensure_root(conn)
            )
            rows = conn.execute(
                sa.select(fleet_ous).where(fleet_ous.c.parent_id == parent.ou_id).order_by(fleet_ous.c.name)
            ).all()
        return [_ou(r) for r in rows]

    def tree(self) -> list[OrganizationalUnit]:
        with self._store.read() as conn:
            rows = conn.execute(sa.select(fleet_ous).order_by(fleet_ous.c.path)).all()
        return [_ou(r) for r in rows]

    def rename(self, ou_id: str, name: str) -> OrganizationalUnit:
        if not isinstance(name, str) or not _OU_NAME.match(name):
            raise ValidationError(
                f"name: 1-128 letters, digits, space, '.', '_' or '-'; got {name!r}", field="name"
            )
        with self._store.write() as conn:
            ou = self._get(conn, check_ou_id(ou_id))
            if ou.is_root:
                raise Conflict("the root cannot be renamed")
            clash = conn.execute(
                sa.select(fleet_ous.c.ou_id).where(
                    fleet_ous.c.parent_id == ou.parent_id,
                    fleet_ous.c.name == name,
                    fleet_ous.c.ou_id != ou_id,
                )
            ).first()
            if clash:
                raise Conflict(f"an OU named {name!r} already exists under {ou.parent_id}")
            conn.execute(sa.update(fleet_ous).where(fleet_ous.c.ou_id == ou_id).values(name=name))
            return OrganizationalUnit(ou.ou_id, name, ou.parent_id, ou.path, ou.created_at)

    def delete(self, ou_id: str) -> None:
        """Delete an empty OU (no child OUs, no accounts), as AWS Organizations does."""
        with self._store.write() as conn:
            ou = self._get(conn, check_ou_id(ou_id))
            if ou.is_root:
                raise Conflict("the root cannot be deleted")
            if conn.execute(
                sa.select(fleet_ous.c.ou_id).where(fleet_ous.c.parent_id == ou_id).limit(1)
            ).first():
                raise Conflict(f"OU {ou_id} still has child OUs; delete or empty them first")
            has_accounts = conn.execute(
                sa.select(accounts.c.account_id)
                .where(accounts.c.ou_id == ou_id)
                .limit(1)
                .execution_options(cross_account=True)
            ).first()
            if has_accounts:
                raise Conflict(f"OU {ou_id} still holds accounts; move them out first")
            conn.execute(sa.delete(fleet_ous).where(fleet_ous.c.ou_id == ou_id))

    def _get(self, conn: sa.Connection, ou_id: str) -> OrganizationalUnit:
        row = conn.execute(sa.select(fleet_ous).where(fleet_ous.c.ou_id == ou_id)).first()
        if row is None:
            raise NotFound(f"no OU or root {ou_id}", ou_id=ou_id)
        return _ou(row)


def _ou(row: sa.Row[tuple[object, ...]]) -> OrganizationalUnit:
    m = row._mapping
    return OrganizationalUnit(m["ou_id"], m["name"], m["parent_id"], m["path"], m["created_at"])
