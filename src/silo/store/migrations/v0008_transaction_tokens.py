"""``ClientRequestToken`` of TransactWriteItems: the tokens an account used in the last ten minutes."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from silo.store.types import UtcDateTime


def upgrade(op: Any) -> None:
    op.create_table(
        "kv_transaction_tokens",
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("token", sa.String(36), nullable=False),
        sa.Column("request_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "token", name="pk_kv_transaction_tokens"),
    )
