"""Stacks (templates in one account), stack sets, fleet operations, the management event log."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from silo.store.types import UtcDateTime


def upgrade(op: Any) -> None:
    op.create_table(
        "fleet_templates",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("sha256", name="pk_fleet_templates"),
    )
    op.create_table(
        "stacks",
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("stack_id", sa.String(256), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("status_reason", sa.Text, nullable=False),
        sa.Column("template_sha256", sa.String(64), nullable=False),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("code", sa.JSON, nullable=False),
        sa.Column("outputs", sa.JSON, nullable=False),
        sa.Column("description", sa.String(1024), nullable=False),
        sa.Column("stack_set", sa.String(128), nullable=True),
        sa.Column("operation_id", sa.String(36), nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "name", name="pk_stacks"),
    )
    op.create_table(
        "stack_resources",
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("stack_name", sa.String(128), nullable=False),
        sa.Column("logical_id", sa.String(255), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("physical_name", sa.String(256), nullable=False),
        sa.Column("arn", sa.String(512), nullable=False),
        sa.Column("properties", sa.JSON, nullable=False),
        sa.Column("properties_sha256", sa.String(64), nullable=False),
        sa.Column("revision", sa.String(32), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "stack_name", "logical_id", name="pk_stack_resources"),
        sa.UniqueConstraint(
            "account_id", "kind", "physical_name", name="uq_stack_resources_account_id_kind_physical_name"
        ),
    )
    op.create_table(
        "stack_events",
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("stack_name", sa.String(128), nullable=False),
        sa.Column("event_id", sa.String(40), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("logical_id", sa.String(255), nullable=False),
        sa.Column("resource_type", sa.String(64), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "stack_name", "event_id", name="pk_stack_events"),
    )
    op.create_table(
        "stack_change_sets",
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("stack_name", sa.String(128), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("template_sha256", sa.String(64), nullable=False),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("code", sa.JSON, nullable=False),
        sa.Column("base_updated_at", UtcDateTime, nullable=True),
        sa.Column("changes", sa.JSON, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("executed_at", UtcDateTime, nullable=True),
        sa.PrimaryKeyConstraint("account_id", "stack_name", "name", name="pk_stack_change_sets"),
    )
    op.create_table(
        "fleet_stack_sets",
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("description", sa.String(1024), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("template_sha256", sa.String(64), nullable=False),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("code", sa.JSON, nullable=False),
        sa.Column("auto_deployment", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_fleet_stack_sets"),
    )
    op.create_table(
        "fleet_stack_instances",
        sa.Column("stack_set", sa.String(128), nullable=False),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("overrides", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("operation_id", sa.String(36), nullable=True),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("stack_set", "account_id", name="pk_fleet_stack_instances"),
    )
    op.create_index("ix_fleet_stack_instances_account_id", "fleet_stack_instances", ["account_id"])
    op.create_table(
        "fleet_operations",
        sa.Column("operation_id", sa.String(36), nullable=False),
        sa.Column("stack_set", sa.String(128), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("preferences", sa.JSON, nullable=False),
        sa.Column("waves", sa.Integer, nullable=False),
        sa.Column("current_wave", sa.Integer, nullable=False),
        sa.Column("wave_done_at", UtcDateTime, nullable=True),
        sa.Column("owner", sa.String(64), nullable=True),
        sa.Column("lease_until", UtcDateTime, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("started_at", UtcDateTime, nullable=True),
        sa.Column("ended_at", UtcDateTime, nullable=True),
        sa.PrimaryKeyConstraint("operation_id", name="pk_fleet_operations"),
    )
    op.create_index(
        "ix_fleet_operations_stack_set_created_at", "fleet_operations", ["stack_set", "created_at"]
    )
    op.create_index("ix_fleet_operations_status_created_at", "fleet_operations", ["status", "created_at"])
    op.create_table(
        "fleet_operation_targets",
        sa.Column("operation_id", sa.String(36), nullable=False),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("wave", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UtcDateTime, nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("operation_id", "account_id", name="pk_fleet_operation_targets"),
    )
    op.create_index(
        "ix_fleet_operation_targets_operation_id_wave_status",
        "fleet_operation_targets",
        ["operation_id", "wave", "status"],
    )
    op.create_table(
        "fleet_management_events",
        sa.Column("event_id", sa.String(40), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("detail_type", sa.String(128), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_fleet_management_events"),
    )
    op.create_index("ix_fleet_management_events_at", "fleet_management_events", ["at"])
