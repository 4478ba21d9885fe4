"""The two values the runtime's public interface exchanges: what to run, and what came out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from silo.runtime._logs import compose_logs

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


class LogText:
    """An invocation's output framed by Lambda's START / END / REPORT lines (and the init output
    first, on a cold start), composed when first read: an invocation whose text nobody reads on the
    request path costs no formatting there (the platform's log flusher reads it later). It holds no
    response payload, so buffering it keeps no large body alive."""

    __slots__ = (
        "_extra",
        "_init_logs",
        "_init_ms",
        "_memory_mb",
        "_output",
        "_peak_mb",
        "_request_id",
        "_text",
        "_version",
        "duration_ms",
    )

    def __init__(
        self,
        request_id: str,
        version: str,
        init_logs: bytes,
        output: bytes,
        extra: str | None,
        duration_ms: float,
        memory_mb: int,
        peak_mb: int,
        init_ms: float | None,
    ) -> None:
        self._request_id = request_id
        self._version = version
        self._init_logs = init_logs
        self._output = output
        self._extra = extra
        self.duration_ms = duration_ms
        self._memory_mb = memory_mb
        self._peak_mb = peak_mb
        self._init_ms = init_ms
        self._text: str | None = None

    @property
    def logs(self) -> str:
        text = self._text
        if text is None:
            text = self._text = compose_logs(
                self._request_id,
                self._version,
                self._init_logs,
                self._output,
                self._extra,
                self.duration_ms,
                self._memory_mb,
                self._peak_mb,
                self._init_ms,
            )
        return text


class InvocationResult:
    """One invocation's outcome. ``payload`` is the handler's return value as JSON bytes.

    ``error`` is Lambda-shaped (``errorType``, ``errorMessage``, ``stackTrace``) and ``payload`` is
    None when it is set. ``logs`` holds the invocation's output framed by Lambda's START / END /
    REPORT lines (and the init output first, on a cold start): see ``LogText`` (``log_text``).
    """

    __slots__ = (
        "cold_start",
        "duration_ms",
        "env_id",
        "error",
        "init_ms",
        "log_text",
        "max_memory_used_mb",
        "payload",
    )

    def __init__(
        self,
        payload: bytes | None,
        error: dict[str, Any] | None,
        cold_start: bool,
        init_ms: float | None,
        duration_ms: float,
        max_memory_used_mb: int,
        env_id: str,
        *,
        request_id: str,
        version: str,
        memory_mb: int,
        output: bytes = b"",
        init_logs: bytes = b"",
        extra: str | None = None,
    ) -> None:
        self.payload = payload
        self.error = error
        self.cold_start = cold_start
        self.init_ms = init_ms
        self.duration_ms = duration_ms
        self.max_memory_used_mb = max_memory_used_mb
        self.env_id = env_id
        self.log_text = LogText(
            request_id, version, init_logs, output, extra, duration_ms, memory_mb, max_memory_used_mb, init_ms
        )

    @property
    def logs(self) -> str:
        return self.log_text.logs

    def __repr__(self) -> str:
        return (
            f"InvocationResult(env_id={self.env_id!r}, cold_start={self.cold_start}, "
            f"duration_ms={self.duration_ms:.3f}, error={self.error!r})"
        )
