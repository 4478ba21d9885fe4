"""``silo bench events``: matching on one bus, and delivery end to end into a no-op function.

``match_events_per_s`` is the rule index alone on one core (:mod:`silo.events.matching_bench`).
``delivered_events_per_s`` runs a throwaway embedded platform: one account whose default bus holds
RULES rules (the matching benchmark's, plus one that matches every event and targets a no-op
function); EVENTS events are put in batches of ten from a few threads, and the clock stops when the
function has run once per event. It includes PutEvents, the durable delivery rows, the delivery
dispatcher, the function's async queue and the invocations themselves.
"""

from __future__ import annotations

import json
import random
import threading
import time
from typing import Any

from silo.bench.runtime import _code, _tenant
from silo.bench.stats import scratch_settings
from silo.events.matching_bench import make_event, make_rule, measure_matching
from silo.events.models import MAX_ENTRIES_PER_PUT
from silo.functions import FunctionSettings
from silo.platform import AccountHandle, Platform


def run(
    *, rules: int = 10_000, events: int = 100_000, delivered: int = 5_000, threads: int = 4
) -> dict[str, Any]:
    matching = measure_matching(rules, events)
    with scratch_settings(idle_timeout_s=5.0, async_workers=4) as settings:
        platform = Platform.open(settings)
        try:
            handle, _ = _tenant(platform, limit=20)
            rate = _delivered(platform, handle, rules, delivered, threads)
        finally:
            platform.close()
    return {
        "rules": rules,
        "events": events,
        "match_events_per_s": matching["match_events_per_s"],
        "ns_per_event": matching["ns_per_event"],
        "delivered_events": delivered,
        "delivered_events_per_s": rate,
    }


def _delivered(platform: Platform, handle: AccountHandle, rules: int, count: int, threads: int) -> float:
    handle.functions.create("noop", _code(), FunctionSettings(handler="app.handler"))
    handle.functions.invoke("noop")  # start the zygote before the clock
    rng = random.Random(11)
    tenants = max(1, rules // 10)
    events = handle.events
    for number in range(rules - 1):
        events.put_rule(f"rule-{number}", event_pattern=make_rule(rng, number % tenants))
    events.put_rule("all", event_pattern={"detail-type": [{"prefix": "Order"}]})
    arn = f"arn:silo:lambda:local:{handle.account_id}:function:noop"
    events.put_targets("all", [{"Id": "noop", "Arn": arn}])
    entries = []
    for _ in range(count):
        event = make_event(rng, rng.randrange(tenants))
        entries.append(
            {
                "Source": event["source"],
                "DetailType": event["detail-type"],
                "Detail": json.dumps(event["detail"]),
            }
        )
    batches = [entries[i : i + MAX_ENTRIES_PER_PUT] for i in range(0, count, MAX_ENTRIES_PER_PUT)]
    before = _invocations(handle)
    started = time.perf_counter()
    workers = [threading.Thread(target=_put, args=(events, batches[i::threads])) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    deadline = time.monotonic() + 600
    while _invocations(handle) - before < count:
        if time.monotonic() > deadline:
            raise RuntimeError("deliveries did not finish within 10 minutes")
        time.sleep(0.01)
    return round(count / (time.perf_counter() - started), 1)


def _put(events: Any, batches: list[list[dict[str, Any]]]) -> None:
    for batch in batches:
        result = events.put_events(batch)
        if result.failed_entry_count:
            raise RuntimeError(f"PutEvents failed: {result.entries}")


def _invocations(handle: AccountHandle) -> float:
    point = handle.functions.metrics("noop").get("Invocations")
    return point.sum if point is not None else 0.0
