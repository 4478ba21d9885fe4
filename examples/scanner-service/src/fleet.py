"""Hourly fleet snapshot: which scanners are online, stale, on old firmware or running out of battery."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import scanlib

LoadDevices = Callable[[], list[dict[str, Any]]]


class FleetInputError(scanlib.EventValidationError):
    """The snapshot request or a device record is malformed."""


def snapshot(
    devices: list[dict[str, Any]], as_of: datetime, stale_after: timedelta, target: str, low_battery: int
) -> dict[str, Any]:
    target_version = scanlib.parse_version(target)
    if target_version is None:
        raise ValueError(f"TARGET_FIRMWARE must be a version like '3.4.0', got {target!r}")
    problems = scanlib.Problems("fleet snapshot input")
    online = stale = never_seen = compliant = 0
    firmware: Counter[str] = Counter()
    sites: Counter[str] = Counter()
    attention = []
    active = [d for d in devices if isinstance(d, dict) and d.get("status", "ACTIVE") == "ACTIVE"]
    for index, device in enumerate(devices):
        if not isinstance(device, dict) or not isinstance(device.get("serial"), str):
            problems.add(f"devices[{index}] must be an object with a serial")
    problems.raise_if_any(FleetInputError)
    for device in active:
        reasons = []
        sites[device.get("site_id") or "unassigned"] += 1
        seen = device.get("last_seen")
        if seen is None:
            never_seen += 1
            reasons.append("never seen")
        elif as_of - scanlib.parse_time(seen, f"{device['serial']}.last_seen") > stale_after:
            stale += 1
            reasons.append(f"silent since {seen}")
        else:
            online += 1
        version = device.get("firmware") or "unknown"
        firmware[version] += 1
        parsed = scanlib.parse_version(version)
        if parsed is not None and parsed >= target_version:
            compliant += 1
        else:
            reasons.append(f"firmware {version} below {target}")
        battery = device.get("battery_pct")
        if isinstance(battery, int) and battery < low_battery and not device.get("charging"):
            reasons.append(f"battery {battery}%")
        if reasons:
            attention.append(
                {"serial": device["serial"], "site_id": device.get("site_id"), "reasons": reasons}
            )
    return {
        "as_of": scanlib.iso(as_of),
        "devices": len(active),
        "retired_or_pending": len(devices) - len(active),
        "online": online,
        "stale": stale,
        "never_seen": never_seen,
        "availability_pct": scanlib.ratio_pct(online, len(active)),
        "firmware": dict(sorted(firmware.items())),
        "firmware_target": target,
        "firmware_compliance_pct": scanlib.ratio_pct(compliant, len(active)),
        "by_site": dict(sorted(sites.items())),
        "needs_attention": sorted(attention, key=lambda a: a["serial"]),
    }


def handler(event, context, load_devices: LoadDevices | None = None):
    if not isinstance(event, dict):
        raise FleetInputError("fleet snapshot input", [f"expected a JSON object, got {type(event).__name__}"])
    as_of = scanlib.parse_time(event["as_of"], "as_of") if event.get("as_of") else scanlib.now_utc()
    if load_devices is not None:
        devices = load_devices()
    else:
        devices = event.get("devices", [])
        if not isinstance(devices, list):
            raise FleetInputError("fleet snapshot input", ["devices must be a list of device records"])
    result = snapshot(
        devices,
        as_of,
        timedelta(minutes=scanlib.env_int("STALE_AFTER_MINUTES", 60)),
        scanlib.env_str("TARGET_FIRMWARE", "3.4.0"),
        scanlib.env_int("LOW_BATTERY_PCT", 20),
    )
    return {**result, **scanlib.request_info(context)}
