"""Settings, read once from the environment (``SILO_*``) or given explicitly."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from silo.errors import ValidationError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8777
SANDBOX_LEVELS = ("auto", "bubblewrap", "dedicated-user", "rlimits-only")  # as silo.runtime names them


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a platform is built from.

    Attributes:
        home: ``SILO_HOME``, the directory for the embedded database, the root key and artifacts.
        database_url: ``SILO_DATABASE_URL``; default a SQLite file in ``home``; ``postgresql://...``
            selects PostgreSQL.
        database_schema: ``SILO_DATABASE_SCHEMA``, PostgreSQL only: the schema to keep tables in
            (tests give each run its own).
        host, port: where ``silo server`` listens (``SILO_HOST``, ``SILO_PORT``).
        max_body_bytes: ``SILO_MAX_BODY_BYTES``, the largest request body the API reads.
        max_code_body_bytes: ``SILO_MAX_CODE_BODY_BYTES``, the same for function code uploads.
        closed_account_retention_days: ``SILO_CLOSED_ACCOUNT_RETENTION_DAYS``, how long a closed
            account's data stays readable to the management plane before it is purged.
        dlq_retention_days: ``SILO_DLQ_RETENTION_DAYS``, how long an entry stays in the central
            dead-letter queue after it arrived (default 14, SQS's longest); then it is deleted.
        strict_scoping: ``SILO_STRICT_SCOPING``, refuse any statement on an account-owned table
            that lacks an account filter and is not marked cross-account (on in tests).
        idle_timeout_s: ``SILO_IDLE_TIMEOUT_SECONDS``, how long a warm execution environment waits for
            another invocation before it exits.
        runtime_dir: ``SILO_RUNTIME_DIR``, unpacked code and environment temp dirs; must be
            traversable by the function user (default ``$SILO_HOME/runtime``, or a temp-dir fallback).
        max_environments: ``SILO_MAX_ENVIRONMENTS``, execution environments alive at once, all accounts.
        sandbox: ``SILO_SANDBOX``, the isolation of execution environments: ``auto`` (the strongest
            this machine allows), ``bubblewrap``, ``dedicated-user`` or ``rlimits-only``; asking for one
            the machine cannot give is an error at start.
        sandbox_shared_dirs: ``SILO_SANDBOX_SHARED_DIRS`` (``:``-separated), host directories every
            function may read and write at the same path inside the bubblewrap sandbox (as a file
            system mounted into Lambda functions); none by default.
        async_retry_base_s: ``SILO_ASYNC_RETRY_BASE_SECONDS``, the first retry delay of a failed
            ``Event`` invocation (the second waits twice as long), as Lambda's 1 and 2 minutes.
        async_workers: ``SILO_ASYNC_WORKERS``, threads running queued ``Event`` invocations.
        workflow_workers: ``SILO_WORKFLOW_WORKERS``, threads running workflow steps and tasks.
        workflow_lease_s: ``SILO_WORKFLOW_LEASE_SECONDS``, how long a node holds workflow work it
            claimed; a node that dies hands it on after this. Longer than the longest task (a
            function may run 900 s), or a slow task runs twice.
        events_retry_base_s: ``SILO_EVENTS_RETRY_BASE_SECONDS``, the first retry delay of an event
            delivery that failed (then doubling, up to 5 minutes, with jitter).
        events_invocations_per_s: ``SILO_EVENTS_INVOCATIONS_PER_SECOND``, target invocations per
            second one account's rules may make (more are throttled and retried: ``ThrottledRules``).
        fleet_lease_s: ``SILO_FLEET_LEASE_SECONDS``, how long a node holds a fleet operation without
            renewing it before another node (or a restarted one) takes it over.
        fleet_fault_transient_rate, fleet_fault_permanent_rate: ``SILO_FLEET_FAULT_TRANSIENT_RATE``,
            ``SILO_FLEET_FAULT_PERMANENT_RATE``: fault injection for tests and benchmarks, the fraction
            of stack-instance deploys that fail transiently (per attempt) or permanently. Default 0.
    """

    home: Path = field(default_factory=lambda: Path(".silo"))
    database_url: str | None = None
    database_schema: str | None = None
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    max_body_bytes: int = 1024 * 1024
    max_code_body_bytes: int = 70 * 1024 * 1024
    closed_account_retention_days: int = 90
    dlq_retention_days: int = 14
    strict_scoping: bool = False
    idle_timeout_s: float = 60.0
    runtime_dir: Path | None = None
    max_environments: int = 1000
    sandbox: str = "auto"
    sandbox_shared_dirs: tuple[Path, ...] = ()
    async_retry_base_s: float = 60.0
    async_workers: int = 8
    workflow_workers: int = 8
    workflow_lease_s: float = 960.0
    events_retry_base_s: float = 1.0
    events_invocations_per_s: float = 10_000.0
    fleet_lease_s: float = 15.0
    fleet_fault_transient_rate: float = 0.0
    fleet_fault_permanent_rate: float = 0.0

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Read ``SILO_*`` variables; unknown values are a clear error, not a silent default."""
        env = dict(os.environ if environ is None else environ)
        return cls(
            home=Path(env.get("SILO_HOME", ".silo")),
            database_url=env.get("SILO_DATABASE_URL") or None,
            database_schema=env.get("SILO_DATABASE_SCHEMA") or None,
            host=env.get("SILO_HOST", DEFAULT_HOST),
            port=_int(env, "SILO_PORT", DEFAULT_PORT),
            max_body_bytes=_int(env, "SILO_MAX_BODY_BYTES", 1024 * 1024),
            max_code_body_bytes=_int(env, "SILO_MAX_CODE_BODY_BYTES", 70 * 1024 * 1024),
            closed_account_retention_days=_int(env, "SILO_CLOSED_ACCOUNT_RETENTION_DAYS", 90),
            dlq_retention_days=_days(env, "SILO_DLQ_RETENTION_DAYS", 14),
            strict_scoping=env.get("SILO_STRICT_SCOPING", "") in {"1", "true", "yes"},
            idle_timeout_s=_float(env, "SILO_IDLE_TIMEOUT_SECONDS", 60.0),
            runtime_dir=Path(env["SILO_RUNTIME_DIR"]) if env.get("SILO_RUNTIME_DIR") else None,
            max_environments=_int(env, "SILO_MAX_ENVIRONMENTS", 1000),
            sandbox=_choice(env, "SILO_SANDBOX", SANDBOX_LEVELS, "auto"),
            sandbox_shared_dirs=tuple(
                Path(part) for part in env.get("SILO_SANDBOX_SHARED_DIRS", "").split(":") if part
            ),
            async_retry_base_s=_float(env, "SILO_ASYNC_RETRY_BASE_SECONDS", 60.0),
            async_workers=_int(env, "SILO_ASYNC_WORKERS", 8),
            workflow_workers=_int(env, "SILO_WORKFLOW_WORKERS", 8),
            workflow_lease_s=_float(env, "SILO_WORKFLOW_LEASE_SECONDS", 960.0),
            events_retry_base_s=_float(env, "SILO_EVENTS_RETRY_BASE_SECONDS", 1.0),
            events_invocations_per_s=_float(env, "SILO_EVENTS_INVOCATIONS_PER_SECOND", 10_000.0),
            fleet_lease_s=_float(env, "SILO_FLEET_LEASE_SECONDS", 15.0),
            fleet_fault_transient_rate=_rate(env, "SILO_FLEET_FAULT_TRANSIENT_RATE"),
            fleet_fault_permanent_rate=_rate(env, "SILO_FLEET_FAULT_PERMANENT_RATE"),
        )

    @property
    def resolved_database_url(self) -> str:
        """The SQLAlchemy URL: the embedded SQLite file unless a URL was given."""
        if self.database_url is None:
            return f"sqlite:///{(self.home / 'silo.db').resolve()}"
        return self.database_url

    @property
    def root_key_path(self) -> Path:
        return self.home / "root-key"

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValidationError(f"{name} must be an integer, got {raw!r}") from None


def _days(env: dict[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    if value < 0:
        raise ValidationError(f"{name} must be 0 or more days, got {value}")
    return value


def _float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValidationError(f"{name} must be a number, got {raw!r}") from None


def _rate(env: dict[str, str], name: str) -> float:
    value = _float(env, name, 0.0)
    if not 0.0 <= value <= 1.0:
        raise ValidationError(f"{name} must be a fraction from 0 to 1, got {value}")
    return value


def _choice(env: dict[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    raw = env.get(name) or default
    if raw not in allowed:
        raise ValidationError(f"{name} must be one of {', '.join(allowed)}, got {raw!r}")
    return raw
