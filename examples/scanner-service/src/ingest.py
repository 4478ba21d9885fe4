"""Ingest ``ScanCompleted`` events from the scanners: validate, normalise, accept or reject, re-emit."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import barcodes
import scanlib

logger = scanlib.get_logger(__name__)

RESULTS = ("DECODED", "NO_READ")
Publish = Callable[[list[dict[str, Any]]], None]


class ScanValidationError(scanlib.EventValidationError):
    """The scan event is malformed; it is not retried (the destination quarantines it)."""


def normalise_scan(detail: dict[str, Any], received_at: Any) -> dict[str, Any]:
    """One validated, normalised scan record; raises ``ScanValidationError`` listing every problem."""
    problems = scanlib.Problems("ScanCompleted event")
    serial = detail.get("device_serial")
    if not isinstance(serial, str) or not scanlib.SERIAL.match(serial.strip().upper()):
        problems.add(f"detail.device_serial must look like 'WS2-000417A3', got {serial!r}")
    scanned_at = scanlib.parse_time(detail.get("scanned_at"), "detail.scanned_at", problems)
    result = str(detail.get("result", "DECODED")).upper()
    if result not in RESULTS:
        problems.add(f"detail.result must be one of {list(RESULTS)}, got {detail.get('result')!r}")
    decode_ms = detail.get("decode_ms")
    if isinstance(decode_ms, bool) or not isinstance(decode_ms, int) or not 0 <= decode_ms <= 60_000:
        problems.add(f"detail.decode_ms must be an integer between 0 and 60000, got {decode_ms!r}")
    barcode = detail.get("barcode")
    if result == "DECODED" and (not isinstance(barcode, str) or not barcode.strip()):
        problems.add("detail.barcode is required when result is DECODED")
    for optional in ("operator_badge", "station_id", "symbology"):
        if detail.get(optional) is not None and not isinstance(detail[optional], str):
            problems.add(f"detail.{optional} must be a string, got {detail[optional]!r}")
    problems.raise_if_any(ScanValidationError)
    assert scanned_at is not None

    skew_limit = timedelta(seconds=scanlib.env_int("MAX_CLOCK_SKEW_SECONDS", 300))
    clock_corrected = scanned_at - received_at > skew_limit
    if clock_corrected:
        scanned_at = received_at

    serial = serial.strip().upper()
    scan: dict[str, Any] = {
        "scan_id": "",
        "device_serial": serial,
        "scanned_at": scanlib.iso(scanned_at),
        "received_at": scanlib.iso(received_at),
        "latency_ms": max(0, int((received_at - scanned_at).total_seconds() * 1000)),
        "clock_corrected": clock_corrected,
        "result": result,
        "decode_ms": decode_ms,
        "operator_badge": (detail.get("operator_badge") or "").strip().upper() or None,
        "station_id": (detail.get("station_id") or "").strip().lower() or None,
        "symbology": None,
        "barcode": None,
        "gtin": None,
        "gs1": {},
        "outcome": "accepted",
        "reject_reason": None,
    }
    if result == "DECODED":
        try:
            code = barcodes.normalise(barcode, detail.get("symbology"))
        except barcodes.BarcodeError as exc:
            scan.update(barcode=barcode.strip(), outcome="rejected", reject_reason=str(exc))
        else:
            scan.update(symbology=code.symbology, barcode=code.data, gtin=code.gtin, gs1=code.gs1)
    identity = f"{serial}|{scan['scanned_at']}|{scan['barcode'] or ''}"
    scan["scan_id"] = hashlib.sha256(identity.encode()).hexdigest()[:24]
    return scan


def handler(event, context, publish: Publish | None = None):
    detail, meta = scanlib.unwrap(event, "ScanCompleted", "ScanCompleted event")
    received_at = scanlib.parse_time(meta["time"], "time") if meta.get("time") else scanlib.now_utc()
    if scanlib.env_str("LOG_PAYLOADS", "false") == "true":
        logger.info("ScanCompleted %s", json.dumps(detail, sort_keys=True))
    scan = normalise_scan(detail, received_at)
    entry = {
        "Source": "scanner.ingest",
        "DetailType": "ScanAccepted" if scan["outcome"] == "accepted" else "ScanRejected",
        "Detail": scan,
        "EventBusName": scanlib.env_str("EVENT_BUS_NAME", "default"),
    }
    if publish is not None:
        publish([entry])
    if scan["outcome"] == "rejected":
        logger.warning(
            "rejected scan %s from %s: %s", scan["scan_id"], scan["device_serial"], scan["reject_reason"]
        )
    return {"scan": scan, "emitted": [entry], **scanlib.request_info(context)}
