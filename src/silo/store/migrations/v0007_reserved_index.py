"""An index of the functions that reserve concurrency, so an account's reserved total (read on every
first invocation of a function version) costs the few functions that reserve, not all of them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def upgrade(op: Any) -> None:
    op.create_index(
        "ix_functions_reserved",
        "functions",
        ["account_id", "reserved_concurrency"],
        sqlite_where=sa.text("reserved_concurrency IS NOT NULL"),
        postgresql_where=sa.text("reserved_concurrency IS NOT NULL"),
    )
