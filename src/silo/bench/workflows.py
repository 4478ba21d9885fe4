"""``silo bench workflows``: state transitions per second, executions per second, and what ten
thousand waiting executions cost, in a throwaway embedded platform.

* ``transitions_per_s``: executions of a Pass/Choice/Map heavy definition (a Map of ``items``
  items, each running Pass -> Choice -> Pass -> Succeed) started through the account's API; each
  runs to completion in its start transaction (no task, no wait), history included. A transition is
  a state entered. ``interpreter_transitions_per_s`` is the same definition in memory only.
* ``executions_per_s``: a 5-state workflow with one no-op function task (Pass -> Task -> Choice ->
  Pass -> Succeed), started from a few threads; the clock stops when all have succeeded.
* ``waiting_executions``: executions parked in an hour-long Wait; the process's threads and
  resident memory before and after (a waiting execution is a row, not a thread).
"""

from __future__ import annotations

import resource
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import sqlalchemy as sa

from silo.bench.runtime import _code, _tenant
from silo.bench.stats import scratch_settings
from silo.functions import FunctionSettings
from silo.platform import AccountHandle, Platform
from silo.store.schema import workflow_executions
from silo.workflows import run_local


def heavy_definition(items: int) -> dict[str, Any]:
    return {
        "StartAt": "Items",
        "States": {
            "Items": {"Type": "Pass", "Result": list(range(items)), "ResultPath": "$.items", "Next": "Each"},
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {
                    "StartAt": "Tag",
                    "States": {
                        "Tag": {"Type": "Pass", "Parameters": {"n.$": "$"}, "Next": "Even"},
                        "Even": {
                            "Type": "Choice",
                            "Choices": [{"Variable": "$.n", "NumericGreaterThan": 1000000, "Next": "Done"}],
                            "Default": "Mark",
                        },
                        "Mark": {"Type": "Pass", "Result": True, "ResultPath": "$.seen", "Next": "Done"},
                        "Done": {"Type": "Succeed"},
                    },
                },
                "ResultPath": "$.results",
                "Next": "Finish",
            },
            "Finish": {"Type": "Succeed"},
        },
    }


FIVE_STATES = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Result": {"n": 1}, "ResultPath": "$.prepared", "Next": "Call"},
        "Call": {"Type": "Task", "Resource": "noop", "ResultPath": "$.called", "Next": "Check"},
        "Check": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.prepared.n", "NumericEquals": 1, "Next": "Shape"}],
            "Default": "Shape",
        },
        "Shape": {"Type": "Pass", "Parameters": {"ok": True}, "Next": "Done"},
        "Done": {"Type": "Succeed"},
    },
}
WAIT_AN_HOUR = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}


def run(
    *, executions: int = 200, items: int = 100, task_executions: int = 500, waiting: int = 10_000
) -> dict[str, Any]:
    result: dict[str, Any] = {"interpreter_transitions_per_s": _interpreter(items)}
    with scratch_settings(idle_timeout_s=10.0) as settings:
        platform = Platform.open(settings)
        try:
            handle, _ = _tenant(platform, limit=50)
            result |= _transitions(handle, executions, items)
            result |= _executions(platform, handle, task_executions)
            result |= _waiting(platform, handle, waiting)
        finally:
            platform.close()
    return result


def _interpreter(items: int) -> float:
    definition = heavy_definition(items)
    run_local(definition, {}, lambda resource, data: data)  # warm up (parsing, JSONPath caches)
    history: list[Any] = []
    run_local(definition, {}, lambda resource, data: data, history=history)
    per_run = sum(1 for e in history if e.type.endswith("StateEntered"))
    rounds = 20
    started = time.perf_counter()
    for _ in range(rounds):
        run_local(definition, {}, lambda resource, data: data)
    return round(per_run * rounds / (time.perf_counter() - started), 1)


def _transitions(handle: AccountHandle, executions: int, items: int) -> dict[str, Any]:
    workflows = handle.workflows
    workflows.create_state_machine("heavy", heavy_definition(items))
    first = workflows.start_execution("heavy", {})
    per_execution = sum(
        1 for e in workflows.history(first.arn, limit=1000).items if e.type.endswith("StateEntered")
    )
    started = time.perf_counter()
    for _ in range(executions):
        done = workflows.start_execution("heavy", {})
        assert done.status == "SUCCEEDED", done
    elapsed = time.perf_counter() - started
    return {
        "transitions_per_execution": per_execution,
        "transitions_per_s": round(per_execution * executions / elapsed, 1),
    }


def _executions(platform: Platform, handle: AccountHandle, count: int) -> dict[str, Any]:
    handle.functions.create("noop", _code(), FunctionSettings(handler="app.handler"))
    handle.functions.invoke("noop")  # start the zygote before the clock
    workflows = handle.workflows
    workflows.create_state_machine("five", FIVE_STATES)
    started = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: workflows.start_execution("five", {"i": i}), range(count)))
    deadline = time.monotonic() + 300
    while _count(platform, "five", "SUCCEEDED") < count:
        if time.monotonic() > deadline:
            raise RuntimeError("executions did not finish in 300 s")
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    failed = _count(platform, "five", "FAILED")
    return {"task_executions": count, "executions_per_s": round(count / elapsed, 1), "failed": failed}


def _waiting(platform: Platform, handle: AccountHandle, count: int) -> dict[str, Any]:
    workflows = handle.workflows
    workflows.create_state_machine("parked", WAIT_AN_HOUR)
    workflows.start_execution("parked", {})  # the dispatcher's threads exist from here on
    threads, rss = threading.active_count(), _rss_kib()
    for _ in range(count - 1):
        workflows.start_execution("parked", {})
    assert _count(platform, "parked", "RUNNING") == count
    return {
        "waiting_executions": count,
        "threads_added": threading.active_count() - threads,
        "rss_growth_kib": _rss_kib() - rss,
    }


def _count(platform: Platform, machine: str, status: str) -> int:
    with platform.store.read() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count())
                .select_from(workflow_executions)
                .where(
                    workflow_executions.c.state_machine == machine,
                    workflow_executions.c.status == status,
                    workflow_executions.c.parent_id.is_(None),
                )
                .execution_options(cross_account=True)
            ).scalar_one()
        )


def _rss_kib() -> int:
    """Resident memory now (from /proc; the peak from getrusage where /proc is missing)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
