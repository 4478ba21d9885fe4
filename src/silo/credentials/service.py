"""Access keys: issue, list, rotate, revoke, and authenticate."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import sqlalchemy as sa

from silo.accounts.context import KeyKind, Principal
from silo.accounts.models import AccountId
from silo.credentials.models import AccessKey, IssuedKey, KeyStatus
from silo.credentials.tokens import (
    hash_secret,
    join_token,
    new_key_id,
    new_secret,
    secret_matches,
    split_token,
)
from silo.errors import AuthenticationError, NotFound, ValidationError
from silo.store import Store, utcnow
from silo.store.pages import Page, check_limit, decode_token, encode_token
from silo.store.schema import access_keys

_KEY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$")
_KEY_ID = re.compile(r"^SK[MAS][A-Z2-7]{17}$")
_TOUCH_EVERY = timedelta(seconds=60)
MAX_ACTIVE_KEYS = 20
MAX_GRACE = 7 * 24 * 3600


def check_key_id(value: object) -> str:
    if not isinstance(value, str) or not _KEY_ID.match(value):
        raise ValidationError(f"key_id: not an access key id: {value!r}", field="key_id")
    return value


class AccessKeys:
    """Every method names the account whose keys it touches; callers pass it from a context."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def issue(
        self,
        account: AccountId,
        kind: KeyKind,
        name: str,
        *,
        created_by: str | None,
        expires_at: datetime | None = None,
        conn: sa.Connection | None = None,
    ) -> IssuedKey:
        if not isinstance(name, str) or not _KEY_NAME.match(name):
            raise ValidationError(
                f"name: 1-64 letters, digits, space, '.', '_' or '-'; got {name!r}", field="name"
            )
        if conn is None:
            with self._store.write() as own:
                return self.issue(account, kind, name, created_by=created_by, expires_at=expires_at, conn=own)
        key_id, secret = new_key_id(kind), new_secret()
        key = self.register(
            conn,
            account,
            kind,
            name,
            key_id,
            hash_secret(key_id, secret),
            created_by=created_by,
            expires_at=expires_at,
        )
        return IssuedKey(key, join_token(key_id, secret))

    @staticmethod
    def prepare(kind: KeyKind) -> tuple[str, str, str]:
        """(key id, token, secret hash) of a key made now and registered later: the secret is
        shown once and only its hash travels on (in a workflow's input, say)."""
        key_id, secret = new_key_id(kind), new_secret()
        return key_id, join_token(key_id, secret), hash_secret(key_id, secret)

    def register(
        self,
        conn: sa.Connection,
        account: AccountId,
        kind: KeyKind,
        name: str,
        key_id: str,
        secret_hash: str,
        *,
        created_by: str | None,
        expires_at: datetime | None = None,
    ) -> AccessKey:
        """Store a key whose secret only its maker knows. Registering the same key again (a
        retried step) returns it; another key with its id is a conflict."""
        existing = conn.execute(
            sa.select(access_keys).where(access_keys.c.account_id == account, access_keys.c.key_id == key_id)
        ).first()
        if existing is not None:
            if existing.secret_hash != secret_hash:
                raise ValidationError(f"key {key_id} exists with another secret", field="key_id")
            return _key(existing)
        if kind is not KeyKind.SESSION:
            active = conn.execute(
                sa.select(sa.func.count()).where(
                    access_keys.c.account_id == account,
                    access_keys.c.status == KeyStatus.ACTIVE.value,
                    access_keys.c.kind != KeyKind.SESSION.value,
                )
            ).scalar_one()
            if active >= MAX_ACTIVE_KEYS:
                raise ValidationError(
                    f"account {account} already has {MAX_ACTIVE_KEYS} active keys; revoke one first"
                )
        now = utcnow()
        key = AccessKey(
            key_id, account, kind, name, KeyStatus.ACTIVE, created_by, now, expires_at, None, None
        )
        conn.execute(
            access_keys.insert().values(
                account_id=account,
                key_id=key_id,
                kind=kind.value,
                name=name,
                secret_hash=secret_hash,
                status=KeyStatus.ACTIVE.value,
                created_by=created_by,
                created_at=now,
                expires_at=expires_at,
            )
        )
        return key

    def get(self, account: AccountId, key_id: str, *, kind: KeyKind | None = None) -> AccessKey:
        """One key of ``account`` (and of ``kind``, when given: other kinds are not found)."""
        check_key_id(key_id)
        with self._store.read() as conn:
            row = conn.execute(
                sa.select(access_keys).where(
                    access_keys.c.account_id == account, access_keys.c.key_id == key_id
                )
            ).first()
        if row is None or (kind is not None and row._mapping["kind"] != kind.value):
            label = f"{kind.value} key" if kind else "key"
            raise NotFound(f"no {label} {key_id} in account {account}", key_id=key_id)
        return _key(row)

    def list(
        self,
        account: AccountId,
        kind: KeyKind,
        *,
        include_revoked: bool = False,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> Page[AccessKey]:
        size = check_limit(limit)
        after = decode_token(next_token)
        query = (
            sa.select(access_keys)
            .where(access_keys.c.account_id == account, access_keys.c.kind == kind.value)
            .order_by(access_keys.c.key_id)
            .limit(size + 1)
        )
        if not include_revoked:
            query = query.where(access_keys.c.status == KeyStatus.ACTIVE.value)
        if after is not None:
            query = query.where(access_keys.c.key_id > str(after))
        with self._store.read() as conn:
            rows = conn.execute(query).all()
        items = [_key(r) for r in rows[:size]]
        return Page(items, encode_token(items[-1].key_id) if len(rows) > size else None)

    def revoke(self, account: AccountId, key_id: str, *, kind: KeyKind) -> AccessKey:
        key = self.get(account, key_id, kind=kind)
        if key.status is KeyStatus.REVOKED:
            return key
        with self._store.write() as conn:
            conn.execute(
                sa.update(access_keys)
                .where(access_keys.c.account_id == account, access_keys.c.key_id == key_id)
                .values(status=KeyStatus.REVOKED.value, revoked_at=utcnow())
            )
        return self.get(account, key_id)

    def rotate(self, account: AccountId, key_id: str, *, kind: KeyKind, grace_seconds: int = 0) -> IssuedKey:
        """Issue a replacement with the same name and kind; the old key ends now or after the grace."""
        if (
            not isinstance(grace_seconds, int)
            or isinstance(grace_seconds, bool)
            or not 0 <= grace_seconds <= MAX_GRACE
        ):
            raise ValidationError(f"grace_seconds: an integer from 0 to {MAX_GRACE}", field="grace_seconds")
        grace = timedelta(seconds=grace_seconds)
        old = self.get(account, key_id, kind=kind)
        if old.status is not KeyStatus.ACTIVE:
            raise ValidationError(f"key {key_id} is revoked and cannot be rotated")
        now = utcnow()
        with self._store.write() as conn:
            if grace:
                change: dict[str, object] = {"expires_at": now + grace}
            else:
                change = {"status": KeyStatus.REVOKED.value, "revoked_at": now}
            conn.execute(
                sa.update(access_keys)
                .where(access_keys.c.account_id == account, access_keys.c.key_id == key_id)
                .values(**change)
            )
            return self.issue(account, old.kind, old.name, created_by=old.created_by, conn=conn)

    def revoke_all(self, conn: sa.Connection, account: AccountId) -> None:
        conn.execute(
            sa.update(access_keys)
            .where(access_keys.c.account_id == account, access_keys.c.status == KeyStatus.ACTIVE.value)
            .values(status=KeyStatus.REVOKED.value, revoked_at=utcnow())
        )

    def authenticate(self, token: str) -> Principal:
        """The principal a token stands for; any failure is the same 401 (no oracle for key ids)."""
        key_id, secret = split_token(token)
        with self._store.read() as conn:
            row = conn.execute(
                # The key id is the only handle before we know the account: a cross-account lookup by design.
                sa.select(access_keys)
                .where(access_keys.c.key_id == key_id)
                .execution_options(cross_account=True)
            ).first()
        now = utcnow()
        if row is None or not secret_matches(key_id, secret, row._mapping["secret_hash"]):
            raise AuthenticationError("invalid access key")
        key = _key(row)
        if key.status is not KeyStatus.ACTIVE:
            raise AuthenticationError("access key has been revoked")
        if key.expires_at is not None and key.expires_at <= now:
            raise AuthenticationError("access key has expired")
        if key.kind is KeyKind.SESSION and not self._creator_active(key):
            raise AuthenticationError("the key that assumed this session has been revoked")
        if key.last_used_at is None or now - key.last_used_at > _TOUCH_EVERY:
            with self._store.write() as conn:
                conn.execute(
                    sa.update(access_keys)
                    .where(access_keys.c.account_id == key.account_id, access_keys.c.key_id == key_id)
                    .values(last_used_at=now)
                )
        return Principal(
            key_id,
            key.account_id,
            key.kind,
            assumed_by=key.created_by if key.kind is KeyKind.SESSION else None,
        )

    def _creator_active(self, session: AccessKey) -> bool:
        if session.created_by is None:
            return False
        with self._store.read() as conn:
            status = conn.execute(
                # The creator is a management key of the management account: found by id across accounts.
                sa.select(access_keys.c.status)
                .where(access_keys.c.key_id == session.created_by)
                .execution_options(cross_account=True)
            ).scalar()
        return status == KeyStatus.ACTIVE.value


def _key(row: sa.Row[tuple[object, ...]]) -> AccessKey:
    m = row._mapping
    return AccessKey(
        key_id=m["key_id"],
        account_id=AccountId(m["account_id"]),
        kind=KeyKind(m["kind"]),
        name=m["name"],
        status=KeyStatus(m["status"]),
        created_by=m["created_by"],
        created_at=m["created_at"],
        expires_at=m["expires_at"],
        last_used_at=m["last_used_at"],
        revoked_at=m["revoked_at"],
    )
