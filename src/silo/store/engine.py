"""``Store``: the database behind a platform, SQLite (embedded) or PostgreSQL (cluster)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url

from silo.errors import Conflict, ValidationError
from silo.store import migrate
from silo.store.scoping import install_scoping_guard

_MIGRATION_LOCK = 7_377_001  # pg_advisory_xact_lock key: one node migrates at a time


class Store:
    """An engine plus the few rules every caller relies on.

    ``read()`` gives a connection in a transaction that only reads; ``write()`` a transaction that
    takes the write lock up front on SQLite (``BEGIN IMMEDIATE``), so two writers queue on the
    busy timeout instead of failing on a lock upgrade.
    """

    def __init__(self, url: str, *, schema: str | None = None, strict_scoping: bool = False) -> None:
        self.url = normalise_url(url)
        self.schema = schema
        self.dialect = make_url(self.url).get_backend_name()
        self.engine = self._create_engine()
        dbapi = self.engine.dialect.dbapi
        assert dbapi is not None, "the dialect's driver is loaded by create_engine"
        self._driver_integrity_error: type[Exception] = dbapi.IntegrityError  # PEP 249
        # SQLite has one writer at a time. Its busy handler waits by sleeping (1, 2, 5 ... 100 ms), so
        # this process's writers queue on a lock instead, which hands over the moment it is free;
        # other processes still meet the busy timeout. PostgreSQL writers need no such queue.
        self._write_lock: AbstractContextManager[object] = (
            threading.RLock() if self.dialect == "sqlite" else nullcontext()
        )
        if strict_scoping:
            install_scoping_guard(self.engine)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def _create_engine(self) -> sa.Engine:
        if self.dialect == "sqlite":
            database = make_url(self.url).database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            engine = sa.create_engine(
                self.url,
                connect_args={"check_same_thread": False, "timeout": 30, "isolation_level": None},
                pool_size=8,
                max_overflow=8,
            )
            event.listen(engine, "connect", _sqlite_on_connect)
            event.listen(engine, "begin", _sqlite_on_begin)
            return engine
        if self.dialect == "postgresql":
            connect_args: dict[str, Any] = {}
            if self.schema:
                connect_args["options"] = f"-csearch_path={self.schema}"
            return sa.create_engine(self.url, connect_args=connect_args, pool_size=10, max_overflow=10)
        raise ValidationError(
            f"SILO_DATABASE_URL: unsupported database {self.dialect!r} (use sqlite or postgresql)"
        )

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """A write transaction. A unique-key clash with a concurrent writer becomes a 409 ``Conflict``
        (the services check first; this covers the race between their check and the insert)."""
        try:
            with self._write_lock, self.engine.connect() as raw:
                conn = raw.execution_options(silo_write=True)
                conn.info[_AFTER_COMMIT] = []
                try:
                    with conn.begin():
                        yield conn
                    callbacks = conn.info[_AFTER_COMMIT]
                finally:
                    conn.info[_AFTER_COMMIT] = []
            for callback in callbacks:
                callback()
        except (sa.exc.IntegrityError, self._driver_integrity_error) as exc:  # the driver's: bulk paths
            cause = exc.orig if isinstance(exc, sa.exc.IntegrityError) else exc
            raise Conflict(
                "a concurrent request created or changed the same thing; nothing was written, retry",
                constraint=str(cause).splitlines()[0][:200],
            ) from None

    @staticmethod
    def after_commit(conn: sa.Connection, callback: Callable[[], object]) -> None:
        """Run ``callback`` once the write transaction of ``conn`` has committed (never if it rolls
        back): e.g. wake a dispatcher only when the rows it should find are visible."""
        conn.info[_AFTER_COMMIT].append(callback)

    def migrate(self) -> list[str]:
        """Create the schema (PostgreSQL: inside ``schema``) and apply pending migrations."""
        if self.dialect == "postgresql" and self.schema:
            with self.engine.connect() as conn, conn.begin():
                conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
        with self.write() as conn:
            if self.dialect == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
            return migrate.upgrade(conn)

    def dispose(self) -> None:
        self.engine.dispose()


_AFTER_COMMIT = "silo_after_commit"


def normalise_url(url: str) -> str:
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_on_begin(conn: sa.Connection) -> None:
    # pysqlite's own transaction handling is off (isolation_level=None); begin explicitly.
    immediate = conn.get_execution_options().get("silo_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
