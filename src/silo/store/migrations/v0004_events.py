"""Event buses, rules (and schedules), targets, and the durable delivery queue."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from silo.store.types import UtcDateTime


def upgrade(op: Any) -> None:
    op.create_table(
        "event_buses",
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("description", sa.String(512), nullable=False),
        sa.Column("rules_version", sa.Integer, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "name", name="pk_event_buses"),
    )
    op.create_table(
        "event_rules",
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("bus_name", sa.String(256), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("pattern", sa.Text, nullable=True),
        sa.Column("schedule_expression", sa.String(256), nullable=True),
        sa.Column("schedule_timezone", sa.String(64), nullable=True),
        sa.Column("schedule_window_minutes", sa.Integer, nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("description", sa.String(512), nullable=False),
        sa.Column("managed_by", sa.String(128), nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("last_fired_at", UtcDateTime, nullable=True),
        sa.PrimaryKeyConstraint("account_id", "bus_name", "name", name="pk_event_rules"),
    )
    op.create_index("ix_event_rules_schedule_expression", "event_rules", ["schedule_expression"])
    op.create_table(
        "event_targets",
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("bus_name", sa.String(256), nullable=False),
        sa.Column("rule_name", sa.String(64), nullable=False),
        sa.Column("target_id", sa.String(64), nullable=False),
        sa.Column("arn", sa.String(1600), nullable=False),
        sa.Column("input", sa.JSON, nullable=True),
        sa.Column("retry_policy", sa.JSON, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "bus_name", "rule_name", "target_id", name="pk_event_targets"),
    )
    op.create_table(
        "event_deliveries",
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("delivery_id", sa.String(36), nullable=False),
        sa.Column("bus_name", sa.String(256), nullable=False),
        sa.Column("rule_name", sa.String(64), nullable=False),
        sa.Column("target_id", sa.String(64), nullable=False),
        sa.Column("arn", sa.String(1600), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("hops", sa.Integer, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("max_attempts", sa.Integer, nullable=False),
        sa.Column("max_age_s", sa.Integer, nullable=False),
        sa.Column("received_at", UtcDateTime, nullable=False),
        sa.Column("next_attempt_at", UtcDateTime, nullable=False),
        sa.Column("last_error", sa.JSON, nullable=True),
        sa.PrimaryKeyConstraint("account_id", "delivery_id", name="pk_event_deliveries"),
    )
    op.create_index("ix_event_deliveries_next_attempt_at", "event_deliveries", ["next_attempt_at"])
