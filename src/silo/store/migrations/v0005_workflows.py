"""State machines (with their revisions), executions, their history, and the durable work queue;
an index to find one account's fleet deployments (the account factory waits for them)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from silo.store.types import UtcDateTime


def upgrade(op: Any) -> None:
    op.create_table(
        "state_machines",
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("revision", sa.String(36), nullable=False),
        sa.Column("description", sa.String(256), nullable=False),
        sa.Column("managed_by", sa.String(128), nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "name", name="pk_state_machines"),
    )
    op.create_table(
        "state_machine_revisions",
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("state_machine", sa.String(80), nullable=False),
        sa.Column("revision", sa.String(36), nullable=False),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "state_machine", "revision", name="pk_state_machine_revisions"),
    )
    op.create_table(
        "workflow_executions",
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("execution_id", sa.String(36), nullable=False),
        sa.Column("root_id", sa.String(36), nullable=False),
        sa.Column("parent_id", sa.String(36), nullable=True),
        sa.Column("state_machine", sa.String(80), nullable=False),
        sa.Column("revision", sa.String(36), nullable=False),
        sa.Column("name", sa.String(160), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("input", sa.JSON, nullable=True),
        sa.Column("output", sa.JSON, nullable=True),
        sa.Column("error", sa.String(256), nullable=True),
        sa.Column("cause", sa.Text, nullable=True),
        sa.Column("started_at", UtcDateTime, nullable=False),
        sa.Column("stopped_at", UtcDateTime, nullable=True),
        sa.Column("snapshot", sa.JSON, nullable=False),
        sa.Column("branch", sa.JSON, nullable=True),
        sa.Column("history_length", sa.Integer, nullable=False),
        sa.Column("redrive_count", sa.Integer, nullable=False),
        sa.Column("callback", sa.JSON, nullable=True),
        sa.PrimaryKeyConstraint("account_id", "execution_id", name="pk_workflow_executions"),
        sa.UniqueConstraint(
            "account_id", "state_machine", "name", name="uq_workflow_executions_account_id_state_machine_name"
        ),
    )
    op.create_index(
        "ix_workflow_executions_account_id_state_machine_started_at",
        "workflow_executions",
        ["account_id", "state_machine", "started_at"],
    )
    op.create_index(
        "ix_workflow_executions_account_id_parent_id", "workflow_executions", ["account_id", "parent_id"]
    )
    op.create_table(
        "workflow_history",
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("execution_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "execution_id", "seq", name="pk_workflow_history"),
    )
    op.create_table(
        "workflow_work",
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("work_id", sa.String(48), nullable=False),
        sa.Column("root_id", sa.String(36), nullable=False),
        sa.Column("execution_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
        sa.Column("token", sa.String(64), nullable=True),
        sa.Column("due_at", UtcDateTime, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "work_id", name="pk_workflow_work"),
    )
    op.create_index("ix_workflow_work_due_at", "workflow_work", ["due_at"])
    op.create_index("ix_workflow_work_account_id_root_id", "workflow_work", ["account_id", "root_id"])
    op.create_index("ix_fleet_operation_targets_account_id", "fleet_operation_targets", ["account_id"])
