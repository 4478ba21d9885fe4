"""Check each aggregated station window against the alert thresholds; hand alerts to the notifier."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import scanlib

from silo.sdk import Client, FunctionError, SiloClientError

logger = scanlib.get_logger(__name__)

Notify = Callable[[dict[str, Any]], Any]


def thresholds() -> dict[str, float]:
    return {
        "error_rate_pct": scanlib.env_float("ERROR_RATE_ALERT_PCT", 5.0),
        "decode_ms_p95": scanlib.env_float("DECODE_P95_ALERT_MS", 250.0),
        "min_scans_per_minute": scanlib.env_float("MIN_SCANS_PER_MINUTE", 0.0),
        "min_sample": scanlib.env_float("ALERT_MIN_SCANS", 20.0),
    }


def evaluate(stations: list[dict[str, Any]], window: dict[str, Any], limits: dict[str, float]) -> list[dict]:
    """Alerts for the stations that breach a threshold; windows with too few scans are not judged."""
    alerts = []
    for station in stations:
        base = {"station_id": station.get("station_id"), "site_id": station.get("site_id"), "window": window}
        if station.get("scans", 0) < limits["min_sample"]:
            continue
        rate = station.get("error_rate_pct", 0.0)
        if rate > limits["error_rate_pct"]:
            severity = "critical" if rate >= 2 * limits["error_rate_pct"] else "warning"
            alerts.append(
                {
                    **base,
                    "kind": "error-rate",
                    "severity": severity,
                    "value": rate,
                    "threshold": limits["error_rate_pct"],
                    "message": f"{rate:.1f}% of scans failed (no-read or rejected), limit "
                    f"{limits['error_rate_pct']:.1f}%",
                }
            )
        p95 = station.get("decode_ms_p95")
        if p95 is not None and p95 > limits["decode_ms_p95"]:
            alerts.append(
                {
                    **base,
                    "kind": "slow-decode",
                    "severity": "warning",
                    "value": p95,
                    "threshold": limits["decode_ms_p95"],
                    "message": f"p95 decode time {p95:.0f} ms, limit {limits['decode_ms_p95']:.0f} ms: "
                    "check labels and lighting",
                }
            )
        spm = station.get("scans_per_minute", 0.0)
        if limits["min_scans_per_minute"] and spm < limits["min_scans_per_minute"]:
            alerts.append(
                {
                    **base,
                    "kind": "low-throughput",
                    "severity": "info",
                    "value": spm,
                    "threshold": limits["min_scans_per_minute"],
                    "message": f"{spm:.1f} scans/min, expected at least {limits['min_scans_per_minute']:.1f}",
                }
            )
    order = {"critical": 0, "warning": 1, "info": 2}
    return sorted(alerts, key=lambda a: (order[a["severity"]], str(a["station_id"]), a["kind"]))


def _notify_function(payload: dict[str, Any]) -> dict[str, Any]:
    name = os.environ.get("NOTIFY_FUNCTION")
    if not name:
        return {"sent": False, "reason": "NOTIFY_FUNCTION is not set"}
    try:
        reply = Client().invoke(name, payload)
    except (SiloClientError, FunctionError) as exc:
        logger.warning("could not notify %s: %s", name, exc)
        return {"sent": False, "reason": str(exc)}
    return {"sent": True, "function": name, "reply": reply}


def handler(event, context, notify: Notify | None = None):
    detail, _ = scanlib.unwrap(event, "ScanWindowAggregated", "ScanWindowAggregated event")
    stations, window = detail.get("stations"), detail.get("window")
    if not isinstance(stations, list) or not isinstance(window, dict):
        raise scanlib.EventValidationError(
            "ScanWindowAggregated event", ["detail.stations (list) and detail.window (object) are required"]
        )
    alerts = evaluate(stations, window, thresholds())
    notification = {"sent": False, "reason": "no alerts"}
    if alerts:
        payload = {"source": "evaluate-alerts", "alerts": alerts}
        notification = (notify or _notify_function)(payload)
    return {
        "window": window,
        "stations_checked": len(stations),
        "alerts": alerts,
        "notification": notification,
        **scanlib.request_info(context),
    }
