"""Enrich accepted scans with the device registry (site, station, zone, shift) and count them per window."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import barcodes
import scanlib

logger = scanlib.get_logger(__name__)

DeviceLookup = Callable[[str], dict[str, Any] | None]
Store = Callable[[dict[str, Any]], None]
SHIFTS = (("night", 0, 6), ("early", 6, 14), ("late", 14, 22), ("night", 22, 24))


def shift_of(moment: datetime, timezone: str | None) -> dict[str, str]:
    """The site-local shift (early 06-14, late 14-22, night 22-06) and the date the shift started on."""
    try:
        local = moment.astimezone(ZoneInfo(timezone or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        local = moment
    name = next(name for name, start, end in SHIFTS if start <= local.hour < end)
    started = local - timedelta(days=1) if name == "night" and local.hour < 6 else local
    return {"shift": name, "shift_date": started.date().isoformat(), "local_time": local.isoformat()}


def window_start(moment: datetime, minutes: int) -> datetime:
    floored = (moment.hour * 60 + moment.minute) // minutes * minutes
    return moment.replace(hour=floored // 60, minute=floored % 60, second=0, microsecond=0)


def enrich(scan: dict[str, Any], device: dict[str, Any] | None, window_minutes: int) -> dict[str, Any]:
    scanned_at = scanlib.parse_time(scan.get("scanned_at"), "detail.scanned_at")
    assert scanned_at is not None
    warnings = []
    if device is None:
        status, site, station, zone, timezone = "UNREGISTERED", None, scan.get("station_id"), None, None
        warnings.append("device is not in the registry; onboarding requested")
    else:
        status = device.get("status", "ACTIVE")
        site, zone, timezone = device.get("site_id"), device.get("zone"), device.get("timezone")
        station = device.get("station_id") or scan.get("station_id")
        if scan.get("station_id") and device.get("station_id") and scan["station_id"] != device["station_id"]:
            warnings.append(
                f"scan reports station {scan['station_id']!r}, registry says {device['station_id']!r}"
            )
        if status == "RETIRED":
            warnings.append("device is retired but still scanning")
    enriched = {
        **scan,
        "device_status": status,
        "device_model": (device or {}).get("model"),
        "site_id": site,
        "station_id": station,
        "zone": zone,
        **shift_of(scanned_at, timezone),
        "origin_country": barcodes.gs1_country(scan["gtin"]) if scan.get("gtin") else None,
        "warnings": warnings,
    }
    start = window_start(scanned_at, window_minutes)
    decoded = scan.get("result") == "DECODED"
    rejected = scan.get("outcome") == "rejected"
    update = {
        "table": scanlib.env_str("AGGREGATES_TABLE", "scan-aggregates"),
        "key": {"station_id": station or "unassigned", "window_start": scanlib.iso(start)},
        "set": {"site_id": site, "window_minutes": window_minutes},
        "add": {
            "scans": 1,
            "decoded": int(decoded and not rejected),
            "no_reads": int(not decoded),
            "rejected": int(rejected),
            "decode_ms_total": int(scan.get("decode_ms") or 0),
        },
    }
    return {"scan": enriched, "aggregate_update": update}


def handler(event, context, lookup_device: DeviceLookup | None = None, store: Store | None = None):
    scan, _ = scanlib.unwrap(event, "ScanAccepted", "ScanAccepted event")
    if not scan.get("device_serial"):
        raise scanlib.EventValidationError("ScanAccepted event", ["detail.device_serial is required"])
    device = lookup_device(scan["device_serial"]) if lookup_device is not None else None
    result = enrich(scan, device, scanlib.env_int("AGGREGATION_WINDOW_MINUTES", 15))
    if store is not None:
        store(result["aggregate_update"])
    emitted = []
    if device is None:
        emitted.append(
            {
                "Source": "scanner.ingest",
                "DetailType": "DeviceRegistrationRequested",
                "Detail": {
                    "serial": scan["device_serial"],
                    "station_id": scan.get("station_id"),
                    "first_seen": scan["scanned_at"],
                    "requested_by": "enrich-scan",
                },
                "EventBusName": scanlib.env_str("EVENT_BUS_NAME", "default"),
            }
        )
        logger.info("unregistered device %s seen; onboarding requested", scan["device_serial"])
    return {**result, "emitted": emitted, **scanlib.request_info(context)}
