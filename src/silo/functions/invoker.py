"""Running one invocation: quota lease, execution environment, metrics and logs.

Shared by every account (it holds no per-account state beyond live quota counters); callers pass
the account's context and a resolved ``Target``, so nothing here can be pointed at another account.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from silo.accounts import AccountContext
from silo.errors import Throttled
from silo.functions.artifacts import ArtifactStore
from silo.functions.models import AsyncConfig, FunctionConfig
from silo.functions.quotas import ConcurrencyQuotas
from silo.runtime import Claim, EnvironmentSpec, InvocationResult, RuntimeHost
from silo.store.ids import new_id
from silo.telemetry import Logs, Metrics

NAMESPACE = "Functions"
OnCall = Callable[[dict[str, Any]], dict[str, Any]]


class Target:
    """A function version resolved for invocation, with the quota facts it runs under.

    Cached by the engine (``TargetCache``) and shared by every invocation of that version on this node;
    ``spec`` (the runtime's view of it) is filled in on its first run and reused after.
    """

    __slots__ = (
        "account_limit",
        "async_config",
        "config",
        "executed_version",
        "log_group",
        "reserved",
        "reserved_total",
        "spec",
    )

    def __init__(
        self,
        config: FunctionConfig,
        executed_version: str,
        reserved: int | None,
        reserved_total: int,
        account_limit: int,
        async_config: AsyncConfig,
    ) -> None:
        self.config = config
        self.executed_version = executed_version
        self.reserved = reserved
        self.reserved_total = reserved_total
        self.account_limit = account_limit
        self.async_config = async_config
        self.log_group = log_group(config.name)
        self.spec: EnvironmentSpec | None = None

    def __repr__(self) -> str:
        return f"Target({self.config.name!r}, version={self.executed_version!r})"


class InvokeOutcome:
    """A synchronous invocation's result; ``logs`` (START ... REPORT) is composed when first read."""

    __slots__ = ("_result", "cold_start", "duration_ms", "error", "executed_version", "payload", "request_id")

    def __init__(self, request_id: str, executed_version: str, result: InvocationResult) -> None:
        self.request_id = request_id
        self.executed_version = executed_version
        self.payload: bytes | None = result.payload
        self.error: dict[str, Any] | None = result.error
        self.cold_start: bool = result.cold_start
        self.duration_ms: float = result.duration_ms
        self._result = result

    @property
    def logs(self) -> str:
        return self._result.logs

    @property
    def function_error(self) -> str | None:
        return "Unhandled" if self.error is not None else None

    def __repr__(self) -> str:
        return f"InvokeOutcome(request_id={self.request_id!r}, error={self.error!r})"


new_request_id = new_id  # request ids only need to be unique (see silo.store.ids)


def log_group(function_name: str) -> str:
    return f"/silo/functions/{function_name}"


class Invoker:
    def __init__(
        self,
        runtime: RuntimeHost,
        artifacts: ArtifactStore,
        quotas: ConcurrencyQuotas,
        metrics: Metrics,
        logs: Logs,
    ) -> None:
        self.runtime = runtime
        self._artifacts = artifacts
        self.quotas = quotas
        self._metrics = metrics
        self._logs = logs

    def run(
        self,
        context: AccountContext,
        target: Target,
        payload: bytes,
        *,
        request_id: str | None = None,
        on_call: OnCall | None = None,
        claim: Claim | None = None,
    ) -> InvokeOutcome:
        """Invoke synchronously; raises ``Throttled`` when over quota (and counts it). ``claim`` (from
        ``RuntimeHost.claim``) is used up, or released."""
        account = context.account_id
        name = target.config.name
        reserved = target.reserved
        quotas = self.quotas
        try:
            in_flight = quotas.acquire(account, name, target.account_limit, target.reserved_total, reserved)
        except Throttled:
            if claim is not None:
                self.runtime.release(claim)
            self._metrics.record_for(account, NAMESPACE, "Throttles", name, 1)
            raise
        request_id = request_id or new_request_id()
        try:
            spec = target.spec
            if spec is None or spec.account_id != account:
                try:
                    spec = self._spec(account, target)
                except BaseException:
                    if claim is not None:
                        self.runtime.release(claim)
                    raise
            result = self.runtime.invoke(spec, request_id, payload, on_call=on_call, claim=claim)
        finally:
            quotas.release(account, name, reserved)
        self._metrics.invocation(
            account,
            name,
            result.duration_ms,
            in_flight,
            result.cold_start,
            result.init_ms,
            result.error is not None,
        )
        self._logs.append_result(account, target.log_group, request_id, result.log_text)
        return InvokeOutcome(request_id, target.executed_version, result)

    def _spec(self, account: str, target: Target) -> EnvironmentSpec:
        config = target.config
        spec = target.spec = EnvironmentSpec(
            account_id=account,
            function_name=config.name,
            version=target.executed_version,
            revision=config.revision,
            code_dir=self._artifacts.code_dir(config.code_sha256),
            handler=config.handler,
            memory_mb=config.memory_size,
            timeout_s=float(config.timeout),
            environment=config.environment,
        )
        return spec
