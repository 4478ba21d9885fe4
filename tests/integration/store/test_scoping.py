"""The strict-scoping guard refuses account-owned queries that forget the account."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from silo.platform import Platform
from silo.store import UnscopedQuery
from silo.store.schema import access_keys, accounts, fleet_ous


def test_unfiltered_select_on_an_account_owned_table_is_refused(platform: Platform) -> None:
    with pytest.raises(UnscopedQuery, match="access_keys"), platform.store.read() as conn:
        conn.execute(sa.select(access_keys))


def test_filter_on_another_column_is_not_enough(platform: Platform) -> None:
    with pytest.raises(UnscopedQuery), platform.store.read() as conn:
        conn.execute(sa.select(access_keys).where(access_keys.c.name == "x"))


def test_unfiltered_update_and_delete_are_refused(platform: Platform) -> None:
    with pytest.raises(UnscopedQuery), platform.store.write() as conn:
        conn.execute(sa.update(accounts).values(status="CLOSED"))
    with pytest.raises(UnscopedQuery), platform.store.write() as conn:
        conn.execute(sa.delete(accounts))


def test_account_filter_and_declared_cross_account_queries_pass(platform: Platform) -> None:
    with platform.store.read() as conn:
        conn.execute(sa.select(access_keys).where(access_keys.c.account_id == "000000000001")).all()
        conn.execute(sa.select(accounts).execution_options(cross_account=True)).all()
        conn.execute(sa.select(fleet_ous)).all()  # fleet tables are management state by name
