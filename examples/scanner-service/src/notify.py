"""Turn alerts, low batteries and failed onboardings into one notification for the site's ops team."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import scanlib

logger = scanlib.get_logger(__name__)

Deliver = Callable[[dict[str, Any]], str]
SEVERITIES = ("info", "warning", "critical")


class UnknownNotificationInput(scanlib.EventValidationError):
    """Nothing this notifier knows how to announce."""


def from_alerts(alerts: list[dict[str, Any]]) -> dict[str, Any]:
    worst = max((a.get("severity", "info") for a in alerts), key=SEVERITIES.index)
    stations = sorted({str(a.get("station_id")) for a in alerts})
    return {
        "severity": worst,
        "subject": f"{len(alerts)} scan alert(s) at {', '.join(stations)}",
        "body": [f"[{a.get('severity')}] {a.get('station_id')}: {a.get('message')}" for a in alerts],
        "dedup": [a.get("kind") for a in alerts] + stations + [alerts[0].get("window", {}).get("start")],
    }


def from_heartbeat(detail: dict[str, Any]) -> dict[str, Any]:
    serial, battery = detail.get("device_serial"), detail.get("battery_pct")
    where = detail.get("station_id") or "unknown station"
    return {
        "severity": "critical" if isinstance(battery, int) and battery <= 10 else "warning",
        "subject": f"Scanner {serial} battery at {battery}%",
        "body": [f"{serial} at {where} is not charging; swap or dock it before the next shift."],
        "dedup": ["battery", serial, str(detail.get("reported_at", ""))[:13]],
    }


def from_failed_workflow(state: dict[str, Any]) -> dict[str, Any]:
    error = state.get("error") or {}
    cause = error.get("Cause")
    try:
        parsed = json.loads(cause) if isinstance(cause, str) else {}
    except ValueError:
        parsed = {}
    message = parsed.get("errorMessage") if isinstance(parsed, dict) else None
    device = state.get("device") or {}
    serial = device.get("serial") or (state.get("detail") or {}).get("serial") or "unknown device"
    reason = (state.get("provisioning") or {}).get("reason")
    default = "TimedOut" if reason else "unknown error"
    return {
        "severity": "warning",
        "subject": f"Onboarding of {serial} failed: {error.get('Error', default)}",
        "body": [line for line in (message or cause, reason) if line],
        "dedup": ["onboarding", serial, error.get("Error")],
    }


def build(event: Any) -> dict[str, Any]:
    if isinstance(event, dict) and isinstance(event.get("alerts"), list) and event["alerts"]:
        note = from_alerts(event["alerts"])
    elif isinstance(event, dict) and event.get("detail-type") == "DeviceHeartbeat":
        note = from_heartbeat(event.get("detail") or {})
    elif isinstance(event, dict) and ("error" in event or "provisioning" in event):
        note = from_failed_workflow(event)
    else:
        raise UnknownNotificationInput(
            "notification input",
            ["expected {'alerts': [...]}, a DeviceHeartbeat event or a failed onboarding state with 'error'"],
        )
    key = json.dumps(note.pop("dedup"), default=str)
    return {**note, "dedup_key": hashlib.sha256(key.encode()).hexdigest()[:16]}


def _log_delivery(note: dict[str, Any]) -> str:
    logger.warning("NOTIFY %s", json.dumps(note, sort_keys=True))
    return "log"


def handler(event, context, deliver: Deliver | None = None):
    note = build(event)
    minimum = scanlib.env_str("NOTIFY_MIN_SEVERITY", "info")
    if minimum not in SEVERITIES:
        raise ValueError(f"NOTIFY_MIN_SEVERITY must be one of {list(SEVERITIES)}, got {minimum!r}")
    suppressed = SEVERITIES.index(note["severity"]) < SEVERITIES.index(minimum)
    channel = None if suppressed else (deliver or _log_delivery)(note)
    return {
        "notification": note,
        "delivered_via": channel,
        "suppressed": suppressed,
        **scanlib.request_info(context),
    }
