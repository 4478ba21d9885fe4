"""Executions survive their process: a restart resumes them from their last committed step."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from silo.platform import AccountHandle, Platform
from silo.settings import Settings
from tests.helpers.functions import deploy, wait_until

# Four items, one at a time, each a task that takes a moment: the child is killed mid-Map.
MAP_OF_SLOW_TASKS = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Result": [0.3, 0.3, 0.3, 0.3], "Next": "Each"},
        "Each": {
            "Type": "Map",
            "MaxConcurrency": 1,
            "ItemSelector": {"s.$": "$$.Map.Item.Value"},
            "ItemProcessor": {
                "StartAt": "Nap",
                "States": {"Nap": {"Type": "Task", "Resource": "sleepy", "End": True}},
            },
            "End": True,
        },
    },
}

STARTER = """
import sys, time
from silo.platform import Platform
from silo.settings import Settings

platform = Platform.open(Settings.from_env())
handle = platform.account(platform.authenticate(sys.argv[1]))
arn = handle.workflows.start_execution("naps", {}, name="crashy").arn
print(arn, flush=True)
time.sleep(600)
"""


def _env(settings: Settings) -> dict[str, str]:
    env = {"SILO_HOME": str(Path(settings.home).resolve()), "SILO_WORKFLOW_LEASE_SECONDS": "1"}
    if settings.database_url:
        env["SILO_DATABASE_URL"] = settings.database_url
    if settings.database_schema:
        env["SILO_DATABASE_SCHEMA"] = settings.database_schema
    if settings.runtime_dir:
        env["SILO_RUNTIME_DIR"] = str(settings.runtime_dir)
    return env


def _iterations_done(handle: AccountHandle, arn: str) -> int:
    return sum(
        1 for e in handle.workflows.history(arn, limit=1000).items if e.type == "MapIterationSucceeded"
    )


def test_a_killed_process_s_executions_resume_elsewhere_without_skipping_a_step(
    settings: Settings,
    platform: Platform,
    tenant: Callable[[str], AccountHandle],
    mgmt: Any,
    code: Callable[[str], bytes],
) -> None:
    shop = tenant("shop")
    deploy(shop, "sleepy", code("sleepy"))
    shop.workflows.create_state_machine("naps", MAP_OF_SLOW_TASKS)
    token = mgmt.issue_account_key(shop.account_id, "starter").token
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(STARTER), token],
        env={**os.environ, **_env(settings)},
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert child.stdout is not None
        arn = child.stdout.readline().decode().strip()
        assert arn.endswith(":crashy")
        wait_until(lambda: _iterations_done(shop, arn) >= 1, timeout=30)
        os.killpg(child.pid, signal.SIGKILL)
    finally:
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
    assert shop.workflows.describe_execution(arn).status == "RUNNING"
    assert _iterations_done(shop, arn) < 4, "the process should die mid-Map"
    # A restart: this node claims the dead node's work once its lease (1 s) has run out.
    restarted = Platform.open(settings.with_(workflow_lease_s=1.0))
    try:
        handle = restarted.account(restarted.authenticate(token))
        wait_until(lambda: handle.workflows.describe_execution(arn).status != "RUNNING", timeout=30)
        done = handle.workflows.describe_execution(arn)
        assert done.status == "SUCCEEDED", (done.error, done.cause)
        assert done.output == ["slept"] * 4
        types = [e.type for e in handle.workflows.history(arn, limit=1000).items]
        assert types.count("MapIterationSucceeded") == 4
        assert types.count("PassStateEntered") == 1
    finally:
        restarted.close()


def test_a_waiting_execution_holds_no_thread_and_resumes_after_a_restart(
    settings: Settings, platform: Platform, tenant: Callable[[str], AccountHandle], mgmt: Any
) -> None:
    shop = tenant("shop")
    shop.workflows.create_state_machine(
        "later",
        {
            "StartAt": "W",
            "States": {"W": {"Type": "Wait", "Seconds": 1, "Next": "Done"}, "Done": {"Type": "Succeed"}},
        },
    )
    token = mgmt.issue_account_key(shop.account_id, "ops").token
    arns = [shop.workflows.start_execution("later", {"i": 0}).arn]  # the platform's threads start
    threads = threading.active_count()
    arns += [shop.workflows.start_execution("later", {"i": i}).arn for i in range(1, 20)]
    # a waiting execution is a row, not a thread: nothing like one thread each (a late-starting
    # platform thread under load may still appear)
    assert threading.active_count() - threads < 5
    platform.close()  # nothing is in memory that the rows do not hold
    time.sleep(1.2)
    restarted = Platform.open(settings)
    try:
        handle = restarted.account(restarted.authenticate(token))
        for arn in arns:
            wait_until(lambda arn=arn: handle.workflows.describe_execution(arn).status == "SUCCEEDED")
    finally:
        restarted.close()
