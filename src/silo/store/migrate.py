"""Apply the versioned migrations in ``silo.store.migrations`` that a database has not seen."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from types import ModuleType
from typing import Any

import sqlalchemy as sa
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext

from silo.store import migrations

VERSION_TABLE = "silo_schema_version"


def available() -> list[tuple[int, str, Callable[[Any], None]]]:
    """All migrations shipped with this code, oldest first, as (version, name, upgrade)."""
    found: list[tuple[int, str, Callable[[Any], None]]] = []
    for info in pkgutil.iter_modules(migrations.__path__):
        if not info.name.startswith("v"):
            continue
        module: ModuleType = importlib.import_module(f"{migrations.__name__}.{info.name}")
        found.append((int(info.name[1:5]), info.name, module.upgrade))
    found.sort()
    versions = [v for v, _, _ in found]
    if versions != list(range(1, len(versions) + 1)):
        raise RuntimeError(f"migration versions are not contiguous: {versions}")
    return found


def current_version(conn: sa.Connection) -> int:
    if not sa.inspect(conn).has_table(VERSION_TABLE):
        return 0
    value = conn.execute(sa.text(f"SELECT max(version) FROM {VERSION_TABLE}")).scalar()
    return int(value or 0)


def upgrade(conn: sa.Connection) -> list[str]:
    """Bring the schema up to date inside the caller's transaction; returns what was applied."""
    if not sa.inspect(conn).has_table(VERSION_TABLE):
        conn.execute(
            sa.text(f"CREATE TABLE {VERSION_TABLE} (version INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        )
    have = current_version(conn)
    applied: list[str] = []
    op = Operations(MigrationContext.configure(conn))
    for version, name, run in available():
        if version <= have:
            continue
        run(op)
        conn.execute(
            sa.text(f"INSERT INTO {VERSION_TABLE} (version, name) VALUES (:v, :n)"), {"v": version, "n": name}
        )
        applied.append(name)
    return applied
