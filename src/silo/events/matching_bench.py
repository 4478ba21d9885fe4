"""How fast one bus matches events: the figure behind ``silo bench events`` (matching only).

The rule set is what a SaaS platform's bus carries: many tenants, ten rules each, every rule on
its tenant's ``source`` and one or two of twenty ``detail-type`` values, plus one to three detail
conditions drawn from numeric ranges, prefixes, anything-but lists, exact nested fields, ``$or``
and conditions inside arrays of objects. Events come from the same tenants and types, so some
match and most candidates are real work. Deterministic for a seed; pure (no I/O).

Time is the CPU time of this process (``time.process_time``): matching is single-threaded, so that
is its cost on one core, and other work on a busy machine does not inflate it.
"""

from __future__ import annotations

import random
import time
from typing import Any

from silo.events.patterns import RuleIndex, compile_pattern

RULES_PER_TENANT = 10
_VERBS = "Placed Paid Packed Shipped Delivered Returned Refunded Cancelled Held Released Split Merged"
DETAIL_TYPES = tuple(
    f"Order {verb}" for verb in f"{_VERBS} Rated Disputed Settled Audited Archived Cleared".split()
)
REGIONS = ("eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-south-1")
STATUSES = ("new", "open", "cancelled", "failed", "done")
TIERS = ("gold", "silver", "bronze")


def measure_matching(rules: int, events: int, *, seed: int = 7) -> dict[str, Any]:
    """Match ``events`` events against ``rules`` rules on one index; the rate and CPU cost per event.

    Returns:
        ``{"rules", "events", "match_events_per_s", "ns_per_event"}``.
    """
    if rules < 1 or events < 1:
        raise ValueError("rules and events must be at least 1")
    rng = random.Random(seed)
    tenants = max(1, rules // RULES_PER_TENANT)
    index = RuleIndex()
    for number in range(rules):
        index.add(f"rule-{number}", compile_pattern(make_rule(rng, number % tenants)))
    samples = [make_event(rng, rng.randrange(tenants)) for _ in range(min(events, 4096))]
    for event in samples[:256]:  # warm up caches before timing
        index.match(event)
    count = len(samples)
    started = time.process_time()
    for number in range(events):
        index.match(samples[number % count])
    elapsed = max(time.process_time() - started, 1e-9)
    return {
        "rules": rules,
        "events": events,
        "match_events_per_s": round(events / elapsed, 1),
        "ns_per_event": round(elapsed * 1e9 / events, 1),
    }


def make_rule(rng: random.Random, tenant: int) -> dict[str, Any]:
    """One tenant's rule: its source, one or two detail types, one to three detail conditions."""
    conditions: list[dict[str, Any]] = [
        {"amount": [{"numeric": [">", rng.randrange(0, 1500)]}]},
        {"region": [{"prefix": rng.choice(("eu-", "us-", "ap-"))}]},
        {"status": [{"anything-but": ["cancelled", "failed"]}]},
        {"customer": {"tier": rng.sample(TIERS, 2)}},
        {"$or": [{"amount": [{"numeric": [">=", 1000]}]}, {"priority": ["high"]}]},
        {"items": {"sku": [{"prefix": f"SKU-{rng.randrange(10)}"}]}},
    ]
    detail: dict[str, Any] = {}
    for condition in rng.sample(conditions, rng.randint(1, 3)):
        detail.update(condition)
    return {
        "source": [f"com.tenant{tenant}.orders"],
        "detail-type": rng.sample(DETAIL_TYPES, rng.randint(1, 2)),
        "detail": detail,
    }


def make_event(rng: random.Random, tenant: int) -> dict[str, Any]:
    """An envelope as :func:`silo.events.build_event` makes it, from one tenant."""
    return {
        "version": "0",
        "id": f"{rng.getrandbits(64):016x}",
        "detail-type": rng.choice(DETAIL_TYPES),
        "source": f"com.tenant{tenant}.orders",
        "account": f"{100000000000 + tenant}",
        "time": "2024-05-01T12:00:00Z",
        "region": "local",
        "resources": [],
        "detail": {
            "amount": rng.randrange(0, 2000),
            "region": rng.choice(REGIONS),
            "status": rng.choice(STATUSES),
            "priority": rng.choice(("low", "high")),
            "customer": {"id": f"c-{rng.randrange(10**6)}", "tier": rng.choice(TIERS)},
            "items": [
                {"sku": f"SKU-{rng.randrange(100)}", "qty": rng.randint(1, 5)}
                for _ in range(rng.randint(1, 3))
            ],
        },
    }
