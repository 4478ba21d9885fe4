"""Kill the process running a fleet operation: another worker resumes it, redoing and skipping nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from silo.fleet import OperationStatus
from silo.platform import ManagementHandle, Platform
from silo.settings import Settings
from silo.store.schema import fleet_operation_targets, stack_events
from tests.integration.fleet.conftest import TEMPLATE, finish

Code = Callable[..., dict[str, bytes]]
Accounts = Callable[..., list[str]]


CRASHING_WORKER = """
import sys
from silo.fleet import Amount, Preferences, Targets
from silo.platform import Platform
from silo.settings import Settings

platform = Platform.open(Settings.from_env())
mgmt = platform.management(platform.authenticate(sys.argv[1]))
accounts = sys.argv[2].split(",")
prefs = Preferences(max_concurrent=Amount(1), retry_base_seconds=0.01, retry_max_seconds=0.02)
mgmt.fleet.create_instances("svc", Targets(accounts=tuple(accounts)), preferences=prefs)
print("started", flush=True)
import time
time.sleep(600)
"""


def test_a_killed_worker_resumes_without_redoing_or_skipping(
    settings: Settings,
    platform: Platform,
    mgmt: ManagementHandle,
    init: object,
    accounts: Accounts,
    fleet_code: Code,
) -> None:
    ids = accounts(40)
    mgmt.fleet.create_stack_set("svc", TEMPLATE, code=fleet_code())
    token = init.root_key.token  # type: ignore[attr-defined]
    env = {**os.environ, **_env(settings), "SILO_FLEET_FAULT_TRANSIENT_RATE": "0"}
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(CRASHING_WORKER), token, ",".join(ids)],
        env=env,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == b"started"
        end = time.monotonic() + 30
        while time.monotonic() < end and _succeeded(platform) < 5:
            time.sleep(0.005)
        os.killpg(child.pid, signal.SIGKILL)
    finally:
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
    before = _succeeded(platform)
    assert 5 <= before < 40, "the worker should be killed mid-operation"
    # This platform's own worker takes the operation over once the dead owner's lease runs out.
    op = mgmt.fleet.list_operations("svc").items[0]
    platform.fleet_worker.poke()
    assert finish(mgmt.fleet, op).status is OperationStatus.SUCCEEDED
    assert _succeeded(platform) == 40
    with platform.store.read() as conn:
        per_account = dict(
            conn.execute(
                sa.select(stack_events.c.account_id, sa.func.count())
                .where(stack_events.c.account_id.in_(ids), stack_events.c.logical_id == "svc")
                .group_by(stack_events.c.account_id)
            ).all()
        )
    # exactly one stack-level event per account: nobody deployed twice, nobody skipped
    assert per_account == {a: 1 for a in ids}


def _succeeded(platform: Platform) -> int:
    with platform.store.read() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count()).where(fleet_operation_targets.c.status == "SUCCEEDED")
            ).scalar()
            or 0
        )


def _env(settings: Settings) -> dict[str, str]:
    env = {"SILO_HOME": str(Path(settings.home).resolve()), "SILO_FLEET_LEASE_SECONDS": "1"}
    if settings.database_url:
        env["SILO_DATABASE_URL"] = settings.database_url
    if settings.database_schema:
        env["SILO_DATABASE_SCHEMA"] = settings.database_schema
    if settings.runtime_dir:
        env["SILO_RUNTIME_DIR"] = str(settings.runtime_dir)
    return env
