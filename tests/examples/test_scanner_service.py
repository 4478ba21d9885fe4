"""The example scanner-service: its template, every handler on its sample event, and its error paths.

The handlers are imported straight from ``examples/scanner-service/src`` (as the runtime does, by
putting the code directory on ``sys.path``) and called with a fake Lambda context.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from silo import templates
from silo.functions import InvokeOutcome, zip_directory
from silo.platform import AccountHandle

SERVICE = Path(__file__).resolve().parents[2] / "examples" / "scanner-service"
SRC = SERVICE / "src"
EVENTS = SERVICE / "events"
TEMPLATE = SERVICE / "template.yaml"
ACCOUNT = "418522679003"


class FakeContext:
    """What the runtime passes as ``context``, enough for these handlers."""

    def __init__(self, function_name: str = "scanner-test", timeout_s: float = 10.0) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 256
        self.invoked_function_arn = f"arn:silo:lambda:local:{ACCOUNT}:function:{function_name}:$LATEST"
        self.account_id = ACCOUNT
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation short tags (``!Ref X`` -> ``{"Ref": "X"}``) without evaluating them."""


def _tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {"Ref" if suffix == "Ref" else f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _tagged)


def _raw_template() -> dict[str, Any]:
    document = yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)
    assert isinstance(document, dict)
    return document


