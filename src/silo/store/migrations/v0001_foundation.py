"""Accounts, organizational units, access keys, guardrails and the audit log."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from silo.store.types import UtcDateTime


def upgrade(op: Any) -> None:
    op.create_table(
        "fleet_meta",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_fleet_meta"),
    )
    op.create_table(
        "fleet_ous",
        sa.Column("ou_id", sa.String(40), nullable=False),
        sa.Column("parent_id", sa.String(40), nullable=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("path", sa.String(2048), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("ou_id", name="pk_fleet_ous"),
        sa.UniqueConstraint("parent_id", "name", name="uq_fleet_ous_parent_id_name"),
    )
    op.create_index("ix_fleet_ous_path", "fleet_ous", ["path"])
    op.create_table(
        "accounts",
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("owner_email", sa.String(254), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("ou_id", sa.String(40), nullable=False),
        sa.Column("ou_path", sa.String(2048), nullable=False),
        sa.Column("concurrency_limit", sa.Integer, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("closed_at", UtcDateTime, nullable=True),
        sa.Column("purge_after", UtcDateTime, nullable=True),
        sa.PrimaryKeyConstraint("account_id", name="pk_accounts"),
        sa.UniqueConstraint("name", name="uq_accounts_name"),
    )
    op.create_index("ix_accounts_ou_id", "accounts", ["ou_id"])
    op.create_index("ix_accounts_ou_path", "accounts", ["ou_path"])
    op.create_index("ix_accounts_purge_after", "accounts", ["purge_after"])
    op.create_table(
        "account_tags",
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("value", sa.String(256), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "key", name="pk_account_tags"),
    )
    op.create_index("ix_account_tags_key_value", "account_tags", ["key", "value"])
    op.create_table(
        "access_keys",
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("key_id", sa.String(24), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(24), nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=True),
        sa.Column("last_used_at", UtcDateTime, nullable=True),
        sa.Column("revoked_at", UtcDateTime, nullable=True),
        sa.PrimaryKeyConstraint("account_id", "key_id", name="pk_access_keys"),
        sa.UniqueConstraint("key_id", name="uq_access_keys_key_id"),
    )
    op.create_table(
        "fleet_guardrails",
        sa.Column("policy_id", sa.String(24), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("description", sa.String(512), nullable=False),
        sa.Column("document", sa.JSON, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("policy_id", name="pk_fleet_guardrails"),
        sa.UniqueConstraint("name", name="uq_fleet_guardrails_name"),
    )
    op.create_table(
        "fleet_guardrail_attachments",
        sa.Column("policy_id", sa.String(24), nullable=False),
        sa.Column("target_id", sa.String(40), nullable=False),
        sa.Column("attached_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("policy_id", "target_id", name="pk_fleet_guardrail_attachments"),
    )
    op.create_index("ix_fleet_guardrail_attachments_target_id", "fleet_guardrail_attachments", ["target_id"])
    op.create_table(
        "fleet_audit_log",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            nullable=False,
            autoincrement=True,
        ),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("principal", sa.String(24), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("account_id", sa.String(12), nullable=True),
        sa.Column("reason", sa.String(512), nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_fleet_audit_log"),
    )
    op.create_index("ix_fleet_audit_log_account_id", "fleet_audit_log", ["account_id"])
