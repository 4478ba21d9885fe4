"""The one schema, for both backends.

Naming says who owns a row: tables whose primary key starts with ``account_id`` belong to one
account and every statement on them must filter by it (see ``scoping``); tables prefixed
``fleet_`` are management-plane state that spans accounts.
"""

from __future__ import annotations

import sqlalchemy as sa

from silo.store.types import UtcDateTime

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

fleet_meta = sa.Table(
    "fleet_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

fleet_ous = sa.Table(
    "fleet_ous",
    metadata,
    sa.Column("ou_id", sa.String(40), primary_key=True),
    sa.Column("parent_id", sa.String(40), nullable=True),
    sa.Column("name", sa.String(128), nullable=False),
    # Materialised path of ids from the root, "/r-ab12/ou-ab12-x/": OUs never move, so the
    # path never changes and "everything under this OU" is a prefix match.
    sa.Column("path", sa.String(2048), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("parent_id", "name"),
    sa.Index(None, "path"),
)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("owner_email", sa.String(254), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("ou_id", sa.String(40), nullable=False, index=True),
    sa.Column("ou_path", sa.String(2048), nullable=False, index=True),
    sa.Column("concurrency_limit", sa.Integer, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("closed_at", UtcDateTime, nullable=True),
    sa.Column("purge_after", UtcDateTime, nullable=True, index=True),
)

account_tags = sa.Table(
    "account_tags",
    metadata,
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("key", sa.String(128), primary_key=True),
    sa.Column("value", sa.String(256), nullable=False),
    sa.Index(None, "key", "value"),
)

access_keys = sa.Table(
    "access_keys",
    metadata,
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("key_id", sa.String(24), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_by", sa.String(24), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=True),
    sa.Column("last_used_at", UtcDateTime, nullable=True),
    sa.Column("revoked_at", UtcDateTime, nullable=True),
    sa.UniqueConstraint("key_id"),
)

fleet_guardrails = sa.Table(
    "fleet_guardrails",
    metadata,
    sa.Column("policy_id", sa.String(24), primary_key=True),
    sa.Column("name", sa.String(128), nullable=False, unique=True),
    sa.Column("description", sa.String(512), nullable=False),
    sa.Column("document", sa.JSON, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

fleet_guardrail_attachments = sa.Table(
    "fleet_guardrail_attachments",
    metadata,
    sa.Column("policy_id", sa.String(24), primary_key=True),
    sa.Column("target_id", sa.String(40), primary_key=True),
    sa.Column("attached_at", UtcDateTime, nullable=False),
    sa.Index(None, "target_id"),
)

fleet_audit_log = sa.Table(
    "fleet_audit_log",
    metadata,
    sa.Column(
        "seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("principal", sa.String(24), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("account_id", sa.String(12), nullable=True, index=True),
    sa.Column("reason", sa.String(512), nullable=False),
    sa.Column("details", sa.JSON, nullable=False),
)


# --- functions and runtime (migration 0002) ---------------------------------------------------------

fleet_code_artifacts = sa.Table(
    "fleet_code_artifacts",
    metadata,
    # Content-addressed: the same zip deployed to 10,000 accounts is one row. Rows are reachable only
    # through a function that references them; the account plane can never name a hash directly.
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

_function_config = (
    ("handler", sa.String(128), False),
    ("runtime", sa.String(16), False),
    ("memory_size", sa.Integer, False),
    ("timeout", sa.Integer, False),
    ("environment", sa.JSON, False),
    ("description", sa.String(256), False),
    ("code_sha256", sa.String(64), False),
    ("code_size", sa.BigInteger, False),
    ("revision", sa.String(32), False),
)


def _config_columns() -> list[sa.Column[object]]:
    return [sa.Column(name, type_, nullable=nullable) for name, type_, nullable in _function_config]


functions = sa.Table(
    "functions",
    metadata,
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("name", sa.String(64), primary_key=True),
    *_config_columns(),
    sa.Column("reserved_concurrency", sa.Integer, nullable=True),
    sa.Column("tags", sa.JSON, nullable=False),
    sa.Column("max_retry_attempts", sa.Integer, nullable=False),
    sa.Column("max_event_age", sa.Integer, nullable=False),
    sa.Column("on_failure", sa.JSON, nullable=True),
    sa.Column("last_version", sa.Integer, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)
# The functions that reserve concurrency: an account's reserved total reads only these (v0007).
sa.Index(
    "ix_functions_reserved",
    functions.c.account_id,
    functions.c.reserved_concurrency,
    sqlite_where=functions.c.reserved_concurrency.is_not(None),
    postgresql_where=functions.c.reserved_concurrency.is_not(None),
)

function_versions = sa.Table(
    "function_versions",
    metadata,
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    *_config_columns(),
    sa.Column("published_at", UtcDateTime, nullable=False),
)

function_aliases = sa.Table(
    "function_aliases",
    metadata,
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("alias", sa.String(128), primary_key=True),
    sa.Column("version", sa.String(16), nullable=False),
    sa.Column("description", sa.String(256), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

async_invocations = sa.Table(
    "async_invocations",
    metadata,
    # Durable before accepted: an Event invoke is a row here before the caller gets its 202.
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("invocation_id", sa.String(36), primary_key=True),
    sa.Column("function_name", sa.String(64), nullable=False),
    sa.Column("qualifier", sa.String(128), nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("throttles", sa.Integer, nullable=False),
    sa.Column("received_at", UtcDateTime, nullable=False),
    sa.Column("next_attempt_at", UtcDateTime, nullable=False, index=True),
    sa.Column("lease_until", UtcDateTime, nullable=True),
    sa.Column("last_error", sa.JSON, nullable=True),
)

fleet_dead_letters = sa.Table(
    "fleet_dead_letters",
    metadata,
    # One central DLQ for every account; account_id leads the key so each entry is its account's.
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("entry_id", sa.String(36), primary_key=True),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("target", sa.JSON, nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),
    sa.Column("reason", sa.String(64), nullable=False),
    sa.Column("error", sa.JSON, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("first_at", UtcDateTime, nullable=False),
    sa.Column("last_at", UtcDateTime, nullable=False, index=True),
    sa.Column("redriven_at", UtcDateTime, nullable=True),
)

metric_samples = sa.Table(
    "metric_samples",
    metadata,
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("namespace", sa.String(32), primary_key=True),
    sa.Column("metric", sa.String(64), primary_key=True),
    sa.Column("dimension", sa.String(256), primary_key=True),
    sa.Column("period_start", UtcDateTime, primary_key=True),
    sa.Column("sum", sa.Float, nullable=False),
    sa.Column("count", sa.BigInteger, nullable=False),
    sa.Column("min", sa.Float, nullable=False),
    sa.Column("max", sa.Float, nullable=False),
)

log_events = sa.Table(
    "log_events",
    metadata,
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("log_group", sa.String(128), primary_key=True),
    sa.Column("event_id", sa.BigInteger, primary_key=True),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("request_id", sa.String(36), nullable=True),
    sa.Column("message", sa.Text, nullable=False),
)


# --- stacks and fleet rollout (migration 0003) ----------------------------------------------------

fleet_templates = sa.Table(
    "fleet_templates",
    metadata,
    # Content-addressed template bodies: a stack set's template is stored once for 10,000 stacks.
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

stacks = sa.Table(
    "stacks",
    metadata,
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("stack_id", sa.String(256), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("status_reason", sa.Text, nullable=False),
    sa.Column("template_sha256", sa.String(64), nullable=False),
    sa.Column("parameters", sa.JSON, nullable=False),
    sa.Column("code", sa.JSON, nullable=False),
    sa.Column("outputs", sa.JSON, nullable=False),
    sa.Column("description", sa.String(1024), nullable=False),
    # Set when a stack set manages the stack: account-plane writes to it are refused.
    sa.Column("stack_set", sa.String(128), nullable=True),
    sa.Column("operation_id", sa.String(36), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

stack_resources = sa.Table(
    "stack_resources",
    metadata,
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("stack_name", sa.String(128), primary_key=True),
    sa.Column("logical_id", sa.String(255), primary_key=True),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("physical_name", sa.String(256), nullable=False),
    sa.Column("arn", sa.String(512), nullable=False),
    sa.Column("properties", sa.JSON, nullable=False),
    sa.Column("properties_sha256", sa.String(64), nullable=False),
    # The function (or state machine) revision the stack wrote: another one on the function means drift.
    sa.Column("revision", sa.String(32), nullable=True),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    # One owner per physical resource: two stacks can never manage the same function.
    sa.UniqueConstraint("account_id", "kind", "physical_name"),
)

stack_events = sa.Table(
    "stack_events",
    metadata,
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("stack_name", sa.String(128), primary_key=True),
    sa.Column("event_id", sa.String(40), primary_key=True),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("logical_id", sa.String(255), nullable=False),
    sa.Column("resource_type", sa.String(64), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
)

stack_change_sets = sa.Table(
    "stack_change_sets",
    metadata,
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("stack_name", sa.String(128), primary_key=True),
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("template_sha256", sa.String(64), nullable=False),
    sa.Column("parameters", sa.JSON, nullable=False),
    sa.Column("code", sa.JSON, nullable=False),
    sa.Column("base_updated_at", UtcDateTime, nullable=True),
    sa.Column("changes", sa.JSON, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("executed_at", UtcDateTime, nullable=True),
)

fleet_stack_sets = sa.Table(
    "fleet_stack_sets",
    metadata,
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("description", sa.String(1024), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("template_sha256", sa.String(64), nullable=False),
    sa.Column("parameters", sa.JSON, nullable=False),
    sa.Column("code", sa.JSON, nullable=False),
    # {"enabled": bool, "retain_stacks_on_removal": bool, "ous": [ou_id, ...]}
    sa.Column("auto_deployment", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

fleet_stack_instances = sa.Table(
    "fleet_stack_instances",
    metadata,
    sa.Column("stack_set", sa.String(128), primary_key=True),
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("overrides", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("status_reason", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("operation_id", sa.String(36), nullable=True),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Index(None, "account_id"),
)

fleet_operations = sa.Table(
    "fleet_operations",
    metadata,
    sa.Column("operation_id", sa.String(36), primary_key=True),
    sa.Column("stack_set", sa.String(128), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("status_reason", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    # What to deploy (template sha256, parameters, code map): the stack set may move on meanwhile.
    sa.Column("spec", sa.JSON, nullable=False),
    # {"preferences": {...}, "waves": [{"name", "soak_seconds", "halt_on_failure"}, ...]}
    sa.Column("preferences", sa.JSON, nullable=False),
    sa.Column("waves", sa.Integer, nullable=False),
    sa.Column("current_wave", sa.Integer, nullable=False),
    sa.Column("wave_done_at", UtcDateTime, nullable=True),
    sa.Column("owner", sa.String(64), nullable=True),
    sa.Column("lease_until", UtcDateTime, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("started_at", UtcDateTime, nullable=True),
    sa.Column("ended_at", UtcDateTime, nullable=True),
    sa.Index(None, "status", "created_at"),
    sa.Index(None, "stack_set", "created_at"),
)

fleet_operation_targets = sa.Table(
    "fleet_operation_targets",
    metadata,
    sa.Column("operation_id", sa.String(36), primary_key=True),
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("wave", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UtcDateTime, nullable=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Index(None, "operation_id", "wave", "status"),
    sa.Index(None, "account_id"),  # an account's deployments (the account factory follows them)
)

fleet_management_events = sa.Table(
    "fleet_management_events",
    metadata,
    # The log of the fleet's management events; each is also put on the management account's
    # default event bus in the same transaction (silo.events), where rules react to it.
    sa.Column("event_id", sa.String(40), primary_key=True),
    sa.Column("at", UtcDateTime, nullable=False, index=True),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("detail_type", sa.String(128), nullable=False),
    sa.Column("detail", sa.JSON, nullable=False),
)


event_buses = sa.Table(
    "event_buses",
    metadata,
    # ``default`` exists in every account without a row; it gets one when its rules first change.
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("name", sa.String(256), primary_key=True),
    sa.Column("description", sa.String(512), nullable=False),
    # Bumped by every rule or target change: nodes compare it to their cached index of the bus.
    sa.Column("rules_version", sa.Integer, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

event_rules = sa.Table(
    "event_rules",
    metadata,
    # bus_name "schedules:<group>" holds EventBridge Scheduler schedules (':' is not valid in a bus name).
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("bus_name", sa.String(256), primary_key=True),
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("pattern", sa.Text, nullable=True),
    sa.Column("schedule_expression", sa.String(256), nullable=True, index=True),
    sa.Column("schedule_timezone", sa.String(64), nullable=True),
    sa.Column("schedule_window_minutes", sa.Integer, nullable=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("description", sa.String(512), nullable=False),
    sa.Column("managed_by", sa.String(128), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    # Compare-and-set by whichever node fires the schedule, so a fire time is delivered once.
    sa.Column("last_fired_at", UtcDateTime, nullable=True),
)

event_targets = sa.Table(
    "event_targets",
    metadata,
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("bus_name", sa.String(256), primary_key=True),
    sa.Column("rule_name", sa.String(64), primary_key=True),
    sa.Column("target_id", sa.String(64), primary_key=True),
    sa.Column("arn", sa.String(1600), nullable=False),
    sa.Column("input", sa.JSON, nullable=True),
    sa.Column("retry_policy", sa.JSON, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

event_deliveries = sa.Table(
    "event_deliveries",
    metadata,
    # Durable before PutEvents answers: one row per (event, matched target), deleted once delivered.
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("delivery_id", sa.String(36), primary_key=True),
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
    sa.Column("next_attempt_at", UtcDateTime, nullable=False, index=True),
    sa.Column("last_error", sa.JSON, nullable=True),
)


state_machines = sa.Table(
    "state_machines",
    metadata,
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("name", sa.String(80), primary_key=True),
    sa.Column("revision", sa.String(36), nullable=False),
    sa.Column("description", sa.String(256), nullable=False),
    sa.Column("managed_by", sa.String(128), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

state_machine_revisions = sa.Table(
    "state_machine_revisions",
    metadata,
    # Executions run the definition they started with: every update is a new revision row.
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("state_machine", sa.String(80), primary_key=True),
    sa.Column("revision", sa.String(36), primary_key=True),
    sa.Column("definition", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

workflow_executions = sa.Table(
    "workflow_executions",
    metadata,
    # Root executions and the Map items / Parallel branches that wait on the outside world
    # (children have a parent and are never listed). ``snapshot`` is the interpreter's state.
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("execution_id", sa.String(36), primary_key=True),
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
    sa.Column("branch", sa.JSON, nullable=True),  # children: the path to their machine
    sa.Column("history_length", sa.Integer, nullable=False),
    sa.Column("redrive_count", sa.Integer, nullable=False),
    sa.Column("callback", sa.JSON, nullable=True),  # a .sync parent task waiting for this one
    sa.UniqueConstraint("account_id", "state_machine", "name"),
    sa.Index(None, "account_id", "state_machine", "started_at"),
    sa.Index(None, "account_id", "parent_id"),
)

workflow_history = sa.Table(
    "workflow_history",
    metadata,
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("execution_id", sa.String(36), primary_key=True),  # the root execution
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("details", sa.JSON, nullable=False),
)

workflow_work = sa.Table(
    "workflow_work",
    metadata,
    # Durable work for executions: events to apply (a start, a timer, a child's or a callback's
    # result) and tasks to run, each due at ``due_at`` (a claim leases it by moving ``due_at``).
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("work_id", sa.String(48), primary_key=True),
    sa.Column("root_id", sa.String(36), nullable=False),
    sa.Column("execution_id", sa.String(36), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("body", sa.JSON, nullable=False),
    sa.Column("token", sa.String(64), nullable=True),
    sa.Column("due_at", UtcDateTime, nullable=False, index=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Index(None, "account_id", "root_id"),
)


# Key columns hold order-preserving encodings (silo.tables.values.sort_key_text): compared as bytes,
# which is SQLite's default and PostgreSQL's "C" collation.
KeyText = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")

kv_tables = sa.Table(
    "kv_tables",
    metadata,
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("key_schema", sa.JSON, nullable=False),  # {"partition": [name, type], "sort": [...] | null}
    sa.Column("indexes", sa.JSON, nullable=False),  # global secondary indexes, as created
    sa.Column("ttl_attribute", sa.String(255), nullable=True),
    sa.Column("stream", sa.JSON, nullable=True),  # view type and the function records go to
    sa.Column("stream_seq", sa.BigInteger, nullable=False),  # the last change record's number
    sa.Column("managed_by", sa.String(128), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

kv_items = sa.Table(
    "kv_items",
    metadata,
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("table_name", sa.String(255), primary_key=True),
    sa.Column("pk", KeyText, primary_key=True),
    sa.Column("sk", KeyText, primary_key=True),  # "" without a sort key
    sa.Column("segment", sa.Integer, nullable=False),  # a hash of pk in [0, 65536): parallel Scan
    sa.Column("item", sa.JSON, nullable=False),  # DynamoDB typed JSON
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=True, index=True),  # TTL, epoch seconds
)

kv_index_items = sa.Table(
    "kv_index_items",
    metadata,
    # One row per (global secondary index, item that has the index's key attributes).
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("table_name", sa.String(255), primary_key=True),
    sa.Column("index_name", sa.String(255), primary_key=True),
    sa.Column("ipk", KeyText, primary_key=True),
    sa.Column("isk", KeyText, primary_key=True),
    sa.Column("pk", KeyText, primary_key=True),
    sa.Column("sk", KeyText, primary_key=True),
)

kv_stream_records = sa.Table(
    "kv_stream_records",
    metadata,
    # Change records waiting for the table's stream function, in order per partition key.
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("table_name", sa.String(255), primary_key=True),
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("pk", KeyText, nullable=False),
    sa.Column("record", sa.JSON, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("due_at", UtcDateTime, nullable=False, index=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

kv_transaction_tokens = sa.Table(
    "kv_transaction_tokens",
    metadata,
    # TransactWriteItems' ClientRequestToken: a token an account used in the last ten minutes, and a
    # digest of the request it came with (v0008).
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("token", sa.String(36), primary_key=True),
    sa.Column("request_sha256", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)


def account_owned_tables() -> list[sa.Table]:
    """Tables whose rows belong to one account (``account_id`` leads the primary key)."""
    return [
        t
        for t in metadata.sorted_tables
        if t.primary_key.columns and next(iter(t.primary_key.columns)).name == "account_id"
    ]
