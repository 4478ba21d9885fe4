"""Buses, rules, targets and events of account A are invisible and untouchable from account B, and an
event put in one account is delivered only inside it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from silo.errors import NotFound, ValidationError
from silo.platform import AccountHandle, Platform
from tests.helpers.functions import deploy, wait_until
from tests.integration.events.test_delivery import RECORDER, entry, function_arn, received


def test_b_cannot_see_or_touch_a_buses_and_rules(tenant: Callable[..., AccountHandle]) -> None:
    a, b = tenant("a"), tenant("b")
    a.events.create_event_bus("orders")
    a.events.put_rule("r", event_bus="orders", event_pattern={"source": ["x"]})
    a.events.put_targets("r", [{"Id": "t", "Arn": function_arn(a, "f")}], event_bus="orders")
    assert [bus.name for bus in b.events.list_event_buses().items] == ["default"]
    assert b.events.list_rules().items == []
    for attempt in (
        lambda: b.events.describe_event_bus("orders"),
        lambda: b.events.delete_event_bus("orders"),
        lambda: b.events.describe_rule("r", "orders"),
        lambda: b.events.list_rules("orders"),
        lambda: b.events.list_targets("r", "orders"),
        lambda: b.events.remove_targets("r", ["t"], "orders"),
        lambda: b.events.put_targets("r", [{"Id": "t", "Arn": function_arn(b, "f")}], "orders"),
        lambda: b.events.delete_rule("r", "orders"),
        lambda: b.events.disable_rule("r", "orders"),
    ):
        with pytest.raises(NotFound):
            attempt()
    # naming A's bus by ARN does not reach it either
    arn = f"arn:silo:events:local:{a.account_id}:event-bus/orders"
    with pytest.raises(ValidationError, match="another account"):
        b.events.describe_event_bus(arn)
    [failed] = b.events.put_events([entry({}, EventBusName=arn)]).entries
    assert failed["ErrorCode"] == "InvalidArgument"
    assert [t.target_id for t in a.events.list_targets("r", "orders")] == ["t"]


def test_events_are_delivered_only_inside_their_account(
    platform: Platform,
    tenant: Callable[..., AccountHandle],
    code: Callable[[str], bytes],
    outbox: Path,
) -> None:
    a, b = tenant("a"), tenant("b")
    for handle in (a, b):  # the same function, rule and pattern in both accounts
        deploy(handle, "recorder", code(RECORDER), environment={"OUT": str(outbox)})
        handle.events.put_rule("all", event_pattern={"source": ["shop"]})
        handle.events.put_targets("all", [{"Id": "rec", "Arn": function_arn(handle, "recorder")}])
    a.events.put_events([entry({"from": "a"})])
    wait_until(lambda: len(received(outbox)) == 1)
    wait_until(lambda: platform.events.queue.pending() == 0 and platform.functions.queue.pending() == 0)
    [got] = received(outbox)
    event = got["event"]
    assert isinstance(event, dict)
    assert event["account"] == a.account_id
    assert json.dumps(event["detail"]) == json.dumps({"from": "a"})
    assert "MatchedEvents" not in b.events.rule_metrics("all")
