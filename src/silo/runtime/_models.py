"""The two values the runtime's public interface exchanges: what to run, and what came out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EnvironmentKey = tuple[str, str, str, str]


@dataclass(frozen=True, slots=True)
class EnvironmentSpec:
    """Everything an execution environment is built from.

    ``revision`` must change whenever the code or the configuration changes: environments are pooled
    by ``key`` and never shared between two keys (so never between two accounts).
    """

    account_id: str
    function_name: str
    version: str
    revision: str
    code_dir: Path
    handler: str
    memory_mb: int = 128
    timeout_s: float = 3.0
    environment: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> EnvironmentKey:
        return (self.account_id, self.function_name, self.version, self.revision)


@dataclass(frozen=True, slots=True)
class InvocationResult:
    """One invocation's outcome. ``payload`` is the handler's return value as JSON bytes.

    ``error`` is Lambda-shaped (``errorType``, ``errorMessage``, ``stackTrace``) and ``payload`` is
    None when it is set. ``logs`` holds the invocation's output framed by Lambda's START / END /
    REPORT lines (and the init output first, on a cold start).
    """

    payload: bytes | None
    error: dict[str, Any] | None
    logs: str
    cold_start: bool
    init_ms: float | None
    duration_ms: float
    max_memory_used_mb: int
    env_id: str
