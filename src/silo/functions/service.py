"""``Functions``: one account's functions, reached as ``platform.account(principal).functions``."""

from __future__ import annotations

import builtins
import contextvars
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa

from silo.accounts import Account, AccountContext
from silo.dlq import DeadLetter, Redelivery
from silo.errors import NotFound, SiloError, ValidationError
from silo.functions import invocation
from silo.functions.async_queue import AsyncItem
from silo.functions.engine import FunctionsEngine
from silo.functions.invoker import InvokeOutcome, OnCall, Target, log_group
from silo.functions.models import (
    DEFAULT_RUNTIME,
    LATEST,
    Alias,
    AsyncConfig,
    Function,
    FunctionConfig,
    FunctionSettings,
    check_alias_name,
    check_function_name,
    check_settings,
)
from silo.functions.packaging import check_archive
from silo.functions.repository import FunctionRepository, new_revision
from silo.runtime import Claim
from silo.store.pages import Page
from silo.telemetry import Datapoint, LogEvent

if TYPE_CHECKING:
    from datetime import timedelta

MAX_CALL_DEPTH = 16
_call_depth: contextvars.ContextVar[int] = contextvars.ContextVar("silo_call_depth", default=0)


class Guard(Protocol):
    """What a scope needs from its account handle: the context and the authorisation check."""

    @property
    def context(self) -> AccountContext: ...

    def authorize(
        self, action: str, facts: Mapping[str, object] | None = None, *, write: bool = True
    ) -> Account: ...


@dataclass(frozen=True, slots=True)
class Accepted:
    """An ``Event`` invocation that is durable and queued (HTTP 202)."""

    invocation_id: str


@dataclass(frozen=True, slots=True)
class DryRunOk:
    """A ``DryRun`` that found the function invocable (HTTP 204)."""

    function_name: str


