"""Functions, versions, aliases, code artifacts, async invocations, the central DLQ, metrics, logs."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from silo.store.types import UtcDateTime


def _config() -> list[sa.Column[Any]]:
    return [
        sa.Column("handler", sa.String(128), nullable=False),
        sa.Column("runtime", sa.String(16), nullable=False),
        sa.Column("memory_size", sa.Integer, nullable=False),
        sa.Column("timeout", sa.Integer, nullable=False),
        sa.Column("environment", sa.JSON, nullable=False),
        sa.Column("description", sa.String(256), nullable=False),
        sa.Column("code_sha256", sa.String(64), nullable=False),
        sa.Column("code_size", sa.BigInteger, nullable=False),
        sa.Column("revision", sa.String(32), nullable=False),
    ]


def upgrade(op: Any) -> None:
    op.create_table(
        "fleet_code_artifacts",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("sha256", name="pk_fleet_code_artifacts"),
    )
    op.create_table(
        "functions",
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        *_config(),
        sa.Column("reserved_concurrency", sa.Integer, nullable=True),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("max_retry_attempts", sa.Integer, nullable=False),
        sa.Column("max_event_age", sa.Integer, nullable=False),
        sa.Column("on_failure", sa.JSON, nullable=True),
        sa.Column("last_version", sa.Integer, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "name", name="pk_functions"),
    )
    op.create_table(
        "function_versions",
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        *_config(),
        sa.Column("published_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "name", "version", name="pk_function_versions"),
    )
    op.create_table(
        "function_aliases",
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("alias", sa.String(128), nullable=False),
        sa.Column("version", sa.String(16), nullable=False),
        sa.Column("description", sa.String(256), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "name", "alias", name="pk_function_aliases"),
    )
    op.create_table(
        "async_invocations",
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("invocation_id", sa.String(36), nullable=False),
        sa.Column("function_name", sa.String(64), nullable=False),
        sa.Column("qualifier", sa.String(128), nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("throttles", sa.Integer, nullable=False),
        sa.Column("received_at", UtcDateTime, nullable=False),
        sa.Column("next_attempt_at", UtcDateTime, nullable=False),
        sa.Column("lease_until", UtcDateTime, nullable=True),
        sa.Column("last_error", sa.JSON, nullable=True),
        sa.PrimaryKeyConstraint("account_id", "invocation_id", name="pk_async_invocations"),
    )
    op.create_index("ix_async_invocations_next_attempt_at", "async_invocations", ["next_attempt_at"])
    op.create_table(
        "fleet_dead_letters",
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("entry_id", sa.String(36), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("target", sa.JSON, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("error", sa.JSON, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("first_at", UtcDateTime, nullable=False),
        sa.Column("last_at", UtcDateTime, nullable=False),
        sa.Column("redriven_at", UtcDateTime, nullable=True),
        sa.PrimaryKeyConstraint("account_id", "entry_id", name="pk_fleet_dead_letters"),
    )
    op.create_index("ix_fleet_dead_letters_last_at", "fleet_dead_letters", ["last_at"])
    op.create_table(
        "metric_samples",
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("namespace", sa.String(32), nullable=False),
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column("dimension", sa.String(256), nullable=False),
        sa.Column("period_start", UtcDateTime, nullable=False),
        sa.Column("sum", sa.Float, nullable=False),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.Column("min", sa.Float, nullable=False),
        sa.Column("max", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint(
            "account_id", "namespace", "metric", "dimension", "period_start", name="pk_metric_samples"
        ),
    )
    op.create_table(
        "log_events",
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("log_group", sa.String(128), nullable=False),
        sa.Column("event_id", sa.BigInteger, nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("request_id", sa.String(36), nullable=True),
        sa.Column("message", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "log_group", "event_id", name="pk_log_events"),
    )
