"""Running every migration in order gives exactly the declared schema, on each backend."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from silo.platform import Platform
from silo.store import migrate
from silo.store.schema import metadata

# Every other test starts from a store migrated once per worker and emptied (tests/conftest.py): these
# run the migrations from nothing, on each backend.
pytestmark = pytest.mark.fresh_store


def test_migrations_match_the_declared_schema(platform: Platform) -> None:
    with platform.store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    # The version table is the migrator's own bookkeeping, not part of the declared schema.
    diff = [d for d in diff if not (d[0] == "remove_table" and d[1].name == migrate.VERSION_TABLE)]
    assert diff == []


def test_migrating_twice_applies_nothing_the_second_time(platform: Platform) -> None:
    assert platform.store.migrate() == []
    with platform.store.read() as conn:
        assert migrate.current_version(conn) == len(migrate.available())


def test_every_table_is_either_account_owned_or_named_fleet(platform: Platform) -> None:
    for table in metadata.sorted_tables:
        first_pk = next(iter(table.primary_key.columns)).name
        assert first_pk == "account_id" or table.name.startswith("fleet_"), table.name
    with platform.store.read() as conn:
        names = set(sa.inspect(conn).get_table_names())
    assert {t.name for t in metadata.sorted_tables} <= names