class Functions:
    def __init__(self, guard: Guard, engine: FunctionsEngine) -> None:
        self._guard = guard
        self._engine = engine
        self._repo = FunctionRepository(guard.context)
        self._on_call: OnCall | None = None

    @property
    def context(self) -> AccountContext:
        return self._guard.context

    # --- lifecycle -----------------------------------------------------------------------------
    def create(self, name: str, code: bytes, settings: FunctionSettings) -> Function:
        check_function_name(name)
        check_settings(settings, creating=True)
        archive = check_archive(code)
        account = self._guard.authorize("functions:Create", _facts(name, settings))
        with self._engine.store.write() as conn:
            self._check_reservation(conn, name, settings.reserved_concurrency, account.concurrency_limit)
            self._check_destination(conn, name, settings.async_config)
            self._engine.artifacts.put(conn, archive)
            asyncc = settings.async_config or AsyncConfig()
            self._repo.insert(
                conn,
                {
                    "name": name,
                    "handler": settings.handler,
                    "runtime": settings.runtime or DEFAULT_RUNTIME,
                    "memory_size": settings.memory_size or 128,
                    "timeout": settings.timeout or 3,
                    "environment": dict(settings.environment or {}),
                    "description": settings.description or "",
                    "code_sha256": archive.sha256,
                    "code_size": archive.size,
                    "revision": new_revision(),
                    "reserved_concurrency": settings.reserved_concurrency,
                    "tags": dict(settings.tags or {}),
                    "max_retry_attempts": asyncc.max_retry_attempts,
                    "max_event_age": asyncc.max_event_age,
                    "on_failure": asyncc.on_failure,
                },
            )
            return self._repo.get(conn, name)

    def update(self, name: str, settings: FunctionSettings, *, code: bytes | None = None) -> Function:
        """Change code and/or settings of ``$LATEST``; published versions never change."""
        check_function_name(name)
        check_settings(settings, creating=False)
        archive = check_archive(code) if code is not None else None
        account = self._guard.authorize("functions:Update", _facts(name, settings))
        with self._engine.store.write() as conn:
            current = self._repo.get(conn, name)
            values: dict[str, Any] = {}
            for field in ("handler", "runtime", "memory_size", "timeout", "description"):
                value = getattr(settings, field)
                if value is not None:
                    values[field] = value
            if settings.environment is not None:
                values["environment"] = dict(settings.environment)
            if settings.tags is not None:
                values["tags"] = dict(settings.tags)
            if settings.clear_reserved_concurrency:
                values["reserved_concurrency"] = None
            elif settings.reserved_concurrency is not None:
                self._check_reservation(conn, name, settings.reserved_concurrency, account.concurrency_limit)
                values["reserved_concurrency"] = settings.reserved_concurrency
            if settings.async_config is not None:
                self._check_destination(conn, name, settings.async_config)
                a = settings.async_config
                values |= {
                    "max_retry_attempts": a.max_retry_attempts,
                    "max_event_age": a.max_event_age,
                    "on_failure": a.on_failure,
                }
            if archive is not None:
                self._engine.artifacts.put(conn, archive)
                values |= {"code_sha256": archive.sha256, "code_size": archive.size}
            config_changed = any(
                values.get(f, getattr(current.config, f)) != getattr(current.config, f)
                for f in ("handler", "runtime", "memory_size", "timeout", "environment", "code_sha256")
            )
            if config_changed:
                values["revision"] = new_revision()
            if values:
                self._repo.update(conn, name, values)
            updated = self._repo.get(conn, name)
        self._engine.targets.invalidate(self.context.account_id, name)
        return updated

    def delete(self, name: str) -> None:
        check_function_name(name)
        self._guard.authorize("functions:Delete", {"FunctionName": name})
        with self._engine.store.write() as conn:
            self._repo.get(conn, name)
            self._repo.delete(conn, name)
        self._engine.targets.invalidate(self.context.account_id, name)

    def get(self, name: str) -> Function:
        check_function_name(name)
        self._guard.authorize("functions:Get", {"FunctionName": name}, write=False)
        with self._engine.store.read() as conn:
            return self._repo.get(conn, name)

    def get_version(self, name: str, qualifier: str) -> FunctionConfig:
        check_function_name(name)
        self._guard.authorize("functions:Get", {"FunctionName": name}, write=False)
        with self._engine.store.read() as conn:
            return self._resolve_config(conn, name, qualifier)[0]

    def list(self, *, limit: int | None = None, next_token: str | None = None) -> Page[Function]:
        self._guard.authorize("functions:List", write=False)
        with self._engine.store.read() as conn:
            return self._repo.find(conn, limit, next_token)

    def publish_version(self, name: str, description: str | None = None) -> FunctionConfig:
        check_function_name(name)
        self._guard.authorize("functions:PublishVersion", {"FunctionName": name})
        with self._engine.store.write() as conn:
            return self._repo.publish(conn, name, description)

    def list_versions(self, name: str) -> builtins.list[FunctionConfig]:
        check_function_name(name)
        self._guard.authorize("functions:ListVersions", {"FunctionName": name}, write=False)
        with self._engine.store.read() as conn:
            return self._repo.versions(conn, name)

    def put_alias(
        self, name: str, alias: str, version: str, description: str = "", *, create: bool = True
    ) -> Alias:
        check_function_name(name)
        check_alias_name(alias)
        self._guard.authorize(
            "functions:CreateAlias" if create else "functions:UpdateAlias", {"FunctionName": name}
        )
        with self._engine.store.write() as conn:
            self._repo.version(conn, name, version)  # the version must exist
            made = self._repo.put_alias(conn, name, alias, version, description, create=create)
        self._engine.targets.invalidate(self.context.account_id, name)
        return made

    def delete_alias(self, name: str, alias: str) -> None:
        check_function_name(name)
        self._guard.authorize("functions:DeleteAlias", {"FunctionName": name})
        with self._engine.store.write() as conn:
            self._repo.delete_alias(conn, name, alias)
        self._engine.targets.invalidate(self.context.account_id, name)

    def list_aliases(self, name: str) -> builtins.list[Alias]:
        check_function_name(name)
        self._guard.authorize("functions:ListAliases", {"FunctionName": name}, write=False)
        with self._engine.store.read() as conn:
            self._repo.get(conn, name)
            return self._repo.aliases(conn, name)

    # --- invocation ----------------------------------------------------------------------------
    def invoke(
        self,
        name: str,
        payload: bytes | None = None,
        *,
        invocation_type: str = "RequestResponse",
        qualifier: str | None = None,
    ) -> InvokeOutcome | Accepted | DryRunOk:
        """Invoke like Lambda's ``Invoke``: ``RequestResponse`` (sync), ``Event`` (async) or ``DryRun``."""
        body = invocation.check_payload(payload, invocation_type)
        account = self._guard.authorize(
            "functions:Invoke", {"FunctionName": name, "InvocationType": invocation_type}
        )
        claim = None
        target = self._cached(name, qualifier, account)
        if target is None:  # a query follows; a first invocation wakes a spare meanwhile
            if invocation_type == "RequestResponse" and _call_depth.get() < MAX_CALL_DEPTH:
                claim = self._claim(name, qualifier)
            try:
                target = self._load(name, qualifier, account)
            except BaseException:
                if claim is not None:
                    self._engine.invoker.runtime.release(claim)
                raise
        if invocation_type == "DryRun":
            return DryRunOk(name)
        if invocation_type == "Event":
            row = self._engine.queued(
                self.context.account_id, name, qualifier or LATEST, body, source="invoke"
            )
            with self._engine.store.write() as conn:
                self._engine.queue.add(conn, [row])
                self._engine.store.after_commit(conn, lambda: self._engine.run_queued([row]))
            self._engine.metrics.record(self.context, "Functions", "AsyncEventsReceived", name, 1)
            return Accepted(str(row["invocation_id"]))
        depth = _call_depth.get()
        if depth >= MAX_CALL_DEPTH:
            raise invocation.RecursiveInvocation(name, MAX_CALL_DEPTH)
        token = _call_depth.set(depth + 1)
        try:
            on_call = self._on_call
            if on_call is None:
                on_call = self._on_call = invocation.channel_handler(self, self._engine.sdk_operations)
            return self._engine.invoker.run(self.context, target, body, on_call=on_call, claim=claim)
        finally:
            _call_depth.reset(token)

    def redrive(self, conn: sa.Connection, entry: DeadLetter) -> Redelivery:
        """Send a dead letter of this account back to its function as a new ``Event`` invocation.

        Called by the dead-letter queue's redrive with its transaction, in which the entry is also
        marked redriven: the invocation is queued if and only if that commits. The entry's target
        names a function of this scope's account; the platform picks the scope from the stored
        entry, so the payload cannot reach another account.
        """
        name, qualifier = _function_target(entry)
        account = self._guard.authorize("functions:Invoke", {"FunctionName": name, "InvocationType": "Event"})
        self.resolve(name, None if qualifier == LATEST else qualifier, account)  # NotFound once it is gone
        invocation_id = self._engine.queue.enqueue(
            conn, self.context.account_id, name, qualifier, entry.payload, source="dlq:redrive"
        )

        def accepted() -> None:
            self._engine.metrics.record(self.context, "Functions", "AsyncEventsReceived", name, 1)
            self._engine.dispatcher.wake()

        return Redelivery({"invocation_id": invocation_id}, after_commit=accepted)

    def accept_event(
        self, name: str, qualifier: str | None, payload: bytes, *, source: str
    ) -> dict[str, Any]:
        """(Event delivery.) An ``Event`` invocation for a rule target, as a queue row the deliverer
        writes in its own transaction (with the rest of its batch). Refused (``NotFound``,
        ``AccountNotActive``, a guardrail) as ``invoke`` would be, so the delivery is retried."""
        account = self._guard.authorize("functions:Invoke", {"FunctionName": name, "InvocationType": "Event"})
        self.resolve(name, qualifier, account)
        self._engine.metrics.record(self.context, "Functions", "AsyncEventsReceived", name, 1)
        return self._engine.queued(self.context.account_id, name, qualifier or LATEST, payload, source=source)

    def _claim(self, name: str, qualifier: str | None) -> Claim | None:
        """(A target that is not cached.) A spare woken while the function is looked up, when none of
        its environments is idle here, so that a first invocation will need a new one."""
        version = qualifier or LATEST
        if version != LATEST and not version.isdigit():
            return None  # an alias: its version is only known after the lookup
        runtime = self._engine.invoker.runtime
        if runtime.has_idle(self.context.account_id, name, version):
            return None
        return runtime.claim()

    def resolve(self, name: str, qualifier: str | None, account: Account) -> Target:
        return self._cached(name, qualifier, account) or self._load(name, qualifier, account)

    def _cached(self, name: str, qualifier: str | None, account: Account) -> Target | None:
        check_function_name(name)
        cached = self._engine.targets.get((self.context.account_id, name, qualifier or LATEST))
        if cached is not None and cached.account_limit == account.concurrency_limit:
            return cached
        return None

    def _load(self, name: str, qualifier: str | None, account: Account) -> Target:
        key = (self.context.account_id, name, qualifier or LATEST)
        if qualifier is None or qualifier == LATEST:  # the common case: one query, no transaction
            found = self._engine.latest.get(self.context.account_id, name)
            if found is None:
                raise NotFound(f"function not found: {name}", function=name)
            function, reserved_total = found
            config = function.config
        else:
            with self._engine.store.read() as conn:
                function, reserved_total = self._repo.get_with_reserved_total(conn, name)
                config = self._qualified(conn, function, qualifier)
        target = Target(
            config=config,
            executed_version=config.version,
            reserved=function.reserved_concurrency,
            reserved_total=reserved_total,
            account_limit=account.concurrency_limit,
            async_config=function.async_config,
        )
        self._engine.targets.put(key, target)
        return target

    def process_async(self, item: AsyncItem) -> None:
        """Run one attempt of a queued ``Event`` invocation (called by the platform's dispatcher)."""
        try:
            account = self._guard.authorize(
                "functions:Invoke", {"FunctionName": item.function_name, "InvocationType": "Event"}
            )
            target = self.resolve(
                item.function_name, None if item.qualifier == LATEST else item.qualifier, account
            )
        except SiloError as exc:
            reason = "FunctionNotFound" if isinstance(exc, NotFound) else exc.code
            invocation.give_up(self._engine, self, item, reason=reason, error=exc.to_dict())
            return
        invocation.attempt(self._engine, self, item, target)

    # --- observability -------------------------------------------------------------------------
    def logs(self, name: str, *, after: int | None = None, limit: int = 100) -> builtins.list[LogEvent]:
        check_function_name(name)
        self._guard.authorize("logs:Get", {"FunctionName": name}, write=False)
        return self._engine.logs.tail(self.context, log_group(name), after=after, limit=limit)

    def metrics(self, name: str, *, since: timedelta | None = None) -> dict[str, Datapoint]:
        check_function_name(name)
        self._guard.authorize("metrics:Get", {"FunctionName": name}, write=False)
        if since is None:
            return self._engine.metrics.totals(self.context, "Functions", name)
        return self._engine.metrics.totals(self.context, "Functions", name, since=since)

    # --- helpers -------------------------------------------------------------------------------
    def _resolve_config(self, conn: Any, name: str, qualifier: str) -> tuple[FunctionConfig, Function]:
        function = self._repo.get(conn, name)
        return self._qualified(conn, function, qualifier), function

    def _qualified(self, conn: Any, function: Function, qualifier: str) -> FunctionConfig:
        """The config a qualifier names: ``$LATEST``, a version number or an alias."""
        if qualifier == LATEST:
            return function.config
        if qualifier.isdigit():
            return self._repo.version(conn, function.name, qualifier)
        check_alias_name(qualifier, "qualifier")
        alias = self._repo.alias(conn, function.name, qualifier)
        assert alias is not None
        return self._repo.version(conn, function.name, alias.version)

    def _check_destination(self, conn: Any, name: str, config: AsyncConfig | None) -> None:
        target = config.on_failure["function"] if config and config.on_failure else None
        if target is None or target == name:
            return
        try:
            self._repo.get(conn, target)
        except NotFound:
            raise ValidationError(
                f"on_failure.function: no function {target!r} in this account", field="on_failure"
            ) from None

    def _check_reservation(self, conn: Any, name: str, reserved: int | None, limit: int) -> None:
        if reserved is None:
            return
        others = self._repo.reserved_total(conn, excluding=name)
        keep = max(1, limit // 10)
        if others + reserved > limit - keep:
            raise ValidationError(
                f"reserved_concurrency: {reserved} would leave {limit - others - reserved} of the account's "
                f"{limit} unreserved; at least {keep} must stay unreserved",
                field="reserved_concurrency",
            )


def _function_target(entry: DeadLetter) -> tuple[str, str]:
    """The function and qualifier a ``{"type": "function", ...}`` dead letter was meant for."""
    name, qualifier = entry.target.get("function"), entry.target.get("qualifier", LATEST)
    if entry.target.get("type") != "function" or not isinstance(name, str) or not isinstance(qualifier, str):
        raise ValidationError(
            f"dead-letter entry {entry.entry_id}: its target is not a function", field="target"
        )
    check_function_name(name)
    return name, qualifier


def _facts(name: str, s: FunctionSettings) -> dict[str, object]:
    facts: dict[str, object] = {"FunctionName": name}
    for key, value in (
        ("MemorySize", s.memory_size),
        ("Timeout", s.timeout),
        ("Runtime", s.runtime),
        ("Handler", s.handler),
        ("ReservedConcurrency", s.reserved_concurrency),
    ):
        if value is not None:
            facts[key] = value
    return facts
