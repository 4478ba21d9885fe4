"""Key-value tables: their definitions, items, global secondary index entries, stream records."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from silo.store.types import UtcDateTime


def _key() -> Any:
    return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade(op: Any) -> None:
    op.create_table(
        "kv_tables",
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("key_schema", sa.JSON, nullable=False),
        sa.Column("indexes", sa.JSON, nullable=False),
        sa.Column("ttl_attribute", sa.String(255), nullable=True),
        sa.Column("stream", sa.JSON, nullable=True),
        sa.Column("stream_seq", sa.BigInteger, nullable=False),
        sa.Column("managed_by", sa.String(128), nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "name", name="pk_kv_tables"),
    )
    op.create_table(
        "kv_items",
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("table_name", sa.String(255), nullable=False),
        sa.Column("pk", _key(), nullable=False),
        sa.Column("sk", _key(), nullable=False),
        sa.Column("segment", sa.Integer, nullable=False),
        sa.Column("item", sa.JSON, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=True),
        sa.PrimaryKeyConstraint("account_id", "table_name", "pk", "sk", name="pk_kv_items"),
    )
    op.create_index("ix_kv_items_expires_at", "kv_items", ["expires_at"])
    op.create_table(
        "kv_index_items",
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("table_name", sa.String(255), nullable=False),
        sa.Column("index_name", sa.String(255), nullable=False),
        sa.Column("ipk", _key(), nullable=False),
        sa.Column("isk", _key(), nullable=False),
        sa.Column("pk", _key(), nullable=False),
        sa.Column("sk", _key(), nullable=False),
        sa.PrimaryKeyConstraint(
            "account_id", "table_name", "index_name", "ipk", "isk", "pk", "sk", name="pk_kv_index_items"
        ),
    )
    op.create_table(
        "kv_stream_records",
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("table_name", sa.String(255), nullable=False),
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False),
        sa.Column("pk", _key(), nullable=False),
        sa.Column("record", sa.JSON, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("due_at", UtcDateTime, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "table_name", "seq", name="pk_kv_stream_records"),
    )
    op.create_index("ix_kv_stream_records_due_at", "kv_stream_records", ["due_at"])
