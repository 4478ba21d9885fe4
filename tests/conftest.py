"""Shared fixtures: every platform-backed test runs on SQLite and on PostgreSQL (see ``one_backend``).

``--backend sqlite|postgresql|all`` (default all). PostgreSQL is found at
``SILO_TEST_DATABASE_URL`` (default the machine's 127.0.0.1:5432, database ``test``); when it is not
reachable the suite tries to start the local cluster, and under ``CI=true`` a PostgreSQL that
cannot be reached is a failure, never a skip.

Each test gets a store of its own that is fully migrated and holds no rows, as a fresh one would,
without paying for the migrations every time (see ``_fresh_store``): on SQLite a copy of a database
migrated once per worker; on PostgreSQL its own schema, reused once the previous test's rows are
deleted (and renamed, so a connection a test leaked can never reach the next test's data). Mark a
test ``fresh_store`` to have its migrations run from nothing instead, and ``one_backend`` to run it
on PostgreSQL only when what it checks does not depend on the store.
"""

from __future__ import annotations

import functools
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from silo.platform import Initialised, ManagementHandle, Platform
from silo.settings import Settings
from silo.store import Store, migrate
from silo.store.schema import metadata

PG_URL = os.environ.get("SILO_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
RUN_ID = secrets.token_hex(3)
pytest_plugins = ["tests.helpers.functions", "tests.helpers.stacks"]
_pg_state: dict[str, str | None] = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--backend", default="all", choices=["sqlite", "postgresql", "all"])


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "fresh_store: run every migration from nothing for this test (no pre-migrated store)"
    )
    config.addinivalue_line(
        "markers",
        "one_backend: what the test checks does not depend on the store (its SQL is covered on every"
        " backend elsewhere): run it once, on PostgreSQL, or on the one backend --backend chose",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        choice = metafunc.config.getoption("--backend")
        backends = ["sqlite", "postgresql"] if choice == "all" else [choice]
        if metafunc.definition.get_closest_marker("one_backend") is not None:
            backends = backends[-1:]
        metafunc.parametrize("backend", backends)


def _pg_problem() -> str | None:
    """None when PostgreSQL answers; else why not (after one attempt to start it)."""
    if "problem" in _pg_state:
        return _pg_state["problem"]

    def ping() -> str | None:
        try:
            engine = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
            with engine.connect() as conn:
                conn.execute(sa.text("select 1"))
            engine.dispose()
            return None
        except Exception as exc:  # any connection failure is reported below
            return str(exc).splitlines()[0]

    problem = ping()
    if problem is not None and Path("/etc/postgresql").is_dir():
        versions = os.listdir("/etc/postgresql")
        for version in versions:
            subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
                check=False,
                capture_output=True,
                timeout=60,
            )
        problem = ping()
    _pg_state["problem"] = problem
    return problem


def shared_root() -> Path:
    """This test process's directory that functions may write to: test platforms show it inside the
    bubblewrap sandbox (``Settings.sandbox_shared_dirs``), as an operator would a shared file system."""
    root = Path(tempfile.gettempdir()) / f"silo-test-shared-{os.getpid()}"
    root.mkdir(mode=0o711, exist_ok=True)
    root.chmod(0o711)
    return root


@pytest.fixture(scope="session")
def shared_dir() -> Iterator[Path]:
    root = shared_root()
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def runtime_dir() -> Iterator[Path]:
    """Environments run as another user, so their code must not sit under pytest's private tmp."""
    path = Path(tempfile.mkdtemp(prefix="silo-test-runtime-"))
    path.chmod(0o711)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@functools.cache
def _pg_engine() -> sa.Engine:
    """The suite's own connection to PostgreSQL (schemas: made by the platforms, emptied by us)."""
    return sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1), pool_size=1)


def _new_schema() -> str:
    return f"silo_t{RUN_ID}_{secrets.token_hex(4)}"


