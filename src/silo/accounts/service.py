"""The account registry, as the management plane sees it: every account in the fleet."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from silo.accounts.models import (
    Account,
    AccountId,
    AccountStatus,
    account_id,
    check_account_name,
    check_email,
    check_tags,
)
from silo.accounts.ous import OrganizationalUnits
from silo.errors import Conflict, NotFound, ValidationError
from silo.store import Store, insert_rows, utcnow
from silo.store.pages import Page, check_limit, decode_token, encode_token
from silo.store.schema import (
    account_owned_tables,
    account_tags,
    accounts,
    fleet_meta,
    fleet_stack_instances,
)

DEFAULT_CONCURRENCY_LIMIT = 100
MAX_BATCH = 10_000
_X = {"cross_account": True}


@dataclass(frozen=True, slots=True)
class AccountSpec:
    """What a new account is made from."""

    name: str
    owner_email: str
    ou_id: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    concurrency_limit: int = DEFAULT_CONCURRENCY_LIMIT


class AccountRegistry:
    """Create, find and change accounts. Management plane only."""

    def __init__(self, store: Store, ous: OrganizationalUnits, *, retention: timedelta) -> None:
        self._store = store
        self._ous = ous
        self._retention = retention

    def create(self, spec: AccountSpec) -> Account:
        return self.create_many([spec])[0]

    def check_specs(self, specs: Sequence[AccountSpec]) -> None:
        """Refuse bad specs (names, emails, tags, limits, OUs, names taken) without writing."""
        self._check(specs)
        with self._store.read() as conn:
            for spec in specs:
                if spec.ou_id is not None:
                    self._ous.get_in(conn, spec.ou_id)
            self._refuse_taken_names(conn, [s.name for s in specs])

    def create_many(
        self,
        specs: Sequence[AccountSpec],
        *,
        status: AccountStatus = AccountStatus.ACTIVE,
        platform_tags: bool = False,
    ) -> list[Account]:
        """Create accounts all-or-nothing: every spec is checked before anything is written
        (``platform_tags``: the platform's own ``silo:`` tags are allowed)."""
        self._check(specs, platform_tags=platform_tags)
        now = utcnow()
        with self._store.write() as conn:
            return self._create(conn, specs, status, now)

    def _check(self, specs: Sequence[AccountSpec], *, platform_tags: bool = False) -> None:
        if not specs:
            raise ValidationError("accounts: at least one account to create")
        if len(specs) > MAX_BATCH:
            raise ValidationError(f"accounts: at most {MAX_BATCH} in one request, got {len(specs)}")
        names: set[str] = set()
        for i, spec in enumerate(specs):
            where = f"accounts[{i}]" if len(specs) > 1 else ""
            check_account_name(spec.name, where=f"{where}.name".lstrip("."))
            check_email(spec.owner_email, where=f"{where}.owner_email".lstrip("."))
            check_tags(spec.tags, where=f"{where}.tags".lstrip("."), platform=platform_tags)
            _check_limit(spec.concurrency_limit, f"{where}.concurrency_limit".lstrip("."))
            if spec.name.lower() in names:
                raise ValidationError(
                    f"{where}.name: {spec.name!r} appears twice in this request".lstrip(".")
                )
            names.add(spec.name.lower())

    def _create(
        self, conn: sa.Connection, specs: Sequence[AccountSpec], status: AccountStatus, now: datetime
    ) -> list[Account]:
        root = self._ous.ensure_root(conn)
        paths: dict[str | None, str] = {None: root.path}
        for spec in specs:
            if spec.ou_id is not None and spec.ou_id not in paths:
                paths[spec.ou_id] = self._ous.get_in(conn, spec.ou_id).path
        self._refuse_taken_names(conn, [s.name for s in specs])
        ids = self._fresh_ids(conn, len(specs))
        made = [
            Account(
                account_id=ids[i],
                name=spec.name,
                owner_email=spec.owner_email,
                status=status,
                ou_id=spec.ou_id or root.ou_id,
                concurrency_limit=spec.concurrency_limit,
                created_at=now,
                updated_at=now,
                tags=dict(spec.tags),
            )
            for i, spec in enumerate(specs)
        ]
        insert_rows(
            conn,
            accounts,
            [
                {
                    "account_id": a.account_id,
                    "name": a.name,
                    "owner_email": a.owner_email,
                    "status": a.status.value,
                    "ou_id": a.ou_id,
                    "ou_path": paths[spec.ou_id],
                    "concurrency_limit": a.concurrency_limit,
                    "created_at": now,
                    "updated_at": now,
                    "closed_at": None,
                    "purge_after": None,
                }
                for a, spec in zip(made, specs, strict=True)
            ],
        )
        insert_rows(
            conn,
            account_tags,
            [{"account_id": a.account_id, "key": k, "value": v} for a in made for k, v in a.tags.items()],
        )
        return made

    def get(self, account: AccountId) -> Account:
        with self._store.read() as conn:
            return self.get_in(conn, account)

    def get_in(self, conn: sa.Connection, account: AccountId) -> Account:
        row = conn.execute(sa.select(accounts).where(accounts.c.account_id == account)).first()
        if row is None:
            raise NotFound(f"no account {account}", account_id=account)
        tags = conn.execute(
            sa.select(account_tags.c.key, account_tags.c.value).where(account_tags.c.account_id == account)
        ).all()
        return _account(row, {k: v for k, v in tags})

    def ou_path(self, account: AccountId) -> tuple[Account, list[str]]:
        """The account and the ids from the root down to its OU (for guardrail inheritance)."""
        with self._store.read() as conn:
            row = conn.execute(sa.select(accounts).where(accounts.c.account_id == account)).first()
        if row is None:
            raise NotFound(f"no account {account}", account_id=account)
        return _account(row, {}), [p for p in row._mapping["ou_path"].split("/") if p]

    def ou_paths(self, ids: Sequence[str]) -> dict[str, tuple[Account, list[str]]]:
        """``ou_path`` for many accounts in one query; unknown ids are left out."""
        with self._store.read() as conn:
            rows = conn.execute(
                sa.select(accounts).where(accounts.c.account_id.in_(list(ids))).execution_options(**_X)
            ).all()
        return {
            r._mapping["account_id"]: (_account(r, {}), [p for p in r._mapping["ou_path"].split("/") if p])
            for r in rows
        }

    def find(
        self,
        *,
        ou_id: str | None = None,
        recursive: bool = False,
        tags: Mapping[str, str | None] | None = None,
        status: AccountStatus | None = None,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> Page[Account]:
        """Accounts in id order, filtered by OU (optionally the whole subtree), tags and status."""
        size = check_limit(limit)
        after = decode_token(next_token)
        query = sa.select(accounts).order_by(accounts.c.account_id).limit(size + 1)
        with self._store.read() as conn:
            if ou_id is not None:
                ou = self._ous.get_in(conn, ou_id)
                if recursive:
                    query = query.where(accounts.c.ou_path.startswith(ou.path, autoescape=True))
                else:
                    query = query.where(accounts.c.ou_id == ou.ou_id)
            for key, value in (tags or {}).items():
                cond = sa.and_(account_tags.c.account_id == accounts.c.account_id, account_tags.c.key == key)
                if value is not None:
                    cond = sa.and_(cond, account_tags.c.value == value)
                query = query.where(sa.exists().where(cond))
            if status is not None:
                query = query.where(accounts.c.status == status.value)
            if after is not None:
                query = query.where(accounts.c.account_id > str(after))
            rows = conn.execute(query.execution_options(**_X)).all()
            page = rows[:size]
            tags_by = self._tags_for(conn, [r._mapping["account_id"] for r in page])
        items = [_account(r, tags_by.get(r._mapping["account_id"], {})) for r in page]
        token = encode_token(items[-1].account_id) if len(rows) > size else None
        return Page(items, token)

    def set_status(
        self, account: AccountId, status: AccountStatus, *, allowed_from: Iterable[AccountStatus]
    ) -> Account:
        self._refuse_management(account, status.value.lower())
        now = utcnow()
        with self._store.write() as conn:
            current = self.get_in(conn, account)
            if current.status not in set(allowed_from):
                raise Conflict(
                    f"account {account} is {current.status.value}; cannot become {status.value}",
                    account_id=account,
                    status=current.status.value,
                )
            values: dict[str, object] = {"status": status.value, "updated_at": now}
            if status is AccountStatus.CLOSED:
                values |= {"closed_at": now, "purge_after": now + self._retention}
            conn.execute(sa.update(accounts).where(accounts.c.account_id == account).values(**values))
            return self.get_in(conn, account)

    def move(self, account: AccountId, ou_id: str) -> Account:
        with self._store.write() as conn:
            current = self.get_in(conn, account)
            if current.status is AccountStatus.CLOSED:
                raise Conflict(f"account {account} is closed and cannot move", account_id=account)
            ou = self._ous.get_in(conn, ou_id)
            conn.execute(
                sa.update(accounts)
                .where(accounts.c.account_id == account)
                .values(ou_id=ou.ou_id, ou_path=ou.path, updated_at=utcnow())
            )
            return self.get_in(conn, account)

    def tag(self, account: AccountId, tags: Mapping[str, str], remove: Sequence[str] = ()) -> Account:
        check_tags(dict(tags))
        with self._store.write() as conn:
            current = self.get_in(conn, account)
            merged = {k: v for k, v in current.tags.items() if k not in set(remove)} | dict(tags)
            check_tags(merged)
            conn.execute(sa.delete(account_tags).where(account_tags.c.account_id == account))
            insert_rows(
                conn, account_tags, [{"account_id": account, "key": k, "value": v} for k, v in merged.items()]
            )
            conn.execute(
                sa.update(accounts).where(accounts.c.account_id == account).values(updated_at=utcnow())
            )
            return self.get_in(conn, account)

    def set_concurrency_limit(self, account: AccountId, limit: int) -> Account:
        _check_limit(limit, "concurrency_limit")
        with self._store.write() as conn:
            self.get_in(conn, account)
            conn.execute(
                sa.update(accounts)
                .where(accounts.c.account_id == account)
                .values(concurrency_limit=limit, updated_at=utcnow())
            )
            return self.get_in(conn, account)

    def purge_expired(
        self,
        now: datetime | None = None,
        *,
        record: Callable[[sa.Connection, list[AccountId]], None] | None = None,
    ) -> list[AccountId]:
        """Delete every row of closed accounts whose retention has run out.

        ``record`` is called with the purged ids inside the same transaction (the management plane
        detaches guardrails and writes the audit records there), unless nothing was due.
        """
        moment = now or utcnow()
        with self._store.write() as conn:
            due = [
                AccountId(r[0])
                for r in conn.execute(
                    sa.select(accounts.c.account_id)
                    .where(accounts.c.status == AccountStatus.CLOSED.value, accounts.c.purge_after <= moment)
                    .execution_options(**_X)
                )
            ]
            _delete_everything_of(conn, due)
            if due and record is not None:
                record(conn, due)
        return due

    def discard_provisioning(self, account: AccountId) -> bool:
        """Delete every row of an account the factory could not finish (``False`` if there is no
        such account, or it is no longer PROVISIONING: a ready account is never discarded)."""
        with self._store.write() as conn:
            status = conn.execute(
                sa.select(accounts.c.status).where(accounts.c.account_id == account)
            ).scalar()
            if status != AccountStatus.PROVISIONING.value:
                return False
            _delete_everything_of(conn, [account])
            return True

    def next_purge_at(self) -> datetime | None:
        """The earliest moment a closed account's retention ends (``None`` if none is closed)."""
        with self._store.read() as conn:
            return conn.execute(
                sa.select(sa.func.min(accounts.c.purge_after))
                .where(accounts.c.status == AccountStatus.CLOSED.value)
                .execution_options(**_X)
            ).scalar()

    def management_account_id(self) -> AccountId | None:
        with self._store.read() as conn:
            value = conn.execute(
                sa.select(fleet_meta.c.value).where(fleet_meta.c.key == "management_account_id")
            ).scalar()
        return AccountId(value) if value else None

    def _refuse_management(self, account: AccountId, verb: str) -> None:
        if account == self.management_account_id():
            raise Conflict(f"the management account cannot be {verb.replace('active', 'activated')}")

    def _refuse_taken_names(self, conn: sa.Connection, names: Sequence[str]) -> None:
        for chunk in _chunks([n.lower() for n in names], 500):
            taken = conn.execute(
                sa.select(accounts.c.name)
                .where(sa.func.lower(accounts.c.name).in_(chunk))
                .execution_options(**_X)
            ).first()
            if taken:
                raise Conflict(f"an account named {taken[0]!r} already exists", name=taken[0])

    def _fresh_ids(self, conn: sa.Connection, n: int) -> list[AccountId]:
        chosen: set[str] = set()
        while len(chosen) < n:
            batch = {f"{secrets.randbelow(10**12):012d}" for _ in range(n - len(chosen))} - chosen
            for chunk in _chunks(sorted(batch), 500):
                used = conn.execute(
                    sa.select(accounts.c.account_id).where(accounts.c.account_id.in_(chunk))
                ).scalars()
                batch -= set(used)
            chosen |= batch
        return [account_id(i) for i in chosen]

    def _tags_for(self, conn: sa.Connection, ids: Sequence[str]) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        for chunk in _chunks(list(ids), 500):
            for aid, key, value in conn.execute(
                sa.select(account_tags.c.account_id, account_tags.c.key, account_tags.c.value).where(
                    account_tags.c.account_id.in_(chunk)
                )
            ):
                out.setdefault(aid, {})[key] = value
        return out


def _check_limit(limit: object, where: str) -> None:
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 100_000:
        raise ValidationError(f"{where}: an integer from 1 to 100000, got {limit!r}", field=where)


def _chunks(items: list[str] | list[AccountId], size: int) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])


def _account(row: sa.Row[tuple[object, ...]], tags: dict[str, str]) -> Account:
    m = row._mapping
    return Account(
        account_id=AccountId(m["account_id"]),
        name=m["name"],
        owner_email=m["owner_email"],
        status=AccountStatus(m["status"]),
        ou_id=m["ou_id"],
        concurrency_limit=m["concurrency_limit"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        closed_at=m["closed_at"],
        purge_after=m["purge_after"],
        tags=tags,
    )


def _delete_everything_of(conn: sa.Connection, ids: list[AccountId]) -> None:
    for table in account_owned_tables():
        for chunk in _chunks(ids, 500):
            conn.execute(sa.delete(table).where(table.c.account_id.in_(chunk)))
    # A deleted account is no longer an instance of any stack set (operation history stays).
    for chunk in _chunks(ids, 500):
        conn.execute(sa.delete(fleet_stack_instances).where(fleet_stack_instances.c.account_id.in_(chunk)))
