"""Bus-to-bus targets, the management bus, restarts, and idleness."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from silo.dlq import DeadLetterFilter
from silo.errors import ValidationError
from silo.events.models import MAX_HOPS
from silo.platform import AccountHandle, ManagementHandle, Platform
from silo.settings import Settings
from silo.store import utcnow
from tests.helpers.functions import deploy, wait_until
from tests.integration.events.test_delivery import RECORDER, entry, function_arn, received


def bus_arn(handle: AccountHandle, bus: str) -> str:
    return f"arn:silo:events:local:{handle.account_id}:event-bus/{bus}"


@pytest.fixture
def shop(tenant: Callable[[str], AccountHandle], code: Callable[[str], bytes], outbox: Path) -> AccountHandle:
    handle = tenant("shop")
    deploy(handle, "recorder", code(RECORDER), environment={"OUT": str(outbox)})
    return handle


def test_a_rule_forwards_to_another_bus_of_the_same_account(shop: AccountHandle, outbox: Path) -> None:
    shop.events.create_event_bus("orders")
    shop.events.put_rule("to-orders", event_pattern={"source": ["shop"]})
    shop.events.put_targets("to-orders", [{"Id": "bus", "Arn": bus_arn(shop, "orders")}])
    shop.events.put_rule("on-orders", event_bus="orders", event_pattern={"detail-type": ["Order"]})
    shop.events.put_targets(
        "on-orders", [{"Id": "rec", "Arn": function_arn(shop, "recorder")}], event_bus="orders"
    )
    [result] = shop.events.put_events([entry({"n": 1})]).entries
    wait_until(lambda: len(received(outbox)) == 1)
    event = received(outbox)[0]["event"]
    assert isinstance(event, dict)
    assert event["id"] == result["EventId"]
    assert event["detail"] == {"n": 1}


def test_bus_targets_take_no_input_and_never_their_own_bus(shop: AccountHandle) -> None:
    shop.events.create_event_bus("orders")
    shop.events.put_rule("r", event_pattern={"source": ["shop"]})
    with pytest.raises(ValidationError, match="receives the event as it is"):
        shop.events.put_targets("r", [{"Id": "b", "Arn": bus_arn(shop, "orders"), "Input": "{}"}])
    with pytest.raises(ValidationError, match="own bus"):
        shop.events.put_targets("r", [{"Id": "b", "Arn": bus_arn(shop, "default")}])


def test_a_loop_between_buses_ends_in_the_dlq(mgmt: ManagementHandle, shop: AccountHandle) -> None:
    shop.events.create_event_bus("ping")
    shop.events.put_rule("to-ping", event_pattern={"source": ["shop"]})
    shop.events.put_targets("to-ping", [{"Id": "p", "Arn": bus_arn(shop, "ping")}])
    shop.events.put_rule("back", event_bus="ping", event_pattern={"source": ["shop"]})
    shop.events.put_targets("back", [{"Id": "d", "Arn": bus_arn(shop, "default")}], event_bus="ping")
    shop.events.put_events([entry({})])
    wait_until(lambda: bool(mgmt.dead_letters(DeadLetterFilter(reason="EventLoop")).items))
    [dead] = mgmt.dead_letters(DeadLetterFilter(reason="EventLoop")).items
    assert dead.account_id == shop.account_id
    assert dead.target["type"] == "bus"
    assert str(MAX_HOPS) in dead.error["message"]  # type: ignore[index]
    # The looping target was never invoked: a DeadLetterInvocation, not a failed Invocation.
    rule, bus = dead.target["rule"], dead.target["event_bus"]
    wait_until(lambda: shop.events.rule_metrics(rule, bus).get("InvocationsSentToDlq") is not None)
    looped = {name: point.sum for name, point in shop.events.rule_metrics(rule, bus).items()}
    assert looped["DeadLetterInvocations"] == 1 and looped["InvocationsSentToDlq"] == 1
    assert "FailedInvocations" not in looped


def test_tenants_cannot_send_platform_events(shop: AccountHandle) -> None:
    [failed] = shop.events.put_events([entry({}, source="silo.fleet")]).entries
    assert failed["ErrorCode"] == "InvalidArgument"
    assert "reserved" in failed["ErrorMessage"]


def test_accepted_events_survive_a_restart(
    settings: Settings, platform: Platform, shop: AccountHandle, outbox: Path
) -> None:
    shop.events.put_rule("all", event_pattern={"source": ["shop"]})
    shop.events.put_targets("all", [{"Id": "rec", "Arn": function_arn(shop, "recorder")}])
    platform.events.dispatcher.stop()  # accepted, durable, but not delivered before the "crash"
    shop.events.put_events([entry({"n": n}) for n in range(5)])
    assert platform.events.queue.pending() == 5
    platform.close()
    reopened = Platform.open(settings)
    try:
        wait_until(lambda: len(received(outbox)) == 5)
        assert sorted(json.dumps(r["event"]["detail"]) for r in received(outbox)) == [  # type: ignore[index]
            json.dumps({"n": n}) for n in range(5)
        ]
    finally:
        reopened.close()


def test_deliveries_leased_to_a_process_that_died_are_delivered_when_the_lease_runs_out(
    settings: Settings,
    platform: Platform,
    shop: AccountHandle,
    outbox: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shop.events.put_rule("all", event_pattern={"source": ["shop"]})
    shop.events.put_targets("all", [{"Id": "rec", "Arn": function_arn(shop, "recorder")}])
    platform.events.dispatcher.lease = timedelta(seconds=1)
    # The process "dies" between committing PutEvents (its rows leased to itself) and delivering them.
    monkeypatch.setattr(platform.events, "run_deliveries", lambda rows: None)
    shop.events.put_events([entry({"n": n}) for n in range(3)])
    assert platform.events.queue.pending() == 3
    due = platform.events.queue.next_due()
    assert due is not None and due > utcnow()  # leased: not due for anyone else yet
    platform.close()
    reopened = Platform.open(settings)
    try:
        wait_until(lambda: len(received(outbox)) == 3)
        assert sorted(r["event"]["detail"]["n"] for r in received(outbox)) == [0, 1, 2]  # type: ignore[index]
        wait_until(lambda: reopened.events.queue.pending() == 0)
    finally:
        reopened.close()


def test_an_idle_platform_does_not_wake_for_delivery(
    platform: Platform, shop: AccountHandle, outbox: Path
) -> None:
    shop.events.put_rule("all", event_pattern={"source": ["shop"]})
    shop.events.put_targets("all", [{"Id": "rec", "Arn": function_arn(shop, "recorder")}])
    shop.events.put_events([entry({})])
    wait_until(lambda: len(received(outbox)) == 1 and platform.events.dispatcher.idle())
    time.sleep(0.2)
    before = platform.events.dispatcher.wakeups
    time.sleep(1.0)
    assert platform.events.dispatcher.wakeups == before
    assert platform.events.timer.wakeups == 0  # no schedules: the timer has no thread at all


def test_a_dead_lettered_bus_delivery_is_redriven_into_its_own_account(
    platform: Platform, mgmt: ManagementHandle, shop: AccountHandle, outbox: Path
) -> None:
    shop.events.create_event_bus("orders")
    shop.events.put_rule("to-orders", event_pattern={"source": ["shop"]})
    target = {"Id": "bus", "Arn": bus_arn(shop, "orders"), "RetryPolicy": {"MaximumRetryAttempts": 0}}
    shop.events.put_targets("to-orders", [target])
    shop.events.delete_event_bus("orders")  # the target bus is gone: the delivery fails
    shop.events.put_events([entry({"n": 7})])
    wait_until(lambda: bool(mgmt.dead_letters(DeadLetterFilter(source="events")).items))
    [dead] = mgmt.dead_letters(DeadLetterFilter(source="events")).items
    assert (dead.account_id, dead.target["type"], dead.target["bus"]) == (shop.account_id, "bus", "orders")
    shop.events.create_event_bus("orders")
    shop.events.put_rule("on-orders", event_bus="orders", event_pattern={"source": ["shop"]})
    shop.events.put_targets(
        "on-orders", [{"Id": "rec", "Arn": function_arn(shop, "recorder")}], event_bus="orders"
    )
    mgmt.redrive_dead_letter(shop.account_id, dead.entry_id)
    wait_until(lambda: len(received(outbox)) == 1)
    event = received(outbox)[0]["event"]
    assert isinstance(event, dict)
    assert (event["account"], event["detail"]) == (shop.account_id, {"n": 7})


@pytest.mark.parametrize("with_default_row", [False, True])
def test_listing_buses_pages_through_all_of_them_once(shop: AccountHandle, with_default_row: bool) -> None:
    for name in ("a", "b", "c", "e", "f"):
        shop.events.create_event_bus(name)
    if with_default_row:
        shop.events.put_rule("r", event_pattern={"source": ["x"]})  # gives default its row
    shop.schedules.put(
        "s", expression="rate(1 hour)", target={"Arn": function_arn(shop, "recorder")}
    )  # a schedule group is not a bus
    names: list[str] = []
    token = None
    while True:
        page = shop.events.list_event_buses(limit=2, next_token=token)
        assert len(page.items) <= 2
        names += [bus.name for bus in page.items]
        token = page.next_token
        if token is None:
            break
    assert names == ["a", "b", "c", "default", "e", "f"]