class _EmptiedSchemas:
    """This worker's PostgreSQL schemas that are migrated to the latest version and hold no rows.

    A test takes one (or a new, empty schema when there is none: its platform migrates it); when
    the test is done, ``give_back`` deletes every row, restarts the sequences and renames the schema
    (connections find tables by the schema's name, so anything the test left running fails as it
    would on a dropped schema). A schema whose tables or version are not exactly the migrated ones
    (the test never opened a platform on it, or changed it) is dropped as before.
    """

    def __init__(self) -> None:
        self.ready: list[str] = []
        # Children before parents, so that no row is deleted while a foreign key points at it.
        self.tables = [table.name for table in reversed(metadata.sorted_tables)]

    def take(self) -> str:
        return self.ready.pop() if self.ready else _new_schema()

    def give_back(self, schema: str) -> None:
        renamed = self._empty(schema)
        if renamed is not None:
            self.ready.append(renamed)
            return
        with _pg_engine().begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))

    def drop_all(self) -> None:
        if self.ready:
            with _pg_engine().begin() as conn:
                for schema in self.ready:
                    conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            self.ready.clear()
            _pg_engine().dispose()

    def _empty(self, schema: str) -> str | None:
        """Empty ``schema`` and rename it; None (and nothing changed) when it cannot be reused as is."""
        renamed = _new_schema()
        try:
            with _pg_engine().begin() as conn:
                tables = conn.execute(
                    sa.text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": schema}
                ).scalars()
                if set(tables) != {*self.tables, migrate.VERSION_TABLE}:
                    return None
                version = conn.execute(
                    sa.text(f'SELECT max(version) FROM "{schema}".{migrate.VERSION_TABLE}')
                ).scalar()
                if version != len(migrate.available()):
                    return None
                sequences = conn.execute(
                    sa.text("SELECT sequencename FROM pg_sequences WHERE schemaname = :s"), {"s": schema}
                ).scalars()
                names = [f'"{schema}"."{table}"' for table in self.tables]
                # One round trip. The lock waits for any transaction still running on these tables,
                # then shuts every other out until the rows are gone and the schema is renamed.
                conn.exec_driver_sql(
                    "; ".join(
                        [
                            "SET LOCAL lock_timeout = '10s'",
                            f"LOCK TABLE {', '.join(names)} IN ACCESS EXCLUSIVE MODE",
                            *(f"DELETE FROM {name}" for name in names),
                            *(f'ALTER SEQUENCE "{schema}"."{sequence}" RESTART' for sequence in sequences),
                            f'ALTER SCHEMA "{schema}" RENAME TO "{renamed}"',
                        ]
                    )
                )
        except sa.exc.OperationalError:  # a lock not granted in time: drop the schema as before
            return None
        return renamed


_schemas = _EmptiedSchemas()


@pytest.fixture(scope="session", autouse=True)
def _drop_emptied_schemas() -> Iterator[None]:
    yield
    _schemas.drop_all()


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database with every migration applied and no rows (one per worker)."""
    path = tmp_path_factory.mktemp("migrated-sqlite") / "silo.db"
    store = Store(f"sqlite:///{path}", strict_scoping=True)
    store.migrate()
    store.dispose()
    return path


def _fresh_store(request: pytest.FixtureRequest, home: Path) -> None:
    """Put a migrated, empty copy of the SQLite database where the platform will look for it."""
    if request.node.get_closest_marker("fresh_store") is not None:
        return
    template: Path = request.getfixturevalue("_migrated_sqlite")
    home.mkdir(parents=True)
    for suffix in ("", "-wal", "-shm"):
        if template.with_name(template.name + suffix).exists():
            shutil.copyfile(template.with_name(template.name + suffix), home / f"silo.db{suffix}")


@pytest.fixture
def settings(
    backend: str, tmp_path: Path, runtime_dir: Path, request: pytest.FixtureRequest
) -> Iterator[Settings]:
    home = tmp_path / "silo-home"
    common: dict[str, object] = {
        "strict_scoping": True,
        "async_retry_base_s": 0.05,
        "events_retry_base_s": 0.05,
        "runtime_dir": runtime_dir,
        "sandbox_shared_dirs": (shared_root(),),
    }
    if backend == "sqlite":
        _fresh_store(request, home)
        yield Settings(home=home).with_(**common)
        return
    problem = _pg_problem()
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {PG_URL} is required in CI: {problem}")
        pytest.skip(f"PostgreSQL at {PG_URL} not reachable: {problem}")
    fresh = request.node.get_closest_marker("fresh_store") is not None
    schema = _new_schema() if fresh else _schemas.take()
    yield Settings(home=home, database_url=PG_URL, database_schema=schema).with_(**common)
    _schemas.give_back(schema)


@pytest.fixture
def platform(settings: Settings) -> Iterator[Platform]:
    opened = Platform.open(settings)
    yield opened
    opened.close()


@pytest.fixture
def init(platform: Platform) -> Initialised:
    made = platform.initialise()
    assert made is not None
    return made


@pytest.fixture
def mgmt(platform: Platform, init: Initialised) -> ManagementHandle:
    return platform.management(platform.authenticate(init.root_key.token))