def _sample_name(logical_id: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", logical_id.removesuffix("Function")).lower()


FUNCTIONS = {
    logical_id: resource["Properties"]["Handler"]
    for logical_id, resource in _raw_template()["Resources"].items()
    if resource["Type"] == "AWS::Serverless::Function"
}


def _environment_names() -> set[str]:
    raw = _raw_template()
    names = set(raw["Globals"]["Function"]["Environment"]["Variables"])
    for resource in raw["Resources"].values():
        names.update(resource["Properties"].get("Environment", {}).get("Variables", {}))
    return names | {"MIN_SCANS_PER_MINUTE", "SILO_KEY", "SILO_ENDPOINT"}


SERVICE_ENV = sorted(_environment_names())


def sample(name: str) -> Any:
    return json.loads((EVENTS / f"{name}.json").read_text())


@pytest.fixture(scope="module")
def svc() -> Iterator[SimpleNamespace]:
    """The service's modules, imported from its code directory; sys.path and sys.modules restored after."""
    names = sorted(path.stem for path in SRC.glob("*.py"))
    saved = {name: sys.modules.pop(name) for name in names if name in sys.modules}
    bytecode = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    sys.path.insert(0, str(SRC))
    try:
        modules = {name: importlib.import_module(name) for name in names}
        for module in modules.values():
            assert Path(str(module.__file__)).parent == SRC, module
        yield SimpleNamespace(**modules)
    finally:
        sys.path.remove(str(SRC))
        sys.dont_write_bytecode = bytecode
        for name in names:
            sys.modules.pop(name, None)
        sys.modules.update(saved)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The handlers' defaults, whatever the test process's environment holds."""
    for name in SERVICE_ENV:
        monkeypatch.delenv(name, raising=False)


def call(svc: SimpleNamespace, handler: str, event: Any, **seams: Any) -> Any:
    module_name, function_name = handler.split(".")
    function: Callable[..., Any] = getattr(getattr(svc, module_name), function_name)
    return function(event, FakeContext(), **seams)


# --- template ---------------------------------------------------------------------------------------


def test_the_template_has_10_to_15_functions_sharing_one_code_directory(svc: SimpleNamespace) -> None:
    raw = _raw_template()
    assert raw["Transform"] == "AWS::Serverless-2016-10-31"
    assert 10 <= len(FUNCTIONS) <= 15
    for logical_id, handler in FUNCTIONS.items():
        assert raw["Resources"][logical_id]["Properties"]["CodeUri"] == "src/"
        module_name, function_name = handler.split(".")
        assert callable(getattr(getattr(svc, module_name), function_name)), handler
    samples = {path.stem for path in EVENTS.glob("*.json")}
    assert samples == {_sample_name(logical_id) for logical_id in FUNCTIONS}


def test_the_template_validates_and_resolves_for_every_stage() -> None:
    checked = templates.validate(TEMPLATE.read_text(), source=str(TEMPLATE))
    functions = [r for r in checked.resources.values() if r.kind == "function"]
    assert 10 <= len(functions) <= 15
    kinds = {r.kind for r in checked.resources.values()}
    assert kinds == {"function", "rule", "schedule", "event_bus", "table", "state_machine"}

    template = templates.load_template(TEMPLATE.read_text())
    dev = templates.resolve(template, {"Stage": "dev"}, account_id=ACCOUNT, stack_name="scanner")
    prod = templates.resolve(
        template,
        {"Stage": "prod", "ServiceVersion": "2.1.0", "LogLevel": "DEBUG"},
        account_id=ACCOUNT,
        stack_name="scanner",
    )
    ingest = prod.resources["IngestScanFunction"].properties
    assert ingest["memory_size"] == 512
    assert ingest["on_failure"] == {"function": prod.resources["QuarantineFunction"].physical_name}
    assert ingest["environment"]["SERVICE_VERSION"] == "2.1.0"
    assert ingest["environment"]["API_VERSION"] == "v2"
    assert ingest["environment"]["LOG_PAYLOADS"] == "false"
    assert dev.resources["IngestScanFunction"].properties["memory_size"] == 256
    assert prod.resources["AggregateScansFunction"].properties["reserved_concurrency"] == 1
    assert prod.resources["AggregateScansFunctionEveryWindow"].properties["expression"] == "rate(5 minutes)"
    assert dev.resources["AggregateScansFunctionEveryWindow"].properties["expression"] == "rate(15 minutes)"
    assert prod.resources["FleetSnapshotFunctionHourly"].properties["enabled"] is True
    assert dev.resources["FleetSnapshotFunctionHourly"].properties["enabled"] is False
    alerts_env = prod.resources["EvaluateAlertsFunction"].properties["environment"]
    assert alerts_env["NOTIFY_FUNCTION"] == prod.resources["NotifyFunction"].physical_name
    assert alerts_env["ALERT_MIN_SCANS"] == "50"

    states = prod.resources["DeviceOnboardingStateMachine"].properties["definition"]["States"]
    assert states["ValidateDevice"]["Resource"] == prod.resources["ValidateDeviceFunction"].arn
    assert {state["Type"] for state in states.values()} == {"Task", "Wait", "Choice", "Succeed", "Fail"}
    rule = prod.resources["OnboardingRequestedRule"].properties
    assert rule["targets"][0]["arn"] == prod.resources["DeviceOnboardingStateMachine"].arn
    assert prod.outputs["ApiVersion"].value == "v2"


def test_the_template_refuses_a_bad_parameter_with_its_path() -> None:
    with pytest.raises(templates.TemplateError) as caught:
        templates.validate(TEMPLATE.read_text(), {"RetentionDays": "900"})
    assert caught.value.path == "Parameters.RetentionDays"


# --- every handler on its sample ----------------------------------------------------------------------


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_every_handler_runs_on_its_sample_event(svc: SimpleNamespace, logical_id: str) -> None:
    result = call(svc, FUNCTIONS[logical_id], sample(_sample_name(logical_id)))
    assert isinstance(result, dict) and result
    assert json.loads(json.dumps(result)) == result


def test_health_echoes_its_input_with_the_deployed_version(
    svc: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SERVICE_VERSION", "1.5.0")
    monkeypatch.setenv("STAGE", "prod")
    result = svc.health.handler(sample("health"), FakeContext("scanner-HealthFunction"))
    assert result["status"] == "ok"
    assert (result["version"], result["stage"]) == ("1.5.0", "prod")
    assert result["echo"] == sample("health")
    assert result["function"] == "scanner-HealthFunction"


# --- ingest -------------------------------------------------------------------------------------------


def _scan(**detail: Any) -> dict[str, Any]:
    event = sample("ingest-scan")
    event["detail"].update(detail)
    return event


def test_ingest_normalises_a_gs1_scan_and_emits_it(svc: SimpleNamespace) -> None:
    published: list[list[dict[str, Any]]] = []
    result = call(svc, "ingest.handler", sample("ingest-scan"), publish=published.append)
    scan = result["scan"]
    assert scan["device_serial"] == "WS2-000417A3"
    assert scan["operator_badge"] == "B-1042"
    assert scan["station_id"] == "inbound-dock-3"
    assert scan["scanned_at"] == "2025-03-14T08:15:01.412Z"
    assert scan["latency_ms"] == 588
    assert scan["symbology"] == "GS1_128"
    assert scan["gtin"] == "04006381333931"
    assert scan["gs1"] == {
        "gtin": "04006381333931",
        "expiry": "261231",
        "batch": "LOT-42",
        "serial": "SN7781",
    }
    assert scan["barcode"] == "(01)04006381333931(17)261231(10)LOT-42(21)SN7781"
    assert scan["outcome"] == "accepted"
    assert published == [result["emitted"]]
    assert result["emitted"][0]["DetailType"] == "ScanAccepted"
    assert result["emitted"][0]["Detail"] == sample("enrich-scan")["detail"]
    assert call(svc, "ingest.handler", sample("ingest-scan"))["scan"]["scan_id"] == scan["scan_id"]


def test_ingest_reads_the_aim_prefix_and_tells_upc_a_from_ean_13(svc: SimpleNamespace) -> None:
    scan = call(svc, "ingest.handler", _scan(barcode="]E0036000291452", symbology=None))["scan"]
    assert (scan["symbology"], scan["gtin"], scan["outcome"]) == ("UPCA", "00036000291452", "accepted")


def test_ingest_rejects_a_barcode_with_a_wrong_check_digit(svc: SimpleNamespace) -> None:
    result = call(svc, "ingest.handler", _scan(barcode="4006381333932", symbology="EAN13"))
    assert result["scan"]["outcome"] == "rejected"
    assert result["scan"]["reject_reason"] == "EAN13 4006381333932 fails its check digit: expected 1, got 2"
    assert result["emitted"][0]["DetailType"] == "ScanRejected"


def test_ingest_accepts_a_no_read_and_corrects_a_clock_that_runs_ahead(svc: SimpleNamespace) -> None:
    no_read = call(svc, "ingest.handler", _scan(result="NO_READ", barcode=None))["scan"]
    assert (no_read["result"], no_read["barcode"], no_read["outcome"]) == ("NO_READ", None, "accepted")
    ahead = call(svc, "ingest.handler", _scan(scanned_at="2025-03-14T08:25:00Z"))["scan"]
    assert ahead["clock_corrected"] is True
    assert ahead["scanned_at"] == ahead["received_at"] == "2025-03-14T08:15:02.000Z"


def test_ingest_names_every_faulty_field(svc: SimpleNamespace) -> None:
    event = _scan(device_serial="scanner 7", decode_ms=-3, result="MAYBE", scanned_at="yesterday")
    with pytest.raises(svc.ingest.ScanValidationError) as caught:
        call(svc, "ingest.handler", event)
    message = str(caught.value)
    assert message.startswith("ScanCompleted event is invalid: ")
    for field in ("detail.device_serial", "detail.scanned_at", "detail.result", "detail.decode_ms"):
        assert field in message
    assert len(caught.value.problems) == 4


def test_ingest_refuses_another_detail_type(svc: SimpleNamespace) -> None:
    with pytest.raises(ValueError, match="detail-type must be 'ScanCompleted', got 'DeviceHeartbeat'"):
        call(svc, "ingest.handler", sample("device-heartbeat"))


def test_barcode_helpers(svc: SimpleNamespace) -> None:
    barcodes = svc.barcodes
    assert barcodes.gs1_check_digit("400638133393") == 1
    assert barcodes.normalise("96385074", "EAN8").gtin == "00000096385074"
    assert barcodes.gs1_country("04006381333931") == "DE"
    assert barcodes.gs1_country("00036000291452") == "US/CA"
    with pytest.raises(barcodes.BarcodeError, match="unknown GS1 application identifier"):
        barcodes.normalise("(99)abc", "GS1_128")
    with pytest.raises(barcodes.BarcodeError, match="unsupported symbology 'PDF417'"):
        barcodes.normalise("abc", "PDF417")


# --- enrich -------------------------------------------------------------------------------------------

DEVICE = {
    "serial": "WS2-000417A3",
    "model": "WS-200",
    "site_id": "hamburg-dc1",
    "station_id": "inbound-dock-3",
    "zone": "inbound",
    "timezone": "Europe/Berlin",
    "status": "ACTIVE",
}


def test_enrich_adds_site_zone_and_shift_from_the_registry(svc: SimpleNamespace) -> None:
    looked_up: list[str] = []
    stored: list[dict[str, Any]] = []

    def lookup(serial: str) -> dict[str, Any]:
        looked_up.append(serial)
        return DEVICE

    result = call(svc, "enrich.handler", sample("enrich-scan"), lookup_device=lookup, store=stored.append)
    scan = result["scan"]
    assert looked_up == ["WS2-000417A3"]
    assert (scan["site_id"], scan["zone"], scan["device_status"]) == ("hamburg-dc1", "inbound", "ACTIVE")
    assert (scan["shift"], scan["shift_date"]) == ("early", "2025-03-14")
    assert scan["local_time"].startswith("2025-03-14T09:15:01")
    assert scan["origin_country"] == "DE"
    assert scan["warnings"] == []
    update = result["aggregate_update"]
    assert stored == [update]
    assert update["key"] == {"station_id": "inbound-dock-3", "window_start": "2025-03-14T08:15:00.000Z"}
    assert update["add"] == {"scans": 1, "decoded": 1, "no_reads": 0, "rejected": 0, "decode_ms_total": 38}
    assert result["emitted"] == []


def test_enrich_requests_onboarding_for_an_unknown_scanner(svc: SimpleNamespace) -> None:
    result = call(svc, "enrich.handler", sample("enrich-scan"))
    assert result["scan"]["device_status"] == "UNREGISTERED"
    assert [e["DetailType"] for e in result["emitted"]] == ["DeviceRegistrationRequested"]
    request = {**sample("validate-device"), "detail": result["emitted"][0]["Detail"]}
    validated = call(svc, "onboarding.validate_device", request)
    assert validated["device"]["model"] == "WS-200"
    assert validated["device"]["site_id"] == "unassigned"


def test_enrich_dates_a_night_shift_by_its_start_and_flags_a_station_mismatch(svc: SimpleNamespace) -> None:
    event = sample("enrich-scan")
    event["detail"].update(scanned_at="2025-03-14T02:30:00.000Z", station_id="packing-02")
    scan = call(svc, "enrich.handler", event, lookup_device=lambda serial: DEVICE)["scan"]
    assert (scan["shift"], scan["shift_date"]) == ("night", "2025-03-13")
    assert scan["station_id"] == "inbound-dock-3"
    assert scan["warnings"] == ["scan reports station 'packing-02', registry says 'inbound-dock-3'"]


# --- heartbeat ----------------------------------------------------------------------------------------


def test_heartbeat_reports_battery_firmware_and_signal(svc: SimpleNamespace) -> None:
    saved: dict[str, dict[str, Any]] = {}
    result = call(svc, "heartbeat.handler", sample("device-heartbeat"), save_state=saved.__setitem__)
    device = result["device"]
    assert saved == {"WS2-000417A3": device}
    assert (device["battery_status"], device["battery_hours_left"]) == ("ok", 4.2)
    assert (device["firmware_compliant"], device["signal"], device["uptime_h"]) == (False, "good", 5.4)
    assert result["emitted"][0]["DetailType"] == "FirmwareOutdated"


@pytest.mark.parametrize(
    ("battery", "charging", "status"), [(15, False, "low"), (9, False, "critical"), (9, True, "charging")]
)
def test_heartbeat_battery_levels(svc: SimpleNamespace, battery: int, charging: bool, status: str) -> None:
    event = sample("device-heartbeat")
    event["detail"].update(battery_pct=battery, charging=charging, firmware="3.4.0")
    result = call(svc, "heartbeat.handler", event)
    assert result["device"]["battery_status"] == status
    assert result["emitted"] == []


def test_heartbeat_names_every_faulty_field(svc: SimpleNamespace) -> None:
    event = sample("device-heartbeat")
    event["detail"].update(battery_pct=140, firmware="latest", rssi_dbm=12)
    with pytest.raises(svc.heartbeat.HeartbeatValidationError) as caught:
        call(svc, "heartbeat.handler", event)
    assert [p.split(" ")[0] for p in caught.value.problems] == [
        "detail.battery_pct",
        "detail.firmware",
        "detail.rssi_dbm",
    ]


# --- aggregate ----------------------------------------------------------------------------------------


def test_aggregate_rolls_a_window_up_per_station(
    svc: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGGREGATE_RETENTION_DAYS", "7")
    saved: list[list[dict[str, Any]]] = []
    result = call(svc, "aggregate.handler", sample("aggregate-scans"), save_items=saved.append)
    assert result["window"] == {
        "start": "2025-03-14T08:15:00.000Z",
        "end": "2025-03-14T08:30:00.000Z",
        "minutes": 15,
    }
    assert result["totals"] == {
        "stations": 2,
        "scans": 10,
        "errors": 2,
        "error_rate_pct": 20.0,
        "scans_per_minute": 0.67,
        "out_of_window": 1,
    }
    inbound, picking = result["stations"]
    assert (inbound["station_id"], inbound["scans"], inbound["no_reads"], inbound["rejected"]) == (
        "inbound-dock-3",
        6,
        1,
        1,
    )
    assert inbound["error_rate_pct"] == 33.33
    assert (inbound["decode_ms_p50"], inbound["decode_ms_p95"]) == (38.0, 57.0)
    assert (inbound["devices"], inbound["operators"]) == (2, 2)
    assert picking["top_symbologies"] == ["EAN13", "EAN8"]
    assert picking["error_rate_pct"] == 0.0
    expires = datetime(2025, 3, 21, 8, 30, tzinfo=UTC).timestamp()
    assert saved == [result["items"]]
    assert all(item["expires_at"] == expires for item in result["items"])
    assert result["emitted"][0]["DetailType"] == "ScanWindowAggregated"


def test_aggregate_on_schedule_loads_the_window_that_just_closed(svc: SimpleNamespace) -> None:
    asked: list[tuple[datetime, datetime]] = []

    def load(start: datetime, end: datetime) -> list[dict[str, Any]]:
        asked.append((start, end))
        return []

    tick = {
        "source": "aws.events",
        "detail-type": "Scheduled Event",
        "time": "2025-03-14T08:31:07Z",
        "detail": {},
    }
    result = call(svc, "aggregate.handler", tick, load_scans=load)
    start = datetime(2025, 3, 14, 8, 15, tzinfo=UTC)
    assert asked == [(start, start + timedelta(minutes=15))]
    assert result["status"] == "no-data"
    assert result["totals"]["scans"] == 0
    assert call(svc, "aggregate.handler", tick)["status"] == "no-data"


def test_aggregate_names_bad_scans(svc: SimpleNamespace) -> None:
    event = sample("aggregate-scans")
    event["scans"][2]["scanned_at"] = "08:16"
    del event["scans"][4]["device_serial"]
    with pytest.raises(svc.aggregate.AggregationInputError) as caught:
        call(svc, "aggregate.handler", event)
    assert caught.value.problems == [
        "scans[2].scanned_at is not an ISO-8601 timestamp: '08:16'",
        "scans[4] must be an object with a device_serial",
    ]
    with pytest.raises(svc.aggregate.AggregationInputError, match="window_minutes must be 1-1440"):
        call(svc, "aggregate.handler", {**sample("aggregate-scans"), "window_minutes": 0})


def test_percentile_is_nearest_rank(svc: SimpleNamespace) -> None:
    assert svc.scanlib.percentile([], 95) is None
    assert svc.scanlib.percentile([5, 1, 4, 2, 3], 50) == 3
    assert svc.scanlib.percentile(list(range(1, 101)), 95) == 95


# --- alerts and notify --------------------------------------------------------------------------------


def test_alerts_flag_error_rate_and_slow_decoding(svc: SimpleNamespace) -> None:
    sent: list[dict[str, Any]] = []
    result = call(svc, "alerts.handler", sample("evaluate-alerts"), notify=lambda p: sent.append(p) or "ok")
    kinds = [(a["station_id"], a["kind"], a["severity"]) for a in result["alerts"]]
    assert kinds == [
        ("inbound-dock-3", "error-rate", "critical"),
        ("packing-02", "error-rate", "warning"),
        ("packing-02", "slow-decode", "warning"),
    ]
    assert result["alerts"][0]["value"] == 12.62
    assert sent == [{"source": "evaluate-alerts", "alerts": result["alerts"]}]
    assert result["notification"] == "ok"


def test_alerts_respect_thresholds_and_minimum_sample(
    svc: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ERROR_RATE_ALERT_PCT", "15")
    monkeypatch.setenv("DECODE_P95_ALERT_MS", "400")
    quiet = call(svc, "alerts.handler", sample("evaluate-alerts"))
    assert quiet["alerts"] == []
    assert quiet["notification"] == {"sent": False, "reason": "no alerts"}
    monkeypatch.delenv("DECODE_P95_ALERT_MS")
    monkeypatch.setenv("ERROR_RATE_ALERT_PCT", "5")
    monkeypatch.setenv("ALERT_MIN_SCANS", "400")
    judged = call(svc, "alerts.handler", sample("evaluate-alerts"))["alerts"]
    assert [(a["station_id"], a["kind"]) for a in judged] == [("inbound-dock-3", "error-rate")]


def test_alerts_report_a_notifier_that_cannot_be_reached(
    svc: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert call(svc, "alerts.handler", sample("evaluate-alerts"))["notification"] == {
        "sent": False,
        "reason": "NOTIFY_FUNCTION is not set",
    }
    monkeypatch.setenv("NOTIFY_FUNCTION", "scanner-NotifyFunction")
    notification = call(svc, "alerts.handler", sample("evaluate-alerts"))["notification"]
    assert notification["sent"] is False
    assert notification["reason"].startswith("NoCredentials")


def test_notify_formats_each_kind_of_input(svc: SimpleNamespace) -> None:
    delivered: list[dict[str, Any]] = []

    def deliver(note: dict[str, Any]) -> str:
        delivered.append(note)
        return "test"

    battery = call(svc, "notify.handler", sample("notify"), deliver=deliver)
    assert battery["notification"]["severity"] == "critical"
    assert battery["notification"]["subject"] == "Scanner WS3-0009B2C1 battery at 9%"
    assert battery["delivered_via"] == "test"

    alerts = call(svc, "alerts.handler", sample("evaluate-alerts"), notify=lambda payload: payload)
    note = call(svc, "notify.handler", alerts["notification"], deliver=deliver)["notification"]
    assert note["severity"] == "critical"
    assert note["subject"] == "3 scan alert(s) at inbound-dock-3, packing-02"
    assert note["body"][0] == (
        "[critical] inbound-dock-3: 12.6% of scans failed (no-read or rejected), limit 5.0%"
    )

    failed = {
        **sample("validate-device"),
        "error": {
            "Error": "DeviceValidationError",
            "Cause": json.dumps({"errorMessage": "serial must look like 'WS2-000417A3', got 'x'"}),
        },
    }
    note = call(svc, "notify.handler", failed, deliver=deliver)["notification"]
    assert note["subject"] == "Onboarding of WS3-0009B2C1 failed: DeviceValidationError"
    assert note["body"] == ["serial must look like 'WS2-000417A3', got 'x'"]
    assert len(delivered) == 3
    assert len({n["dedup_key"] for n in delivered}) == 3


def test_notify_suppresses_below_the_minimum_severity(
    svc: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTIFY_MIN_SEVERITY", "critical")
    event = sample("notify")
    event["detail"]["battery_pct"] = 13
    result = call(svc, "notify.handler", event, deliver=pytest.fail)
    assert (result["suppressed"], result["delivered_via"]) == (True, None)


def test_notify_refuses_what_it_does_not_know(svc: SimpleNamespace) -> None:
    with pytest.raises(svc.notify.UnknownNotificationInput, match="expected \\{'alerts'"):
        call(svc, "notify.handler", {"hello": "world"})


# --- report and fleet ---------------------------------------------------------------------------------


def test_daily_report_sums_stations_and_shifts(svc: SimpleNamespace) -> None:
    result = call(svc, "report.handler", sample("daily-report"))
    summary = result["summary"]
    items = sample("daily-report")["aggregates"]
    assert summary["totals"]["scans"] == sum(item["scans"] for item in items) == 5289
    assert summary["busiest_station"] == "picking-a12"
    assert summary["stations"]["inbound-dock-3"]["error_rate_pct"] == 10.83
    assert summary["stations"]["packing-02"]["worst_decode_ms_p95"] == 290
    assert sum(shift["scans"] for shift in summary["shifts"].values()) == 5289
    markdown = result["markdown"]
    assert markdown.startswith("# Scan report 2025-03-13 (scanner-service, dev)\n")
    assert "| inbound-dock-3 | 1,634 | 177 | 10.83 | 30.4 | 175 |" in markdown


def test_daily_report_assigns_shifts_in_the_site_time_zone(
    svc: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    utc = call(svc, "report.handler", sample("daily-report"))["summary"]["shifts"]
    monkeypatch.setenv("REPORT_TIMEZONE", "America/New_York")
    local = call(svc, "report.handler", sample("daily-report"))["summary"]["shifts"]
    assert utc != local
    assert sum(s["scans"] for s in utc.values()) == sum(s["scans"] for s in local.values())


def test_daily_report_on_schedule_reports_yesterday(svc: SimpleNamespace) -> None:
    tick = {"detail-type": "Scheduled Event", "time": "2025-03-14T04:17:00Z", "detail": {}}
    days: list[Any] = []
    result = call(svc, "report.handler", tick, load_aggregates=lambda day: days.append(day) or [])
    assert [d.isoformat() for d in days] == ["2025-03-13"]
    assert result["summary"]["totals"] == {"scans": 0, "errors": 0, "error_rate_pct": 0.0}
    with pytest.raises(svc.report.ReportInputError, match="date must be YYYY-MM-DD"):
        call(svc, "report.handler", {"date": "13.03.2025", "aggregates": []})


def test_fleet_snapshot_finds_devices_that_need_attention(svc: SimpleNamespace) -> None:
    result = call(svc, "fleet.handler", sample("fleet-snapshot"))
    assert (result["devices"], result["retired_or_pending"]) == (5, 1)
    assert (result["online"], result["stale"], result["never_seen"]) == (3, 1, 1)
    assert result["firmware_compliance_pct"] == 60.0
    assert result["by_site"] == {"bremen-xd2": 2, "hamburg-dc1": 3}
    reasons = {entry["serial"]: entry["reasons"] for entry in result["needs_attention"]}
    assert reasons == {
        "WR1-00A0F3E9": ["silent since 2025-03-14T03:05:12Z"],
        "WS2-000417A3": ["firmware 3.3.2 below 3.4.0"],
        "WS2-0004D111": ["never seen", "firmware unknown below 3.4.0"],
        "WS3-0009B2C1": ["battery 12%"],
    }


def test_fleet_snapshot_follows_the_target_firmware(
    svc: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TARGET_FIRMWARE", "3.4.1")
    assert call(svc, "fleet.handler", sample("fleet-snapshot"))["firmware_compliance_pct"] == 20.0
    monkeypatch.setenv("TARGET_FIRMWARE", "newest")
    with pytest.raises(ValueError, match="TARGET_FIRMWARE must be a version"):
        call(svc, "fleet.handler", sample("fleet-snapshot"))


# --- quarantine ---------------------------------------------------------------------------------------


def test_quarantine_classifies_a_poison_event(svc: SimpleNamespace) -> None:
    kept: list[dict[str, Any]] = []
    result = call(svc, "quarantine.handler", sample("quarantine"), keep=kept.append)
    record = result["quarantined"]
    assert record["function"] == "scanner-prod-IngestScanFunction"
    assert (record["account_id"], record["attempts"], record["condition"]) == (ACCOUNT, 3, "RetriesExhausted")
    assert (record["category"], record["replayable"]) == ("poison", False)
    assert (record["event_source"], record["event_detail_type"]) == ("scanner.device", "ScanCompleted")
    assert kept[0]["payload"] == sample("quarantine")["requestPayload"]
    assert "payload" not in record
    again = call(svc, "quarantine.handler", sample("quarantine"))["quarantined"]
    assert again["quarantine_id"] == record["quarantine_id"]


def test_quarantine_refuses_what_is_not_a_destination_record(svc: SimpleNamespace) -> None:
    with pytest.raises(svc.quarantine.NotADestinationRecord, match="requestContext is required"):
        call(svc, "quarantine.handler", sample("ingest-scan"))


# --- onboarding workflow ------------------------------------------------------------------------------


def test_onboarding_steps_chain_like_the_state_machine(
    svc: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVISIONING_POLL_SECONDS", "5")
    monkeypatch.setenv("PROVISIONING_MAX_ATTEMPTS", "3")
    saved: list[dict[str, Any]] = []
    state = call(svc, "onboarding.validate_device", sample("validate-device"))
    assert state == sample("register-device")
    state = call(svc, "onboarding.register_device", state, save=saved.append)
    assert state["device"]["status"] == "PROVISIONING"
    assert state["device"]["config_profile"]["display"] == {"layout": "two-line", "show_station": True}
    assert state["provisioning"] == {"status": "PENDING", "attempt": 0, "max_attempts": 3, "poll_seconds": 5}

    state = call(svc, "onboarding.check_provisioning", state)
    assert (state["provisioning"]["status"], state["provisioning"]["attempt"]) == ("PENDING", 1)
    beat = {"last_seen": "2999-01-01T00:00:00Z", "firmware": "3.4.0"}
    state = call(svc, "onboarding.check_provisioning", state, last_heartbeat=lambda serial: beat)
    assert (state["provisioning"]["status"], state["provisioning"]["attempt"]) == ("READY", 2)

    state = call(svc, "onboarding.activate_device", state, save=saved.append)
    assert state["device"]["status"] == "ACTIVE"
    assert state["device"]["firmware_update"] is None
    assert state["emitted"][0]["DetailType"] == "DeviceActivated"
    assert [d["status"] for d in saved] == ["PROVISIONING", "ACTIVE"]


def test_onboarding_times_out_when_the_device_never_checks_in(svc: SimpleNamespace) -> None:
    state = sample("check-provisioning")
    for _ in range(state["provisioning"]["max_attempts"]):
        state = call(svc, "onboarding.check_provisioning", state)
    assert state["provisioning"]["status"] == "TIMED_OUT"
    assert state["provisioning"]["reason"] == "device did not check in within 60 s"
    note = call(svc, "notify.handler", state)["notification"]
    assert note["subject"] == "Onboarding of WS3-0009B2C1 failed: TimedOut"


def test_onboarding_plans_a_firmware_update(svc: SimpleNamespace) -> None:
    state = call(svc, "onboarding.activate_device", sample("activate-device"))
    assert state["device"]["firmware_update"] == {"from": "3.2.0", "to": "3.4.0"}


def test_onboarding_refuses_bad_requests_and_out_of_order_steps(svc: SimpleNamespace) -> None:
    event = sample("validate-device")
    event["detail"].update(model="WR-100", site_id="Hamburg DC", firmware="v3")
    with pytest.raises(svc.onboarding.DeviceValidationError) as caught:
        call(svc, "onboarding.validate_device", event)
    assert caught.value.problems == [
        "serial prefix WS3 belongs to WS-300D, not WR-100",
        "site_id must be lower-case letters, digits and '-', got 'Hamburg DC'",
        "firmware must be a version like '3.4.0', got 'v3'",
    ]
    with pytest.raises(svc.onboarding.WorkflowStateError, match="provisioning is missing"):
        call(svc, "onboarding.check_provisioning", sample("register-device"))
    with pytest.raises(svc.onboarding.WorkflowStateError, match=r"provisioning\.status must be READY"):
        call(svc, "onboarding.activate_device", sample("check-provisioning"))


# --- in a real tenant account -------------------------------------------------------------------------


def test_the_service_runs_in_a_tenant_account(tenant: Callable[[str], AccountHandle]) -> None:
    """Deploy the resolved functions into one account and invoke each with its sample event."""
    account = tenant("scanner-tenant")
    deployed = account.stacks.deploy(
        "scanner",
        TEMPLATE.read_text(),
        parameters={"Stage": "prod", "ServiceVersion": "1.5.0"},
        code={"src/": zip_directory(SRC)},
    )
    assert deployed.stack is not None and deployed.stack.status.value == "CREATE_COMPLETE"
    resolved = templates.resolve(
        templates.load_template(TEMPLATE.read_text()),
        {"Stage": "prod", "ServiceVersion": "1.5.0"},
        account_id=account.account_id,
        stack_name="scanner",
    )
    functions = [r for r in resolved.resources.values() if r.kind == "function"]
    # Every resource runs: the tables too, the state machine, and the rule that starts it.
    assert all(r.runnable for r in account.stacks.resources("scanner"))
    assert all(r.runnable for r in resolved.resources.values())
    for table in (r for r in resolved.resources.values() if r.kind == "table"):
        assert account.tables.describe_table(table.physical_name)["Table"]["ManagedBy"] == "scanner"
    onboarding = resolved.resources["DeviceOnboardingStateMachine"]
    assert account.workflows.describe_state_machine(onboarding.arn).managed_by == "scanner"
    bus = resolved.resources["ScannerEventBus"].physical_name
    [start] = account.events.list_targets("scanner-onboarding-requested", bus)
    assert start.arn == onboarding.arn
    rule = account.events.describe_rule(
        "scanner-low-battery", resolved.resources["ScannerEventBus"].physical_name
    )
    assert rule.managed_by == "scanner"
    results = {}
    for resource in functions:
        payload = json.dumps(sample(_sample_name(resource.logical_id))).encode()
        outcome = account.functions.invoke(resource.physical_name, payload)
        assert isinstance(outcome, InvokeOutcome)
        assert outcome.error is None, (resource.logical_id, outcome.error, outcome.logs)
        results[resource.logical_id] = json.loads(outcome.payload or b"null")
    assert results["HealthFunction"]["version"] == "1.5.0"
    assert results["HealthFunction"]["function"] == resolved.resources["HealthFunction"].physical_name
    assert results["DailyReportFunction"]["summary"]["timezone"] == "Europe/Berlin"
    notification = results["EvaluateAlertsFunction"]["notification"]
    assert notification["sent"] is True, notification
    assert notification["reply"]["notification"]["severity"] == "critical"
    assert notification["reply"]["delivered_via"] == "log"
