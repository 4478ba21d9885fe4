"""Roll enriched scans up into per-station windows: throughput, error rate, decode-time percentiles."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import scanlib

LoadScans = Callable[[datetime, datetime], list[dict[str, Any]]]
SaveItems = Callable[[list[dict[str, Any]]], None]


class AggregationInputError(scanlib.EventValidationError):
    """The aggregation request or one of its scans is malformed."""


def station_summary(station: str, scans: list[dict[str, Any]], minutes: int) -> dict[str, Any]:
    decoded = [s for s in scans if s.get("result") == "DECODED" and s.get("outcome") != "rejected"]
    no_reads = sum(1 for s in scans if s.get("result") == "NO_READ")
    rejected = sum(1 for s in scans if s.get("outcome") == "rejected")
    decode_times = [float(s["decode_ms"]) for s in decoded if isinstance(s.get("decode_ms"), int | float)]
    symbologies = Counter(s["symbology"] for s in decoded if s.get("symbology"))
    sites = {s.get("site_id") for s in scans} - {None}
    return {
        "station_id": station,
        "site_id": sorted(sites)[0] if sites else None,
        "scans": len(scans),
        "decoded": len(decoded),
        "no_reads": no_reads,
        "rejected": rejected,
        "error_rate_pct": scanlib.ratio_pct(no_reads + rejected, len(scans)),
        "scans_per_minute": round(len(scans) / minutes, 2),
        "decode_ms_p50": scanlib.percentile(decode_times, 50),
        "decode_ms_p95": scanlib.percentile(decode_times, 95),
        "decode_ms_max": max(decode_times, default=None),
        "devices": len({s["device_serial"] for s in scans}),
        "operators": len({s["operator_badge"] for s in scans if s.get("operator_badge")}),
        "top_symbologies": [name for name, _ in symbologies.most_common(3)],
    }


def aggregate(
    scans: list[dict[str, Any]], start: datetime, minutes: int, retention_days: int
) -> dict[str, Any]:
    end = start + timedelta(minutes=minutes)
    problems = scanlib.Problems("aggregation input")
    by_station: dict[str, list[dict[str, Any]]] = defaultdict(list)
    outside = 0
    for index, scan in enumerate(scans):
        if not isinstance(scan, dict) or not scan.get("device_serial"):
            problems.add(f"scans[{index}] must be an object with a device_serial")
            continue
        moment = scanlib.parse_time(scan.get("scanned_at"), f"scans[{index}].scanned_at", problems)
        if moment is None:
            continue
        if not start <= moment < end:
            outside += 1
            continue
        by_station[scan.get("station_id") or "unassigned"].append(scan)
    problems.raise_if_any(AggregationInputError)

    expires_at = int((end + timedelta(days=retention_days)).timestamp())
    stations = [station_summary(name, rows, minutes) for name, rows in sorted(by_station.items())]
    items = [
        {
            **summary,
            "window_start": scanlib.iso(start),
            "window_end": scanlib.iso(end),
            "expires_at": expires_at,
        }
        for summary in stations
    ]
    total = sum(s["scans"] for s in stations)
    errors = sum(s["no_reads"] + s["rejected"] for s in stations)
    return {
        "window": {"start": scanlib.iso(start), "end": scanlib.iso(end), "minutes": minutes},
        "status": "aggregated" if stations else "no-data",
        "totals": {
            "stations": len(stations),
            "scans": total,
            "errors": errors,
            "error_rate_pct": scanlib.ratio_pct(errors, total),
            "scans_per_minute": round(total / minutes, 2),
            "out_of_window": outside,
        },
        "stations": stations,
        "items": items,
    }


def handler(event, context, load_scans: LoadScans | None = None, save_items: SaveItems | None = None):
    minutes = scanlib.env_int("AGGREGATION_WINDOW_MINUTES", 15)
    retention = scanlib.env_int("AGGREGATE_RETENTION_DAYS", 30)
    if not isinstance(event, dict):
        raise AggregationInputError(
            "aggregation input", [f"expected a JSON object, got {type(event).__name__}"]
        )
    if event.get("detail-type") == "Scheduled Event":
        fired = scanlib.parse_time(event.get("time"), "time")
        current = fired.replace(minute=(fired.minute // minutes) * minutes, second=0, microsecond=0)
        start = current - timedelta(minutes=minutes)
        scans = load_scans(start, start + timedelta(minutes=minutes)) if load_scans is not None else []
    else:
        start = scanlib.parse_time(event.get("window_start"), "window_start")
        minutes = event.get("window_minutes", minutes)
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 1440:
            raise AggregationInputError(
                "aggregation input", [f"window_minutes must be 1-1440, got {minutes!r}"]
            )
        scans = event.get("scans")
        if not isinstance(scans, list):
            raise AggregationInputError("aggregation input", ["scans must be a list of enriched scans"])
    result = aggregate(scans, start, minutes, retention)
    if save_items is not None and result["items"]:
        save_items(result["items"])
    emitted = [
        {
            "Source": "scanner.aggregator",
            "DetailType": "ScanWindowAggregated",
            "Detail": {
                "window": result["window"],
                "totals": result["totals"],
                "stations": result["stations"],
            },
            "EventBusName": scanlib.env_str("EVENT_BUS_NAME", "default"),
        }
    ]
    return {**result, "emitted": emitted, **scanlib.request_info(context)}
