"""Lambda-shaped log framing and the error texts the host writes itself (timeouts, exits)."""

from __future__ import annotations

import os
import signal
from datetime import UTC, datetime
from math import ceil
from typing import Any

LOG_READ_CAP = 1 << 20


def compose_logs(
    rid: str,
    version: str,
    init_logs: bytes,
    logs: bytes,
    extra: str | None,
    duration_ms: float,
    memory_mb: int,
    peak_mb: int,
    init_ms: float | None,
) -> str:
    """Init output (cold starts), START, the invocation's output, END and REPORT, as Lambda writes them."""
    parts = []
    if init_logs:
        parts.append(_text(init_logs))
    parts.append(f"START RequestId: {rid} Version: {version}\n")
    if logs:
        parts.append(_text(logs))
    if extra:
        parts.append(f"{_stamp()} {extra}\n")
    parts.append(f"END RequestId: {rid}\n")
    report = (
        f"REPORT RequestId: {rid}\tDuration: {duration_ms:.2f} ms\tBilled Duration: {ceil(duration_ms)} ms"
        f"\tMemory Size: {memory_mb} MB\tMax Memory Used: {peak_mb} MB\t"
    )
    if init_ms is not None:
        report += f"Init Duration: {init_ms:.2f} ms\t"
    parts.append(report + "\n")
    return "".join(parts)


def _text(data: bytes) -> str:
    text = data.decode("utf-8", "replace")
    return text if text.endswith("\n") else text + "\n"


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def timed_out(rid: str, seconds: float) -> dict[str, Any]:
    return {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"{_stamp()} {rid} Task timed out after {seconds:.2f} seconds",
    }


def exit_reason(rid: str, status: int | None) -> str:
    """Lambda's text for a runtime that died: "signal: killed", "exit status 3"."""
    if status is None:
        return f"RequestId: {rid} Error: Runtime exited without providing a reason"
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        name = signal.strsignal(number) or f"signal {number}"
        return f"RequestId: {rid} Error: Runtime exited with error: signal: {name.lower()}"
    return (
        f"RequestId: {rid} Error: Runtime exited with error: exit status {os.waitstatus_to_exitcode(status)}"
    )


def peak_rss_mb(pid: int | None) -> int:
    """VmHWM of a still running process, in MB (0 when unknown)."""
    if pid is None:
        return 0
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmHWM:"):
                    return (int(line.split()[1]) + 1023) >> 10
    except (OSError, ValueError):
        pass
    return 0


def read_log(path: str | None, offset: int) -> bytes:
    """What an environment wrote after ``offset`` (its output up to a crash or a timeout)."""
    if path is None:
        return b""
    try:
        with open(path, "rb") as log:
            log.seek(offset)
            return log.read(LOG_READ_CAP)
    except OSError:
        return b""
