"""Device heartbeats: battery, firmware and radio health of each scanner, written to the device registry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import scanlib

SaveState = Callable[[str, dict[str, Any]], None]


class HeartbeatValidationError(scanlib.EventValidationError):
    """The heartbeat is malformed."""


def signal_quality(rssi_dbm: int) -> str:
    if rssi_dbm >= -55:
        return "excellent"
    if rssi_dbm >= -67:
        return "good"
    if rssi_dbm >= -75:
        return "fair"
    return "poor"


def battery_status(pct: int, charging: bool, low: int) -> str:
    if charging:
        return "charging"
    if pct <= max(1, low // 2):
        return "critical"
    return "low" if pct < low else "ok"


def device_state(
    detail: dict[str, Any], low_battery_pct: int, target_firmware: str, drain_per_hour: float
) -> dict[str, Any]:
    problems = scanlib.Problems("DeviceHeartbeat event")
    serial = detail.get("device_serial")
    if not isinstance(serial, str) or not scanlib.SERIAL.match(serial.upper()):
        problems.add(f"detail.device_serial must look like 'WS2-000417A3', got {serial!r}")
    reported_at = scanlib.parse_time(detail.get("reported_at"), "detail.reported_at", problems)
    battery = detail.get("battery_pct")
    if isinstance(battery, bool) or not isinstance(battery, int) or not 0 <= battery <= 100:
        problems.add(f"detail.battery_pct must be an integer 0-100, got {battery!r}")
    firmware = detail.get("firmware")
    if scanlib.parse_version(firmware) is None:
        problems.add(f"detail.firmware must be a version like '3.4.0', got {firmware!r}")
    rssi = detail.get("rssi_dbm")
    if rssi is not None and (isinstance(rssi, bool) or not isinstance(rssi, int) or not -120 <= rssi <= 0):
        problems.add(f"detail.rssi_dbm must be an integer between -120 and 0, got {rssi!r}")
    problems.raise_if_any(HeartbeatValidationError)
    assert reported_at is not None
    target = scanlib.parse_version(target_firmware)
    if target is None:
        raise ValueError(f"TARGET_FIRMWARE must be a version like '3.4.0', got {target_firmware!r}")

    charging = bool(detail.get("charging", False))
    hours_left = None if charging or drain_per_hour <= 0 else round(battery / drain_per_hour, 1)
    compliant = scanlib.parse_version(firmware) >= target
    return {
        "serial": serial.upper(),
        "last_seen": scanlib.iso(reported_at),
        "battery_pct": battery,
        "battery_status": battery_status(battery, charging, low_battery_pct),
        "battery_hours_left": hours_left,
        "firmware": firmware,
        "firmware_compliant": compliant,
        "firmware_target": target_firmware,
        "signal": signal_quality(rssi) if rssi is not None else "unknown",
        "rssi_dbm": rssi,
        "uptime_h": round(int(detail.get("uptime_s") or 0) / 3600, 1),
        "station_id": detail.get("station_id"),
    }


def handler(event, context, save_state: SaveState | None = None):
    detail, _ = scanlib.unwrap(event, "DeviceHeartbeat", "DeviceHeartbeat event")
    state = device_state(
        detail,
        low_battery_pct=scanlib.env_int("LOW_BATTERY_PCT", 20),
        target_firmware=scanlib.env_str("TARGET_FIRMWARE", "3.4.0"),
        drain_per_hour=scanlib.env_float("BATTERY_DRAIN_PCT_PER_HOUR", 8.0),
    )
    if save_state is not None:
        save_state(state["serial"], state)
    emitted = []
    if not state["firmware_compliant"]:
        emitted.append(
            {
                "Source": "scanner.registry",
                "DetailType": "FirmwareOutdated",
                "Detail": {k: state[k] for k in ("serial", "firmware", "firmware_target", "station_id")},
                "EventBusName": scanlib.env_str("EVENT_BUS_NAME", "default"),
            }
        )
    return {"device": state, "emitted": emitted, **scanlib.request_info(context)}
