"""Running one invocation: quota lease, execution environment, metrics and logs.

Shared by every account (it holds no per-account state beyond live quota counters); callers pass
the account's context and a resolved ``Target``, so nothing here can be pointed at another account.
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from silo.accounts import AccountContext
from silo.errors import Throttled
from silo.functions.artifacts import ArtifactStore
from silo.functions.models import AsyncConfig, FunctionConfig
from silo.functions.quotas import ConcurrencyQuotas, QuotaView
from silo.runtime import EnvironmentSpec, RuntimeHost
from silo.telemetry import Logs, Metrics

NAMESPACE = "Functions"
OnCall = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Target:
    """A function version resolved for invocation, with the quota facts it runs under."""

    config: FunctionConfig
    executed_version: str
    reserved: int | None
    reserved_total: int
    account_limit: int
    async_config: AsyncConfig


@dataclass(frozen=True, slots=True)
class InvokeOutcome:
    request_id: str
    executed_version: str
    payload: bytes | None
    error: dict[str, Any] | None
    cold_start: bool
    duration_ms: float
    logs: str

    @property
    def function_error(self) -> str | None:
        return "Unhandled" if self.error is not None else None


# Request ids only need to be unique, not unpredictable; os.urandom costs a syscall per call.
_ids = random.Random(int.from_bytes(os.urandom(16), "big"))


def new_request_id() -> str:
    return str(uuid.UUID(int=_ids.getrandbits(128), version=4))


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
    ) -> InvokeOutcome:
        """Invoke synchronously; raises ``Throttled`` when over quota (and counts it)."""
        config = target.config
        account = context.account_id
        request_id = request_id or new_request_id()
        view = QuotaView(target.account_limit, target.reserved_total, target.reserved)
        try:
            lease = self.quotas.lease(account, config.name, view)
            in_flight = lease.__enter__()
        except Throttled:
            self._metrics.record(context, NAMESPACE, "Throttles", config.name, 1)
            raise
        try:
            spec = EnvironmentSpec(
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
            result = self.runtime.invoke(spec, request_id, payload, on_call=on_call)
        finally:
            lease.__exit__(None, None, None)
        name = config.name
        samples = [
            ("Invocations", name, 1),
            ("Duration", name, result.duration_ms),
            ("ConcurrentExecutions", name, in_flight),
            ("ConcurrentExecutions", "", in_flight),
            ("ColdStarts" if result.cold_start else "WarmStarts", name, 1),
        ]
        if result.init_ms is not None:
            samples.append(("InitDuration", name, result.init_ms))
        if result.error is not None:
            samples.append(("Errors", name, 1))
        self._metrics.record_many(account, NAMESPACE, samples)
        if result.logs:
            self._logs.append_for(account, log_group(config.name), request_id, result.logs)
        return InvokeOutcome(
            request_id=request_id,
            executed_version=target.executed_version,
            payload=result.payload,
            error=result.error,
            cold_start=result.cold_start,
            duration_ms=result.duration_ms,
            logs=result.logs,
        )
