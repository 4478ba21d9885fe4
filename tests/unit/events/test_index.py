"""RuleIndex: the same answers as matching every pattern, while running few of them."""

from __future__ import annotations

import random
from typing import Any

import pytest

from silo.events import RuleIndex, compile_pattern
from silo.events.matching_bench import make_event, make_rule
from tests.unit.events._fixtures import all_patterns


def _brute_force(patterns: dict[str, Any], event: dict[str, Any]) -> list[str]:
    return [rule_id for rule_id, pattern in patterns.items() if pattern.matches(event)]


def test_index_agrees_with_every_fixture_pattern() -> None:
    """All conformance patterns on one bus, every fixture event through it."""
    index, patterns, events = RuleIndex(), {}, []
    for name, pattern, case_events in all_patterns():
        patterns[name] = compile_pattern(pattern, max_length=4096)
        index.add(name, patterns[name])
        events.extend(case_events)
    assert len(index) == len(patterns) > 100
    matched = 0
    for event in events:
        expected = _brute_force(patterns, event)
        assert index.match(event) == expected
        matched += len(expected)
    assert matched > len(events)  # the corpus exercises real matches, not only misses


def test_index_agrees_on_generated_tenant_rules() -> None:
    rng = random.Random(11)
    index, patterns = RuleIndex(), {}
    for number in range(600):
        patterns[f"r{number}"] = compile_pattern(make_rule(rng, number % 60))
        index.add(f"r{number}", patterns[f"r{number}"])
    events = [make_event(rng, rng.randrange(60)) for _ in range(400)]
    assert sum(len(index.match(event)) for event in events) > 50
    for event in events:
        assert index.match(event) == _brute_force(patterns, event)


def test_events_with_arrays_and_odd_values_at_indexed_paths() -> None:
    index = RuleIndex()
    index.add("exact", compile_pattern({"source": ["a"], "detail-type": ["T"]}))
    index.add("nested", compile_pattern({"detail": {"tenant": ["acme", "umbrella"]}}))
    index.add("items", compile_pattern({"detail": {"items": {"sku": ["X"]}}}))
    assert index.match({"source": ["b", "a"], "detail-type": "T"}) == ["exact"]
    assert index.match({"source": "a", "detail-type": ["U", ["T"]]}) == ["exact"]
    assert index.match({"source": "a", "detail-type": 5}) == []
    assert index.match({"source": None, "detail-type": "T"}) == []
    assert index.match({"detail": {"tenant": ["x", "umbrella"]}}) == ["nested"]
    assert index.match({"detail": [{"tenant": "acme"}]}) == ["nested"]
    assert index.match({"detail": {"items": [{"sku": "Y"}, [{"sku": "X"}]]}}) == ["items"]
    assert index.match({"detail": "acme"}) == []
    assert index.match(["not", "an", "object"]) == []  # type: ignore[arg-type]


def test_rules_without_exact_fields_are_always_candidates() -> None:
    index = RuleIndex()
    index.add("big", compile_pattern({"detail": {"total": [{"numeric": [">", 100]}]}}))
    index.add("shop", compile_pattern({"source": ["shop"]}))
    event = {"source": "other", "detail": {"total": 150}}
    assert index.candidates(event) == ["big"]
    assert index.match(event) == ["big"]
    assert index.match({"source": "shop", "detail": {"total": 150}}) == ["big", "shop"]


def test_add_replace_remove_and_order() -> None:
    index = RuleIndex()
    shop = compile_pattern({"source": ["shop"]})
    index.add("b", shop)
    index.add("a", compile_pattern({"source": ["shop"], "detail-type": ["Paid"]}))
    index.add("c", compile_pattern({"source": [{"prefix": "sh"}]}))
    event = {"source": "shop", "detail-type": "Paid"}
    assert index.match(event) == ["b", "a", "c"]  # the order rules were added
    index.add("b", compile_pattern({"source": ["other"]}))  # replaced, and now the newest
    assert "b" in index and len(index) == 3
    assert index.match(event) == ["a", "c"]
    assert index.match({"source": "other"}) == ["b"]
    assert index.remove("a") and not index.remove("a")
    assert index.remove("c") and index.remove("b")
    assert len(index) == 0 and index.match(event) == []
    assert index._tables == {} and index._unfiled == {} and index._plans == []


def test_rule_with_many_values_is_filed_under_its_most_selective_fields() -> None:
    index = RuleIndex()
    many_types = [f"T{n}" for n in range(100)]
    index.add("r", compile_pattern({"source": ["s"], "detail-type": many_types, "detail": {"k": ["v"]}}))
    assert list(index._tables) == [(("detail", "k"), ("source",))]
    assert index.match({"source": "s", "detail-type": "T42", "detail": {"k": "v"}}) == ["r"]
    assert index.match({"source": "s", "detail-type": "T42", "detail": {"k": "w"}}) == []


def _bus(rules: int, seed: int = 3) -> tuple[RuleIndex, list[dict[str, Any]]]:
    """A bus of ``rules`` generated tenant rules (ten per tenant) and 2,000 events of its tenants."""
    rng = random.Random(seed)
    index = RuleIndex()
    tenants = rules // 10
    for number in range(rules):
        index.add(f"r{number}", compile_pattern(make_rule(rng, number % tenants)))
    return index, [make_event(rng, rng.randrange(tenants)) for _ in range(2000)]


@pytest.fixture(scope="module")
def large_bus() -> tuple[RuleIndex, list[dict[str, Any]]]:
    return _bus(10_000)


Bus = tuple[RuleIndex, list[dict[str, Any]]]


def test_candidates_stay_few_with_ten_thousand_rules(large_bus: Bus) -> None:
    index, events = large_bus
    counts = [len(index.candidates(event)) for event in events]
    assert max(counts) <= 12
    assert sum(counts) / len(counts) < 2
