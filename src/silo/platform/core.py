"""``Platform``: the composition root. Built from ``Settings``; hands out account-bound handles."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import tempfile
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from silo.accounts import (
    AccountContext,
    AccountId,
    AccountRegistry,
    AccountStatus,
    KeyKind,
    OrganizationalUnits,
    Principal,
    mint_context,
)
from silo.accounts.service import DEFAULT_CONCURRENCY_LIMIT
from silo.audit import AuditLog
from silo.credentials import AccessKeys, IssuedKey
from silo.dlq import DeadLetterQueue
from silo.errors import AccessDenied, AccountNotActive
from silo.events.engine import EventsEngine
from silo.events.models import TargetKind
from silo.events.service import Events
from silo.fleet import FaultInjector, Fleet, FleetWorker, OperationRunner
from silo.functions import (
    ArtifactStore,
    AsyncPolicy,
    AsyncQueue,
    ConcurrencyQuotas,
    Functions,
    FunctionsEngine,
    Invoker,
)
from silo.guardrails import Guardrails
from silo.platform.account import AccountHandle
from silo.platform.account_events import AccountEvents
from silo.platform.account_factory import AccountFactory
from silo.platform.authz import AuthorizationFacts
from silo.platform.event_targets import FunctionTargets, WorkflowTargets, redrive_to_workflow
from silo.platform.fleet_gate import FleetGate
from silo.platform.housekeeping import Housekeeper
from silo.platform.management import ManagementHandle
from silo.platform.sdk_operations import serve_tables
from silo.platform.services import Services
from silo.platform.workflow_tasks import WorkflowTasks
from silo.runtime import RuntimeHost
from silo.settings import Settings
from silo.stacks import StacksEngine
from silo.store import Store, utcnow
from silo.store.schema import accounts, fleet_meta
from silo.tables.engine import TablesEngine
from silo.tables.service import Tables
from silo.telemetry import Logs, Metrics
from silo.workflows.engine import WorkflowsEngine
from silo.workflows.service import Workflows

MANAGEMENT_ACCOUNT_NAME = "management"


@dataclass(frozen=True, slots=True)
class Initialised:
    """What the very first start made: the management account and its root key (shown once)."""

    management_account_id: AccountId
    root_key: IssuedKey
    root_key_path: Path


class Platform:
    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self._management: AccountId | None = None  # never changes once the platform is initialised
        self.ous = OrganizationalUnits(store)
        self.registry = AccountRegistry(
            store, self.ous, retention=timedelta(days=settings.closed_account_retention_days)
        )
        self.keys = AccessKeys(store)
        self.guardrails = Guardrails(store)
        self.audit = AuditLog(store)
        self.dlq = DeadLetterQueue(store, retention=timedelta(days=settings.dlq_retention_days))
        self.metrics = Metrics(store)
        self.logs = Logs(store)
        runtime_root = runtime_directory(settings)
        self.runtime = RuntimeHost(
            runtime_root,
            idle_timeout_s=settings.idle_timeout_s,
            max_environments=settings.max_environments,
            sandbox=settings.sandbox,
            code_roots=[runtime_root / "code"],
            shared_dirs=settings.sandbox_shared_dirs,
        )
        artifacts = ArtifactStore(store, runtime_root / "code")
        self.functions = FunctionsEngine(
            store,
            artifacts,
            Invoker(self.runtime, artifacts, ConcurrencyQuotas(), self.metrics, self.logs),
            AsyncQueue(store),
            self.dlq,
            self.metrics,
            self.logs,
            async_policy=AsyncPolicy(retry_base=timedelta(seconds=settings.async_retry_base_s)),
            async_workers=settings.async_workers,
        )
        facts = AuthorizationFacts(self.registry, self.guardrails)
        self.events = EventsEngine(
            store,
            self.dlq,
            self.metrics,
            retry_base=timedelta(seconds=settings.events_retry_base_s),
            invocations_per_s=settings.events_invocations_per_s,
        )
        self.workflows = WorkflowsEngine(
            store,
            self.metrics,
            workers=settings.workflow_workers,
            lease=timedelta(seconds=settings.workflow_lease_s),
        )
        self.tables = TablesEngine(
            store, self.dlq, retry_base=timedelta(seconds=settings.events_retry_base_s)
        )
        self.stacks = StacksEngine(
            store,
            artifacts,
            self._functions_changed,
            schedules=self.events,
            tables_changed=self._tables_changed,
        )
        runner = OperationRunner(
            store,
            self.stacks,
            FleetGate(facts),
            owner=f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}",
            lease=timedelta(seconds=settings.fleet_lease_s),
            faults=FaultInjector(settings.fleet_fault_transient_rate, settings.fleet_fault_permanent_rate),
            publish=self._publish_management_events,
        )
        self.fleet_worker = FleetWorker(store, runner, lease_seconds=settings.fleet_lease_s)
        self.services = Services(
            store=store,
            registry=self.registry,
            ous=self.ous,
            keys=self.keys,
            guardrails=self.guardrails,
            audit=self.audit,
            facts=facts,
            functions=self.functions,
            dlq=self.dlq,
            housekeeper=Housekeeper(self._purge_expired, self.registry.next_purge_at),
            stacks=self.stacks,
            fleet=Fleet(store, self.stacks, self.fleet_worker, self._management_account_or_none),
            events=self.events,
            workflows=self.workflows,
            tables=self.tables,
            factory=AccountFactory(
                self._factory_management, self._workflows_scope, self._management_account_or_none
            ),
            account_events=AccountEvents(self._publish_management_events),
        )
        self.functions.bind_delivery(self._delivery_scope)
        self.functions.register_sdk_operation("tables", self._sdk_tables)
        self.events.bind(
            self._events_scope,
            {
                TargetKind.FUNCTION: FunctionTargets(self.functions, self._delivery_scope),
                TargetKind.WORKFLOW: WorkflowTargets(self._workflows_scope),
            },
        )
        self.workflows.bind(
            self._workflows_scope,
            WorkflowTasks(
                self._delivery_scope, self._events_scope, self.services.factory, tables_for=self._tables_scope
            ),
        )
        self.dlq.register_redriver("function", self._delivery_scope, Functions.redrive)
        self.dlq.register_redriver("bus", self._events_scope, Events.redrive)
        self.dlq.register_redriver(TargetKind.WORKFLOW.value, self._workflows_scope, redrive_to_workflow)
        self.services.housekeeper.add(self._expire_dead_letters, self.dlq.next_expiry_at)
        self.services.housekeeper.add(self.tables.sweep_expired, self.tables.next_expiry_at)
        self.tables.bind(
            self._tables_scope,
            self._deliver_stream,
            self.services.housekeeper.poke,
            self._check_stream_function,
        )
        self.dlq.watch_expiry(self.services.housekeeper.poke)

    @classmethod
    def open(cls, settings: Settings | None = None) -> Platform:
        """Connect to the store and bring its schema up to date."""
        settings = settings or Settings.from_env()
        _lay_out_home(settings)
        store = Store(
            settings.resolved_database_url,
            schema=settings.database_schema,
            strict_scoping=settings.strict_scoping,
        )
        store.migrate()
        _protect_database(settings)
        platform = cls(settings, store)
        platform.functions.resume()
        platform.events.resume()
        platform.workflows.resume()
        platform.tables.resume()
        platform.fleet_worker.resume()
        if platform.services.housekeeper.next_due() is not None:  # closed accounts or dead letters
            platform.services.housekeeper.poke()
        return platform

    def close(self) -> None:
        self.fleet_worker.stop()
        self.events.close()
        self.workflows.close()
        self.tables.close()
        self.services.housekeeper.stop()
        self.functions.close()
        self.store.dispose()

    def initialise(self) -> Initialised | None:
        """On first start: root OU, management account and a root management key; else ``None``.

        The root key's token is written to ``$SILO_HOME/root-key`` (mode 0600).
        """
        with self.store.write() as conn:
            if self._management_account_id(conn) is not None:
                return None
            root = self.ous.ensure_root(conn)
            now = utcnow()
            management = AccountId(f"{int.from_bytes(os.urandom(5), 'big') % 10**12:012d}")
            conn.execute(
                accounts.insert().values(
                    account_id=management,
                    name=MANAGEMENT_ACCOUNT_NAME,
                    owner_email="admin@silo.invalid",
                    status=AccountStatus.ACTIVE.value,
                    ou_id=root.ou_id,
                    ou_path=root.path,
                    concurrency_limit=DEFAULT_CONCURRENCY_LIMIT,
                    created_at=now,
                    updated_at=now,
                )
            )
            conn.execute(fleet_meta.insert().values(key="management_account_id", value=management))
            issued = self.keys.issue(management, KeyKind.MANAGEMENT, "root", created_by=None, conn=conn)
            self.audit.record(conn, principal="silo", action="platform:Initialise", account=management)
        path = self.settings.root_key_path
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(issued.token + "\n")
        os.chmod(path, 0o600)
        return Initialised(management, issued, path)

    @property
    def management_account_id(self) -> AccountId:
        with self.store.read() as conn:
            found = self._management_account_id(conn)
        if found is None:
            raise AccessDenied("the platform is not initialised yet")
        return found

    def authenticate(self, token: str) -> Principal:
        """Check a ``KEYID.SECRET`` token; refuses revoked, expired and suspended-account keys."""
        principal = self.keys.authenticate(token)
        if principal.kind is KeyKind.ACCOUNT:
            account, _ = self.registry.ou_path(principal.account_id)
            if account.status is not AccountStatus.ACTIVE:
                raise AccountNotActive(
                    f"account {account.account_id} is {account.status.value}; its keys are not accepted",
                    account_id=account.account_id,
                )
        return principal

    def account(self, principal: Principal) -> AccountHandle:
        """The handle for the principal's own account (a management key acts in the management account)."""
        return AccountHandle(mint_context(principal.account_id, principal), self.services)

    def management(self, principal: Principal) -> ManagementHandle:
        if principal.kind is not KeyKind.MANAGEMENT:
            raise AccessDenied("this needs a management key; account keys act only inside their own account")
        return ManagementHandle(principal, self.services)

    def _purge_expired(self) -> None:
        self._housekeeping().purge_expired_accounts()

    def _expire_dead_letters(self) -> None:
        self._housekeeping().expire_dead_letters()

    def _housekeeping(self) -> ManagementHandle:
        """Housekeeping acts as the platform itself on the management plane (and is audited as such)."""
        system = Principal("silo:housekeeping", self.management_account_id, KeyKind.MANAGEMENT)
        return self.management(system)

    def _delivery_handle(self, account: str) -> AccountHandle:
        """Queued work (async invocations, deliveries, schedule fires, workflow steps and tasks, TTL
        sweeps) acts inside the account it was accepted for, as the platform's delivery principal."""
        principal = Principal("silo:delivery", AccountId(account), KeyKind.DELIVERY)
        return AccountHandle(mint_context(AccountId(account), principal), self.services)

    def _delivery_scope(self, account: str) -> Functions:
        return self._delivery_handle(account).functions

    def _events_scope(self, account: str) -> Events:
        return self._delivery_handle(account).events

    def _workflows_scope(self, account: str) -> Workflows:
        return self._delivery_handle(account).workflows

    def _tables_scope(self, account: str) -> Tables:
        return self._delivery_handle(account).tables

    def _deliver_stream(self, account: str, function: str, event: dict[str, Any]) -> None:
        """A table stream batch, run by its function (synchronously: a failure retries the batch)."""
        outcome = self._delivery_scope(account).invoke(function, json.dumps(event).encode())
        error = getattr(outcome, "error", None)
        if error is not None:
            raise RuntimeError(f"{error.get('errorType')}: {error.get('errorMessage')}")

    def _check_stream_function(self, account: str, name: str) -> None:
        self._delivery_scope(account).get(name)  # NotFound when the account has no such function

    def _sdk_tables(self, context: AccountContext, args: Mapping[str, Any]) -> dict[str, Any]:
        """A handler's table calls (``silo.sdk``): in its own account, as the principal that invoked it."""
        return serve_tables(AccountHandle(context, self.services).tables, args)

    def _factory_management(self, principal: str) -> ManagementHandle:
        """The account factory acts on the management plane as its own principal (audited so)."""
        system = Principal(principal, self.management_account_id, KeyKind.MANAGEMENT)
        return self.management(system)

    def _publish_management_events(self, conn: sa.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """The platform's own events (the fleet's, account changes) go to the management account's
        default bus, in the writer's transaction."""
        if self._management is None:
            self._management = self._management_account_id(conn)
        if self._management is not None:
            self._events_scope(self._management).publish(conn, rows)

    def _functions_changed(self, account: str, names: Iterable[str]) -> None:
        """A stack deploy changed these functions: drop cached targets now rather than after the TTL."""
        if len(self.functions.targets):
            for name in names:
                self.functions.targets.invalidate(account, name)

    def _tables_changed(self, account: str, names: Iterable[str]) -> None:
        """A stack deploy changed these tables: drop their cached definitions now, and let the stream
        dispatcher and the TTL sweep look again (a stream function or a TTL may have come)."""
        for name in names:
            self.tables.tables.invalidate(account, name)
        self.tables.dispatcher.wake()
        self.services.housekeeper.poke()

    def _management_account_or_none(self) -> str | None:
        with self.store.read() as conn:
            return self._management_account_id(conn)

    @staticmethod
    def _management_account_id(conn: sa.Connection) -> AccountId | None:
        value = conn.execute(
            sa.select(fleet_meta.c.value).where(fleet_meta.c.key == "management_account_id")
        ).scalar()
        return AccountId(value) if value else None


def runtime_directory(settings: Settings) -> Path:
    """Where unpacked code and per-environment temp dirs live: reachable by the function user.

    ``$SILO_HOME/runtime`` when every directory above it lets others traverse; otherwise (a home
    under a private directory such as ``/root``) a directory in the system temp dir, named after the
    home so that two platforms never share one. ``SILO_RUNTIME_DIR`` overrides both.
    """
    if settings.runtime_dir is not None:
        chosen = settings.runtime_dir
    elif os.geteuid() != 0 or _others_can_traverse(settings.home.resolve()):
        chosen = settings.home / "runtime"
    else:
        digest = hashlib.sha256(str(settings.home.resolve()).encode()).hexdigest()[:16]
        chosen = Path(tempfile.gettempdir()) / f"silo-runtime-{digest}"
    chosen.mkdir(parents=True, exist_ok=True)
    chosen.chmod(0o711)
    return chosen


def _others_can_traverse(path: Path) -> bool:
    return all(p.stat().st_mode & 0o001 for p in [path, *path.parents])


def _lay_out_home(settings: Settings) -> None:
    """``$SILO_HOME`` is traversable but not listable (0711): execution environments, which run as
    another user, can reach their code under ``code/<sha256>`` but cannot list or read the rest."""
    settings.home.mkdir(parents=True, exist_ok=True)
    settings.home.chmod(0o711)


def _protect_database(settings: Settings) -> None:
    if settings.database_url is not None:
        return
    for suffix in ("", "-wal", "-shm"):
        path = settings.home / f"silo.db{suffix}"
        if path.exists():
            path.chmod(0o600)
