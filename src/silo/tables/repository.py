"""Table, item, index and stream rows of one account. Every statement filters by it."""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from silo.accounts import AccountContext
from silo.store import utcnow
from silo.store.bulk import execute_many, insert_rows, json_value, select_raw
from silo.store.schema import kv_index_items, kv_items, kv_stream_records, kv_tables
from silo.tables.definitions import TableDefinition
from silo.tables.errors import ResourceInUse, ResourceNotFound
from silo.tables.models import IndexSpec, KeySchema, StreamSpec, TableInfo

SEGMENTS = 65536
T, I, X, R = kv_tables, kv_items, kv_index_items, kv_stream_records  # noqa: E741


def segment_of(pk: str) -> int:
    """Where a partition falls among ``SEGMENTS`` (parallel Scan splits this range)."""
    return zlib.crc32(pk.encode()) % SEGMENTS


class TablesRepository:
    def __init__(self, context: AccountContext) -> None:
        self.account = context.account_id

    # --- tables ---------------------------------------------------------------------------------
    def insert_table(self, conn: sa.Connection, table: TableDefinition, managed_by: str | None) -> TableInfo:
        if self.find_table(conn, table.name) is not None:
            raise ResourceInUse(f"Table already exists: {table.name}", table=table.name)
        conn.execute(
            T.insert().values(
                account_id=self.account,
                name=table.name,
                key_schema=table.keys.as_json(),
                indexes=[i.as_json() for i in table.indexes],
                ttl_attribute=table.ttl_attribute,
                stream=_stream_json(table.stream),
                stream_seq=0,
                managed_by=managed_by,
                created_at=utcnow(),
            )
        )
        return self.get_table(conn, table.name)

    def find_table(self, conn: sa.Connection, name: str) -> TableInfo | None:
        row = conn.execute(sa.select(T).where(T.c.account_id == self.account, T.c.name == name)).first()
        return None if row is None else self._table(row)

    def get_table(self, conn: sa.Connection, name: str) -> TableInfo:
        found = self.find_table(conn, name)
        if found is None:
            raise ResourceNotFound(f"Requested resource not found: Table: {name} not found", table=name)
        return found

    def list_tables(self, conn: sa.Connection, limit: int, after: str | None) -> list[str]:
        query = sa.select(T.c.name).where(T.c.account_id == self.account).order_by(T.c.name).limit(limit)
        if after is not None:
            query = query.where(T.c.name > after)
        return list(conn.execute(query).scalars())

    def delete_table(self, conn: sa.Connection, name: str) -> None:
        for table, column in ((I, I.c.table_name), (X, X.c.table_name), (R, R.c.table_name)):
            conn.execute(table.delete().where(table.c.account_id == self.account, column == name))
        conn.execute(T.delete().where(T.c.account_id == self.account, T.c.name == name))

    def update_table(self, conn: sa.Connection, name: str, **values: Any) -> None:
        conn.execute(T.update().where(T.c.account_id == self.account, T.c.name == name).values(**values))

    def reset_expiry(self, conn: sa.Connection, name: str, expiry: Callable[[Any], int | None]) -> None:
        """Recompute every item's TTL (the table's TTL attribute changed), a page at a time."""
        after: tuple[str, str] | None = None
        while True:
            rows = self.scan_items(conn, name, after=after, limit=1000, segments=None)
            if not rows:
                return
            execute_many(
                conn,
                _EXPIRY,
                [{"a": self.account, "t": name, "pk": p, "sk": s, "e": expiry(item)} for p, s, item in rows],
            )
            after = rows[-1][0], rows[-1][1]

    def stats(self, conn: sa.Connection, name: str) -> tuple[int, int]:
        count, size = conn.execute(
            sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(I.c.size), 0)).where(
                I.c.account_id == self.account, I.c.table_name == name
            )
        ).one()
        return int(count), int(size)

    def storage_bytes(self, conn: sa.Connection) -> int:
        return int(
            conn.execute(
                sa.select(sa.func.coalesce(sa.func.sum(I.c.size), 0)).where(I.c.account_id == self.account)
            ).scalar_one()
        )

    def next_stream_seq(self, conn: sa.Connection, name: str, count: int) -> int:
        """Reserve ``count`` stream record numbers of the table; returns the first."""
        last = conn.execute(
            T.update()
            .where(T.c.account_id == self.account, T.c.name == name)
            .values(stream_seq=T.c.stream_seq + count)
            .returning(T.c.stream_seq)
        ).scalar_one()
        return int(last) - count + 1

    # --- items ----------------------------------------------------------------------------------
    def get_item(self, conn: sa.Connection, table: str, pk: str, sk: str, *, lock: bool = False) -> Any:
        query = sa.select(I.c.item).where(
            I.c.account_id == self.account, I.c.table_name == table, I.c.pk == pk, I.c.sk == sk
        )
        if lock and conn.dialect.name == "postgresql":
            query = query.with_for_update()
        return conn.execute(query).scalar()

    def get_items(
        self, conn: sa.Connection, table: str, keys: Sequence[tuple[str, str]], *, lock: bool = False
    ) -> dict[tuple[str, str], Any]:
        """Items by key, read on the raw driver (the hot path of BatchGetItem and every write)."""
        found: dict[tuple[str, str], Any] = {}
        for chunk in _chunks(list(dict.fromkeys(keys)), MAX_KEYS_PER_READ):
            params: dict[str, Any] = {"a": self.account, "t": table}
            for i, (pk, sk) in enumerate(chunk):
                params[f"p{i}"], params[f"s{i}"] = pk, sk
            postgresql = conn.dialect.name == "postgresql"
            statement = _read_statement(len(chunk), postgresql, lock and postgresql)
            for pk, sk, item in select_raw(conn, statement, params):
                found[(pk, sk)] = json_value(item)
        return found

    def put_items(self, conn: sa.Connection, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert or replace whole items (``pk``, ``sk``, ``item``, ``size``, ``expires_at``)."""
        if rows:
            execute_many(
                conn,
                _UPSERT[conn.dialect.name],
                [{"a": self.account, "t": table, "segment": segment_of(r["pk"]), **r} for r in rows],
            )

    def delete_items(self, conn: sa.Connection, table: str, keys: Sequence[tuple[str, str]]) -> None:
        if keys:
            execute_many(
                conn, _DELETE, [{"a": self.account, "t": table, "pk": k[0], "sk": k[1]} for k in keys]
            )

    def query_items(
        self,
        conn: sa.Connection,
        table: str,
        pk: str,
        bounds: Sequence[sa.ColumnElement[bool]],
        *,
        forward: bool,
        after: str | None,
        limit: int,
    ) -> list[tuple[str, str, Any]]:
        query = sa.select(I.c.pk, I.c.sk, I.c.item).where(
            I.c.account_id == self.account, I.c.table_name == table, I.c.pk == pk, *bounds
        )
        if after is not None:
            query = query.where(I.c.sk > after if forward else I.c.sk < after)
        query = query.order_by(I.c.sk if forward else I.c.sk.desc()).limit(limit)
        return [(r.pk, r.sk, r.item) for r in conn.execute(query)]

    def scan_items(
        self,
        conn: sa.Connection,
        table: str,
        *,
        after: tuple[str, str] | None,
        limit: int,
        segments: tuple[int, int] | None,
    ) -> list[tuple[str, str, Any]]:
        query = sa.select(I.c.pk, I.c.sk, I.c.item).where(
            I.c.account_id == self.account, I.c.table_name == table
        )
        if segments is not None:
            low, high = segments
            query = query.where(I.c.segment >= low, I.c.segment < high)
        if after is not None:
            query = query.where(
                sa.tuple_(I.c.pk, I.c.sk) > sa.tuple_(sa.literal(after[0]), sa.literal(after[1]))
            )
        query = query.order_by(I.c.pk, I.c.sk).limit(limit)
        return [(r.pk, r.sk, r.item) for r in conn.execute(query)]

    # --- index entries ----------------------------------------------------------------------------
    def put_index_entries(self, conn: sa.Connection, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        insert_rows(conn, X, [{"account_id": self.account, "table_name": table, **r} for r in rows])

    def delete_index_entries(
        self, conn: sa.Connection, table: str, entries: Iterable[tuple[str, str, str, str, str]]
    ) -> None:
        """Delete (index, ipk, isk, pk, sk) entries."""
        for index, ipk, isk, pk, sk in entries:
            conn.execute(
                X.delete().where(
                    X.c.account_id == self.account,
                    X.c.table_name == table,
                    X.c.index_name == index,
                    X.c.ipk == ipk,
                    X.c.isk == isk,
                    X.c.pk == pk,
                    X.c.sk == sk,
                )
            )

    def query_index(
        self,
        conn: sa.Connection,
        table: str,
        index: str,
        ipk: str | None,
        bounds: Sequence[sa.ColumnElement[bool]],
        *,
        forward: bool,
        after: tuple[str, str, str, str] | None,
        limit: int,
    ) -> list[tuple[tuple[str, str, str, str], Any]]:
        """Index entries in index order (with their items); ``ipk`` None scans the whole index."""
        query = (
            sa.select(X.c.ipk, X.c.isk, X.c.pk, X.c.sk, I.c.item)
            .join(
                I,
                sa.and_(
                    I.c.account_id == X.c.account_id,
                    I.c.table_name == X.c.table_name,
                    I.c.pk == X.c.pk,
                    I.c.sk == X.c.sk,
                ),
            )
            .where(
                X.c.account_id == self.account,
                I.c.account_id == self.account,
                X.c.table_name == table,
                X.c.index_name == index,
                *bounds,
            )
        )
        if ipk is not None:
            query = query.where(X.c.ipk == ipk)
        order = (X.c.ipk, X.c.isk, X.c.pk, X.c.sk)
        if after is not None:
            position = sa.tuple_(*order)
            mark = sa.tuple_(*(sa.literal(v) for v in after))
            query = query.where(position > mark if forward else position < mark)
        query = query.order_by(*(order if forward else [c.desc() for c in order])).limit(limit)
        return [((r.ipk, r.isk, r.pk, r.sk), r.item) for r in conn.execute(query)]

    # --- streams --------------------------------------------------------------------------------
    def add_stream_records(self, conn: sa.Connection, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        insert_rows(conn, R, [{"account_id": self.account, "table_name": table, **r} for r in rows])

    # --- helpers --------------------------------------------------------------------------------
    def _table(self, row: sa.Row[Any]) -> TableInfo:
        stream = row.stream
        return TableInfo(
            account_id=self.account,
            name=row.name,
            keys=KeySchema.of_json(row.key_schema),
            indexes=tuple(IndexSpec.of_json(i) for i in row.indexes),
            ttl_attribute=row.ttl_attribute,
            stream=None if stream is None else StreamSpec(**stream),
            managed_by=row.managed_by,
            created_at=row.created_at,
        )


MAX_KEYS_PER_READ = 100
_ITEM_COLUMNS = ("segment", "item", "size", "expires_at")
_EXPIRY = (
    I.update()
    .where(
        I.c.account_id == sa.bindparam("a"),
        I.c.table_name == sa.bindparam("t"),
        I.c.pk == sa.bindparam("pk"),
        I.c.sk == sa.bindparam("sk"),
    )
    .values(expires_at=sa.bindparam("e"))
)
_DELETE = I.delete().where(
    I.c.account_id == sa.bindparam("a"),
    I.c.table_name == sa.bindparam("t"),
    I.c.pk == sa.bindparam("pk"),
    I.c.sk == sa.bindparam("sk"),
)


def _upsert(insert: Any) -> Any:
    values: dict[str, Any] = {"account_id": sa.bindparam("a"), "table_name": sa.bindparam("t")}
    values |= {c: sa.bindparam(c, type_=I.c[c].type) for c in ("pk", "sk", *_ITEM_COLUMNS)}
    statement = insert(I).values(values)
    return statement.on_conflict_do_update(
        index_elements=[I.c.account_id, I.c.table_name, I.c.pk, I.c.sk],
        set_={c: statement.excluded[c] for c in _ITEM_COLUMNS},
    )


_UPSERT = {"sqlite": _upsert(sqlite.insert), "postgresql": _upsert(postgresql.insert)}


@functools.cache
def _read_statement(count: int, postgresql: bool, lock: bool) -> sa.TextClause:
    """SELECT of ``count`` keys with one bind per value (no expanding IN: compiled once per size).
    A join with the keys as a VALUES list: one index seek per key on both backends (SQLite scans
    the whole table for ``(pk, sk) IN (VALUES ...)`` and plans a 100-term OR slowly)."""
    keys = ", ".join(f"(:p{i}, :s{i})" for i in range(count))
    collate = ' COLLATE "C"' if postgresql else ""
    sql = (
        f"WITH k(pk, sk) AS (VALUES {keys}) SELECT i.pk, i.sk, i.item FROM k JOIN {I.name} i "
        f"ON i.account_id = :a AND i.table_name = :t AND i.pk = k.pk{collate} AND i.sk = k.sk{collate}"
    )
    return sa.text(sql + (" FOR UPDATE OF i" if lock else ""))


def _stream_json(stream: StreamSpec | None) -> dict[str, Any] | None:
    if stream is None:
        return None
    return {
        "view_type": stream.view_type,
        "function": stream.function,
        "batch_size": stream.batch_size,
        "max_attempts": stream.max_attempts,
    }


def stream_json(stream: StreamSpec | None) -> dict[str, Any] | None:
    return _stream_json(stream)


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
