"""The daily operations report: yesterday's station windows summed per station and shift, as Markdown."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import scanlib
from enrich import shift_of

LoadAggregates = Callable[[date], list[dict[str, Any]]]
SHIFT_ORDER = ("early", "late", "night")


class ReportInputError(scanlib.EventValidationError):
    """The report request is malformed."""


def summarise(items: list[dict[str, Any]], day: date, timezone: str) -> dict[str, Any]:
    stations: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"scans": 0, "errors": 0, "peak_scans_per_minute": 0.0, "worst_decode_ms_p95": None}
    )
    shifts: dict[str, dict[str, int]] = {name: {"scans": 0, "errors": 0} for name in SHIFT_ORDER}
    problems = scanlib.Problems("daily report input")
    for index, item in enumerate(items):
        start = scanlib.parse_time(item.get("window_start"), f"aggregates[{index}].window_start", problems)
        scans = item.get("scans")
        if isinstance(scans, bool) or not isinstance(scans, int) or scans < 0:
            problems.add(f"aggregates[{index}].scans must be a non-negative integer, got {scans!r}")
        if start is None or problems.items:
            continue
        errors = int(item.get("no_reads", 0)) + int(item.get("rejected", 0))
        row = stations[item.get("station_id") or "unassigned"]
        row["scans"] += scans
        row["errors"] += errors
        row["peak_scans_per_minute"] = max(
            row["peak_scans_per_minute"], float(item.get("scans_per_minute", 0))
        )
        p95 = item.get("decode_ms_p95")
        if p95 is not None and (row["worst_decode_ms_p95"] is None or p95 > row["worst_decode_ms_p95"]):
            row["worst_decode_ms_p95"] = p95
        shift = shifts[shift_of(start, timezone)["shift"]]
        shift["scans"] += scans
        shift["errors"] += errors
    problems.raise_if_any(ReportInputError)
    for row in stations.values():
        row["error_rate_pct"] = scanlib.ratio_pct(row["errors"], row["scans"])
    for shift in shifts.values():
        shift["error_rate_pct"] = scanlib.ratio_pct(shift["errors"], shift["scans"])
    total = sum(r["scans"] for r in stations.values())
    errors = sum(r["errors"] for r in stations.values())
    busiest = max(stations, key=lambda s: stations[s]["scans"], default=None)
    return {
        "date": day.isoformat(),
        "timezone": timezone,
        "totals": {"scans": total, "errors": errors, "error_rate_pct": scanlib.ratio_pct(errors, total)},
        "busiest_station": busiest,
        "stations": dict(sorted(stations.items())),
        "shifts": shifts,
    }


def render_markdown(summary: dict[str, Any], service: str, stage: str) -> str:
    totals = summary["totals"]
    lines = [
        f"# Scan report {summary['date']} ({service}, {stage})",
        "",
        f"{totals['scans']:,} scans, {totals['errors']:,} failed ({totals['error_rate_pct']:.2f}%).",
    ]
    if summary["busiest_station"]:
        lines.append(f"Busiest station: {summary['busiest_station']}.")
    lines += [
        "",
        "| station | scans | failed | error % | peak/min | worst p95 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, row in summary["stations"].items():
        p95 = "-" if row["worst_decode_ms_p95"] is None else f"{row['worst_decode_ms_p95']:.0f}"
        lines.append(
            f"| {name} | {row['scans']:,} | {row['errors']:,} | {row['error_rate_pct']:.2f} "
            f"| {row['peak_scans_per_minute']:.1f} | {p95} |"
        )
    lines += ["", f"| shift ({summary['timezone']}) | scans | error % |", "|---|---:|---:|"]
    for name in SHIFT_ORDER:
        shift = summary["shifts"][name]
        lines.append(f"| {name} | {shift['scans']:,} | {shift['error_rate_pct']:.2f} |")
    return "\n".join(lines) + "\n"


def handler(event, context, load_aggregates: LoadAggregates | None = None):
    if not isinstance(event, dict):
        raise ReportInputError("daily report input", [f"expected a JSON object, got {type(event).__name__}"])
    if event.get("detail-type") == "Scheduled Event":
        day = scanlib.parse_time(event.get("time"), "time").date() - timedelta(days=1)
        items = load_aggregates(day) if load_aggregates is not None else []
    else:
        try:
            day = date.fromisoformat(str(event.get("date")))
        except ValueError:
            raise ReportInputError(
                "daily report input", [f"date must be YYYY-MM-DD, got {event.get('date')!r}"]
            ) from None
        items = event.get("aggregates")
        if not isinstance(items, list):
            raise ReportInputError("daily report input", ["aggregates must be a list of station windows"])
    summary = summarise(items, day, scanlib.env_str("REPORT_TIMEZONE", "UTC"))
    markdown = render_markdown(
        summary, scanlib.env_str("SERVICE_NAME", "scanner-service"), scanlib.env_str("STAGE", "dev")
    )
    return {"summary": summary, "markdown": markdown, **scanlib.request_info(context)}
