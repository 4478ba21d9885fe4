"""The live view of a fleet operation: one bar per wave (succeeded, failed, running, pending), rate, ETA.

``view`` turns the API's progress document (``GET /v1/mgmt/fleet/operations/{id}/progress``, the
same as ``Progress.to_dict()``) into a Rich renderable; ``watch`` polls it, redrawing in place on a
terminal, and prints the final view once when the output is a pipe or a file.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from silo.cli import render

FINISHED = {"SUCCEEDED", "FAILED", "STOPPED"}
BAR_WIDTH = 32
SEGMENTS = (  # (count key, bar character, style), left to right
    ("succeeded", "█", "green"),
    ("failed", "█", "red"),
    ("running", "█", "yellow"),
    ("cancelled", "░", "bright_black"),
    ("pending", "░", "dim"),
)
STATUS_STYLE = {
    "SUCCEEDED": "bold green",
    "FAILED": "bold red",
    "STOPPED": "bold yellow",
    "STOPPING": "yellow",
    "RUNNING": "bold cyan",
    "QUEUED": "dim",
}


def finished(progress: Mapping[str, Any]) -> bool:
    return progress.get("status") in FINISHED


def bar(counts: Mapping[str, Any], width: int = BAR_WIDTH) -> Text:
    """A stacked bar: each status takes its share of ``width`` (largest remainders get the rest)."""
    total = int(counts.get("total") or 0)
    out = Text()
    if total <= 0:
        return out.append("░" * width, style="dim")
    exact = [int(counts.get(key) or 0) * width / total for key, _, _ in SEGMENTS]
    cells = [int(x) for x in exact]
    order = sorted(range(len(exact)), key=lambda i: exact[i] - cells[i], reverse=True)
    for i in order[: width - sum(cells)]:
        cells[i] += 1
    for (_, char, style), n in zip(SEGMENTS, cells, strict=True):
        if n:
            out.append(char * n, style=style)
    return out


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 60:
        return f"{value:.1f}s"
    minutes, seconds = divmod(int(value), 60)
    return f"{minutes}m{seconds:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def _elapsed(progress: Mapping[str, Any], now: datetime) -> float | None:
    started = progress.get("started_at")
    if not started:
        return None
    ended = progress.get("ended_at")
    end = datetime.fromisoformat(ended) if ended else now
    return max(0.0, (end - datetime.fromisoformat(started)).total_seconds())


def _row(label: Text, counts: Mapping[str, Any]) -> list[Text]:
    done = int(counts.get("succeeded") or 0) + int(counts.get("failed") or 0)
    total = int(counts.get("total") or 0)
    numbers = [str(counts.get(k) or 0) for k in ("succeeded", "failed", "running", "pending", "cancelled")]
    return [label, bar(counts), Text(f"{done}/{total}"), *(Text(n) for n in numbers)]


def view(progress: Mapping[str, Any], now: datetime | None = None) -> RenderableType:
    """The operation as a panel: a status line, then one bar per wave and the total."""
    now = now or datetime.now(UTC)
    status = str(progress.get("status", "?"))
    headline = Text()
    headline.append(status, style=STATUS_STYLE.get(status, ""))
    if progress.get("status_reason"):
        headline.append(f" ({progress['status_reason']})")
    eta = None if finished(progress) else progress.get("eta_s")
    headline.append(
        f"   elapsed {_seconds(_elapsed(progress, now))}"
        f"   rate {float(progress.get('rate_per_s') or 0):.1f}/s"
        f"   ETA {_seconds(eta) if not finished(progress) else 'done'}"
    )
    grid = Table(header_style="bold", show_edge=False, box=None, padding=(0, 1))
    for header in ("WAVE", "PROGRESS", "DONE", "OK", "FAILED", "RUNNING", "PENDING", "CANCELLED"):
        grid.add_column(header, no_wrap=True, justify="left" if header in ("WAVE", "PROGRESS") else "right")
    waves = list(progress.get("waves") or [])
    current = progress.get("current_wave")
    for wave in waves:
        marker = "▶ " if wave.get("wave") == current and not finished(progress) and len(waves) > 1 else "  "
        grid.add_row(*_row(Text(marker + str(wave.get("name") or wave.get("wave"))), wave))
    if len(waves) > 1:
        grid.add_row(*_row(Text("  total", style="bold"), progress))
    title = Text(
        f"operation {progress.get('operation_id')}: {progress.get('action')} of stack set "
        f"{progress.get('stack_set')} (version {progress.get('version')})"
    )
    return Panel(Group(headline, Text(""), grid), title=title, title_align="left", expand=False)


def watch(
    fetch: Callable[[], dict[str, Any]],
    *,
    interval: float,
    live: bool,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Poll ``fetch`` until the operation finishes; returns the last progress document.

    With ``live`` (a terminal and not ``--json``) the view is redrawn in place; otherwise nothing is
    printed here. Ctrl-C stops watching (not the operation) and returns what was seen last.
    """
    progress = fetch()
    if not live:
        try:
            while not finished(progress):
                sleep(interval)
                progress = fetch()
        except KeyboardInterrupt:
            pass
        return progress
    console = render.stdout()
    try:
        with Live(view(progress), console=console, refresh_per_second=8, transient=False) as screen:
            while not finished(progress):
                sleep(interval)
                progress = fetch()
                screen.update(view(progress))
    except KeyboardInterrupt:
        pass
    return progress
