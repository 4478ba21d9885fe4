"""The steps of the device onboarding workflow (the DeviceOnboarding state machine calls them in order).

Each step takes the workflow state and returns it extended:
validate -> register -> (wait, check)* -> activate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import scanlib

MODELS = {
    "WS-200": {"serial_prefix": "WS2", "display": False, "trigger": "button"},
    "WS-300D": {"serial_prefix": "WS3", "display": True, "trigger": "button"},
    "WR-100": {"serial_prefix": "WR1", "display": False, "trigger": "ring"},
}
ZONE_SCAN_MODES = {
    "inbound": "continuous",
    "picking": "single",
    "packing": "single",
    "outbound": "continuous",
}

SaveDevice = Callable[[dict[str, Any]], None]
LastHeartbeat = Callable[[str], dict[str, Any] | None]


class DeviceValidationError(scanlib.EventValidationError):
    """The onboarding request cannot be fulfilled as given (not retried; the workflow notifies and fails)."""


class WorkflowStateError(scanlib.EventValidationError):
    """A step was called with a state the previous step did not produce."""


def _require(state: Any, step: str, *keys: str) -> dict[str, Any]:
    if not isinstance(state, dict):
        raise WorkflowStateError(
            f"{step} input", [f"expected the workflow state object, got {type(state).__name__}"]
        )
    missing = [k for k in keys if not isinstance(state.get(k), dict)]
    if missing:
        raise WorkflowStateError(
            f"{step} input", [f"{k} is missing (run the previous step first)" for k in missing]
        )
    return state


def validate_device(event, context):
    detail, meta = scanlib.unwrap(event, "DeviceRegistrationRequested", "DeviceRegistrationRequested event")
    problems = scanlib.Problems("DeviceRegistrationRequested event")
    serial = str(detail.get("serial") or "").strip().upper()
    if not scanlib.SERIAL.match(serial):
        problems.add(f"serial must look like 'WS2-000417A3', got {detail.get('serial')!r}")
    prefix = serial.split("-", 1)[0]
    derived = next((name for name, spec in MODELS.items() if spec["serial_prefix"] == prefix), None)
    model = detail.get("model") or derived
    if model not in MODELS:
        problems.add(f"model must be one of {sorted(MODELS)} (or derivable from the serial), got {model!r}")
    elif derived is not None and model != derived:
        problems.add(f"serial prefix {prefix} belongs to {derived}, not {model}")
    site = detail.get("site_id")
    if site is not None and not (isinstance(site, str) and scanlib.SITE_ID.match(site)):
        problems.add(f"site_id must be lower-case letters, digits and '-', got {site!r}")
    firmware = detail.get("firmware")
    if firmware is not None and scanlib.parse_version(firmware) is None:
        problems.add(f"firmware must be a version like '3.4.0', got {firmware!r}")
    problems.raise_if_any(DeviceValidationError)
    station = detail.get("station_id")
    return {
        "device": {
            "serial": serial,
            "model": model,
            "site_id": site or "unassigned",
            "station_id": station.strip().lower() if isinstance(station, str) and station.strip() else None,
            "zone": (station or "").split("-", 1)[0] if isinstance(station, str) and "-" in station else None,
            "firmware": firmware,
        },
        "onboarding": {
            "request_id": meta.get("id") or getattr(context, "aws_request_id", None),
            "requested_at": meta.get("time") or scanlib.iso(scanlib.now_utc()),
            "requested_by": detail.get("requested_by", "unknown"),
        },
    }


def config_profile(device: dict[str, Any]) -> dict[str, Any]:
    spec = MODELS[device["model"]]
    profile = {
        "scan_mode": ZONE_SCAN_MODES.get(device.get("zone") or "", "single"),
        "trigger": spec["trigger"],
        "feedback": ["vibrate", "led"] if device.get("zone") == "inbound" else ["beep", "led"],
        "auto_sleep_s": 300,
        "symbologies": ["EAN13", "EAN8", "UPCA", "GS1_128", "GS1_DATAMATRIX", "CODE128"],
    }
    if spec["display"]:
        profile["display"] = {"layout": "two-line", "show_station": True}
    return profile


def register_device(event, context, save: SaveDevice | None = None):
    state = _require(event, "RegisterDevice", "device", "onboarding")
    device = {
        **state["device"],
        "status": "PROVISIONING",
        "registered_at": scanlib.iso(scanlib.now_utc()),
        "config_profile": config_profile(state["device"]),
    }
    if save is not None:
        save(device)
    return {
        **state,
        "device": device,
        "provisioning": {
            "status": "PENDING",
            "attempt": 0,
            "max_attempts": scanlib.env_int("PROVISIONING_MAX_ATTEMPTS", 6),
            "poll_seconds": scanlib.env_int("PROVISIONING_POLL_SECONDS", 10),
        },
    }


def check_provisioning(event, context, last_heartbeat: LastHeartbeat | None = None):
    state = _require(event, "CheckProvisioning", "device", "provisioning")
    device, progress = state["device"], dict(state["provisioning"])
    progress["attempt"] = int(progress.get("attempt", 0)) + 1
    beat = last_heartbeat(device["serial"]) if last_heartbeat is not None else None
    registered = scanlib.parse_time(device.get("registered_at"), "device.registered_at")
    if beat and scanlib.parse_time(beat.get("last_seen"), "heartbeat.last_seen") >= registered:
        progress.update(
            status="READY", checked_in_at=beat["last_seen"], reported_firmware=beat.get("firmware")
        )
    elif progress["attempt"] >= int(progress.get("max_attempts", 6)):
        waited = progress["attempt"] * int(progress.get("poll_seconds", 0))
        progress.update(status="TIMED_OUT", reason=f"device did not check in within {waited} s")
    else:
        progress["status"] = "PENDING"
    return {**state, "provisioning": progress}


def activate_device(event, context, save: SaveDevice | None = None):
    state = _require(event, "ActivateDevice", "device", "provisioning")
    if state["provisioning"].get("status") != "READY":
        raise WorkflowStateError("ActivateDevice input", ["provisioning.status must be READY"])
    target = scanlib.env_str("TARGET_FIRMWARE", "3.4.0")
    running = state["provisioning"].get("reported_firmware") or state["device"].get("firmware")
    current, wanted = scanlib.parse_version(running), scanlib.parse_version(target)
    update_needed = current is None or (wanted is not None and current < wanted)
    device = {
        **state["device"],
        "status": "ACTIVE",
        "firmware": running,
        "activated_at": scanlib.iso(scanlib.now_utc()),
        "firmware_update": {"from": running, "to": target} if update_needed else None,
    }
    if save is not None:
        save(device)
    activated = {
        "Source": "scanner.registry",
        "DetailType": "DeviceActivated",
        "Detail": {k: device[k] for k in ("serial", "model", "site_id", "station_id", "activated_at")},
        "EventBusName": scanlib.env_str("EVENT_BUS_NAME", "default"),
    }
    return {**state, "device": device, "emitted": [activated]}
