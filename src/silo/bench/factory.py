"""``silo bench account-factory``: request-to-ready of accounts made by the account factory.

A throwaway embedded platform; an OU whose accounts get a baseline stack set (two functions, by
auto-deployment), unless ``baseline`` is off. Each request goes through the whole factory workflow
(create -> OU -> guardrails -> credentials -> baseline deployed -> ready) and is timed from the
request until the account is ACTIVE with its baseline in place. The seed's factory took under 15
minutes on AWS.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from silo.accounts import AccountSpec
from silo.bench.stats import percentile, scratch_settings
from silo.fleet import Preferences, Targets
from silo.fleet.models import Amount
from silo.functions import zip_directory
from silo.platform import ManagementHandle, Platform

BASELINE = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Audit:
    Type: AWS::Serverless::Function
    Properties: {Handler: app.handler, Runtime: python3.11, CodeUri: src/}
  Inventory:
    Type: AWS::Serverless::Function
    Properties: {Handler: app.handler, Runtime: python3.11, CodeUri: src/}
"""


def run(*, requests: int = 20, baseline: bool = True) -> dict[str, Any]:
    with scratch_settings(fleet_lease_s=5.0) as settings:
        platform = Platform.open(settings)
        try:
            init = platform.initialise()
            assert init is not None
            mgmt = platform.management(platform.authenticate(init.root_key.token))
            ou = mgmt.create_ou("tenants").ou_id
            if baseline:
                _baseline(mgmt, ou)
            times: list[float] = []
            for number in range(requests):
                started = time.perf_counter()
                request, execution = mgmt.request_account(
                    AccountSpec(f"tenant-{number:05d}", "ops@bench.example", ou_id=ou), wait_seconds=300
                )
                times.append((time.perf_counter() - started) * 1000)
                if execution.status != "SUCCEEDED":
                    raise RuntimeError(f"the factory failed: {execution.error}: {execution.cause}")
                ready = platform.account(platform.authenticate(request.token))  # its key works
                if baseline and len(ready.functions.list().items) != 2:
                    raise RuntimeError("an account was ready before its baseline was deployed")
        finally:
            platform.close()
    return {
        "requests": requests,
        "baseline_stack_sets": 1 if baseline else 0,
        "request_to_ready_ms_p50": round(percentile(times, 50), 1),
        "request_to_ready_ms_p99": round(percentile(times, 99), 1),
        "request_to_ready_ms_max": round(max(times), 1),
    }


def _baseline(mgmt: ManagementHandle, ou: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        (Path(directory) / "app.py").write_text("def handler(event, context):\n    return event\n")
        code = {"src/": zip_directory(Path(directory))}
    mgmt.create_account(AccountSpec("baseline-seed", "ops@bench.example", ou_id=ou))
    mgmt.fleet.create_stack_set("baseline", BASELINE, code=code, auto_deployment=True)
    fast = Preferences(max_concurrent=Amount(10), retry_base_seconds=0.05, retry_max_seconds=0.5)
    operation = mgmt.fleet.create_instances("baseline", Targets(ous=(ou,)), preferences=fast)
    deadline = time.monotonic() + 60
    while not mgmt.fleet.get_operation(operation.operation_id).status.finished:
        if time.monotonic() > deadline:
            raise RuntimeError("the baseline stack set did not deploy in 60 s")
        time.sleep(0.01)
