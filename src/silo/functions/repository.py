"""Function rows of one account. Every statement filters by the context's account."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from silo.accounts import AccountContext
from silo.errors import Conflict, NotFound
from silo.functions.models import LATEST, Alias, AsyncConfig, Function, FunctionConfig
from silo.store import utcnow
from silo.store.pages import Page, check_limit, decode_token, encode_token
from silo.store.schema import function_aliases, function_versions, functions

CONFIG_FIELDS = (
    "handler",
    "runtime",
    "memory_size",
    "timeout",
    "environment",
    "description",
    "code_sha256",
    "code_size",
    "revision",
)


_OTHERS = functions.alias("others")
# Built once: the invoke cold path runs it for every version it has not resolved yet.
_WITH_RESERVED_TOTAL = sa.select(
    functions,
    sa.select(sa.func.coalesce(sa.func.sum(_OTHERS.c.reserved_concurrency), 0))
    .where(_OTHERS.c.account_id == sa.bindparam("account"), _OTHERS.c.reserved_concurrency.is_not(None))
    .scalar_subquery()
    .label("reserved_total"),
).where(functions.c.account_id == sa.bindparam("account"), functions.c.name == sa.bindparam("name"))


def new_revision() -> str:
    return uuid.uuid4().hex


class FunctionRepository:
    def __init__(self, context: AccountContext) -> None:
        self._account = context.account_id

    def insert(self, conn: sa.Connection, values: dict[str, Any]) -> None:
        if self._row(conn, values["name"]) is not None:
            raise Conflict(f"function {values['name']!r} already exists", function=values["name"])
        now = utcnow()
        conn.execute(
            functions.insert().values(
                account_id=self._account, created_at=now, updated_at=now, last_version=0, **values
            )
        )

    def update(self, conn: sa.Connection, name: str, values: dict[str, Any]) -> None:
        conn.execute(
            sa.update(functions)
            .where(functions.c.account_id == self._account, functions.c.name == name)
            .values(updated_at=utcnow(), **values)
        )

    def delete(self, conn: sa.Connection, name: str) -> None:
        for table in (functions, function_versions, function_aliases):
            conn.execute(sa.delete(table).where(table.c.account_id == self._account, table.c.name == name))

    def get(self, conn: sa.Connection, name: str) -> Function:
        row = self._row(conn, name)
        if row is None:
            raise NotFound(f"function not found: {name}", function=name)
        return _function(row)

    def find(self, conn: sa.Connection, limit: int | None, next_token: str | None) -> Page[Function]:
        size = check_limit(limit)
        after = decode_token(next_token)
        query = (
            sa.select(functions)
            .where(functions.c.account_id == self._account)
            .order_by(functions.c.name)
            .limit(size + 1)
        )
        if after is not None:
            query = query.where(functions.c.name > str(after))
        rows = conn.execute(query).all()
        items = [_function(r) for r in rows[:size]]
        return Page(items, encode_token(items[-1].name) if len(rows) > size else None)

    def get_with_reserved_total(self, conn: sa.Connection, name: str) -> tuple[Function, int]:
        """The function and the account's total reserved concurrency, in one round trip (cold path)."""
        row = conn.execute(_WITH_RESERVED_TOTAL, {"account": self._account, "name": name}).first()
        if row is None:
            raise NotFound(f"function not found: {name}", function=name)
        return _function(row), int(row._mapping["reserved_total"])

    def reserved_total(self, conn: sa.Connection, *, excluding: str | None = None) -> int:
        query = sa.select(sa.func.coalesce(sa.func.sum(functions.c.reserved_concurrency), 0)).where(
            functions.c.account_id == self._account, functions.c.reserved_concurrency.is_not(None)
        )
        if excluding is not None:
            query = query.where(functions.c.name != excluding)
        return int(conn.execute(query).scalar_one())

    def count(self, conn: sa.Connection) -> int:
        return int(
            conn.execute(
                sa.select(sa.func.count()).where(functions.c.account_id == self._account)
            ).scalar_one()
        )

    def publish(self, conn: sa.Connection, name: str, description: str | None) -> FunctionConfig:
        current = self.get(conn, name)
        if current.last_version:
            newest = self.version(conn, name, str(current.last_version))
            if newest.revision == current.config.revision and description is None:
                return newest  # nothing changed since: Lambda answers with the existing version
        number = current.last_version + 1
        config = {f: getattr(current.config, f) for f in CONFIG_FIELDS}
        if description is not None:
            config["description"] = description
        conn.execute(
            function_versions.insert().values(
                account_id=self._account, name=name, version=number, published_at=utcnow(), **config
            )
        )
        self.update(conn, name, {"last_version": number})
        return self.version(conn, name, str(number))

    def version(self, conn: sa.Connection, name: str, version: str) -> FunctionConfig:
        if version == LATEST:
            return self.get(conn, name).config
        if not version.isdigit():
            raise NotFound(f"function {name} has no version {version!r}")
        row = conn.execute(
            sa.select(function_versions).where(
                function_versions.c.account_id == self._account,
                function_versions.c.name == name,
                function_versions.c.version == int(version),
            )
        ).first()
        if row is None:
            raise NotFound(f"function {name} has no version {version}", function=name, version=version)
        m = row._mapping
        return _config(m, str(m["version"]), m["published_at"])

    def versions(self, conn: sa.Connection, name: str) -> list[FunctionConfig]:
        latest = self.get(conn, name).config
        rows = conn.execute(
            sa.select(function_versions)
            .where(function_versions.c.account_id == self._account, function_versions.c.name == name)
            .order_by(function_versions.c.version)
        ).all()
        return [
            latest,
            *(_config(r._mapping, str(r._mapping["version"]), r._mapping["published_at"]) for r in rows),
        ]

    def put_alias(
        self, conn: sa.Connection, name: str, alias: str, version: str, description: str, *, create: bool
    ) -> Alias:
        existing = self.alias(conn, name, alias, missing_ok=True)
        now = utcnow()
        if create:
            if existing is not None:
                raise Conflict(f"alias {alias!r} of {name} already exists")
            conn.execute(
                function_aliases.insert().values(
                    account_id=self._account,
                    name=name,
                    alias=alias,
                    version=version,
                    description=description,
                    created_at=now,
                    updated_at=now,
                )
            )
        else:
            if existing is None:
                raise NotFound(f"function {name} has no alias {alias!r}")
            conn.execute(
                sa.update(function_aliases)
                .where(
                    function_aliases.c.account_id == self._account,
                    function_aliases.c.name == name,
                    function_aliases.c.alias == alias,
                )
                .values(version=version, description=description, updated_at=now)
            )
        found = self.alias(conn, name, alias)
        assert found is not None
        return found

    def alias(self, conn: sa.Connection, name: str, alias: str, *, missing_ok: bool = False) -> Alias | None:
        row = conn.execute(
            sa.select(function_aliases).where(
                function_aliases.c.account_id == self._account,
                function_aliases.c.name == name,
                function_aliases.c.alias == alias,
            )
        ).first()
        if row is None:
            if missing_ok:
                return None
            raise NotFound(f"function {name} has no alias {alias!r}", function=name, alias=alias)
        m = row._mapping
        return Alias(name, m["alias"], m["version"], m["description"], m["created_at"], m["updated_at"])

    def aliases(self, conn: sa.Connection, name: str) -> list[Alias]:
        rows = conn.execute(
            sa.select(function_aliases)
            .where(function_aliases.c.account_id == self._account, function_aliases.c.name == name)
            .order_by(function_aliases.c.alias)
        ).all()
        return [Alias(name, r.alias, r.version, r.description, r.created_at, r.updated_at) for r in rows]

    def delete_alias(self, conn: sa.Connection, name: str, alias: str) -> None:
        self.alias(conn, name, alias)
        conn.execute(
            sa.delete(function_aliases).where(
                function_aliases.c.account_id == self._account,
                function_aliases.c.name == name,
                function_aliases.c.alias == alias,
            )
        )

    def _row(self, conn: sa.Connection, name: str) -> sa.Row[Any] | None:
        return conn.execute(
            sa.select(functions).where(functions.c.account_id == self._account, functions.c.name == name)
        ).first()


def _config(m: Any, version: str, modified: Any) -> FunctionConfig:
    return FunctionConfig(
        name=m["name"],
        version=version,
        handler=m["handler"],
        runtime=m["runtime"],
        memory_size=m["memory_size"],
        timeout=m["timeout"],
        environment=dict(m["environment"]),
        description=m["description"],
        code_sha256=m["code_sha256"],
        code_size=m["code_size"],
        revision=m["revision"],
        last_modified=modified,
    )


def _function(row: sa.Row[Any]) -> Function:
    m = row._mapping
    return Function(
        config=_config(m, LATEST, m["updated_at"]),
        reserved_concurrency=m["reserved_concurrency"],
        tags=dict(m["tags"]),
        async_config=AsyncConfig(m["max_retry_attempts"], m["max_event_age"], m["on_failure"]),
        created_at=m["created_at"],
        last_version=m["last_version"],
    )
