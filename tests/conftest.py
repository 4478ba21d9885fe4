"""Shared fixtures: every platform-backed test runs on SQLite and on PostgreSQL.

``--backend sqlite|postgresql|all`` (default all). PostgreSQL is found at
``SILO_TEST_DATABASE_URL`` (default the machine's 127.0.0.1:5432, database ``test``); when it is not
reachable the suite tries to start the local cluster, and under ``CI=true`` a PostgreSQL that
cannot be reached is a failure, never a skip. Each test gets its own schema, dropped afterwards.
"""

from __future__ import annotations

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

PG_URL = os.environ.get("SILO_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
RUN_ID = secrets.token_hex(3)
pytest_plugins = ["tests.helpers.functions", "tests.helpers.stacks"]
_pg_state: dict[str, str | None] = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--backend", default="all", choices=["sqlite", "postgresql", "all"])


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        choice = metafunc.config.getoption("--backend")
        backends = ["sqlite", "postgresql"] if choice == "all" else [choice]
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


@pytest.fixture
def runtime_dir() -> Iterator[Path]:
    """Environments run as another user, so their code must not sit under pytest's private tmp."""
    path = Path(tempfile.mkdtemp(prefix="silo-test-runtime-"))
    path.chmod(0o711)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def settings(backend: str, tmp_path: Path, runtime_dir: Path) -> Iterator[Settings]:
    home = tmp_path / "silo-home"
    common: dict[str, object] = {
        "strict_scoping": True,
        "async_retry_base_s": 0.05,
        "events_retry_base_s": 0.05,
        "runtime_dir": runtime_dir,
    }
    if backend == "sqlite":
        yield Settings(home=home).with_(**common)
        return
    problem = _pg_problem()
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {PG_URL} is required in CI: {problem}")
        pytest.skip(f"PostgreSQL at {PG_URL} not reachable: {problem}")
    schema = f"silo_t{RUN_ID}_{secrets.token_hex(4)}"
    yield Settings(home=home, database_url=PG_URL, database_schema=schema).with_(**common)
    engine = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


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
