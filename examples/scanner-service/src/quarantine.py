"""On-failure destination: turn a failed async invocation into a quarantine record an operator can replay."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import scanlib

logger = scanlib.get_logger(__name__)

Keep = Callable[[dict[str, Any]], None]
PERMANENT = {
    "ScanValidationError",
    "HeartbeatValidationError",
    "AggregationInputError",
    "EventValidationError",
}


class NotADestinationRecord(scanlib.EventValidationError):
    """The input is not an on-failure destination record."""


def classify(error_type: str | None, condition: str) -> str:
    if error_type in PERMANENT:
        return "poison"
    if condition == "EventAgeExceeded" or error_type in {"TooManyRequestsException", "Sandbox.Timedout"}:
        return "capacity"
    return "transient" if error_type is None else "bug"


def quarantine_record(record: dict[str, Any], account_id: str | None) -> dict[str, Any]:
    problems = scanlib.Problems("on-failure destination record")
    request = record.get("requestContext")
    if not isinstance(request, dict):
        problems.add("requestContext is required (this function is an EventInvokeConfig OnFailure target)")
        request = {}
    for key in ("requestId", "functionArn", "condition"):
        if not isinstance(request.get(key), str):
            problems.add(f"requestContext.{key} must be a string")
    if "requestPayload" not in record:
        problems.add("requestPayload is required")
    problems.raise_if_any(NotADestinationRecord)

    arn_parts = request["functionArn"].split(":")
    function = arn_parts[6] if len(arn_parts) > 6 else request["functionArn"]
    error = record.get("responsePayload") if isinstance(record.get("responsePayload"), dict) else {}
    error_type = error.get("errorType")
    payload = record["requestPayload"]
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    event_meta = payload if isinstance(payload, dict) else {}
    category = classify(error_type, request["condition"])
    return {
        "quarantine_id": hashlib.sha256(f"{function}|{canonical}".encode()).hexdigest()[:32],
        "account_id": account_id or (arn_parts[4] if len(arn_parts) > 4 else None),
        "function": function,
        "request_id": request["requestId"],
        "condition": request["condition"],
        "attempts": int(request.get("approximateInvokeCount") or 0),
        "failed_at": record.get("timestamp"),
        "error_type": error_type,
        "error_message": error.get("errorMessage"),
        "category": category,
        "replayable": category != "poison",
        "event_source": event_meta.get("source"),
        "event_detail_type": event_meta.get("detail-type"),
        "payload_bytes": len(canonical.encode()),
        "payload": payload,
    }


def handler(event, context, keep: Keep | None = None):
    if not isinstance(event, dict):
        raise NotADestinationRecord("on-failure destination record", ["expected a JSON object"])
    item = quarantine_record(event, getattr(context, "account_id", None))
    if keep is not None:
        keep(item)
    logger.warning(
        "quarantined %s from %s (%s, %s): %s",
        item["quarantine_id"],
        item["function"],
        item["condition"],
        item["category"],
        item["error_message"],
    )
    summary = {k: v for k, v in item.items() if k != "payload"}
    return {"quarantined": summary, **scanlib.request_info(context)}
