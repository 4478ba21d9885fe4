"""Scheduled rules: armed in the platform's one timer, fired once per time, delivered like events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from silo.errors import NotFound, ValidationError
from silo.events.models import RuleState, ScheduleSpec
from silo.events.timer import rule_key
from silo.platform import AccountHandle, Platform
from silo.store import utcnow
from tests.helpers.functions import deploy, wait_until
from tests.integration.events.test_delivery import RECORDER, function_arn, received


@pytest.fixture
def shop(tenant: Callable[[str], AccountHandle], code: Callable[[str], bytes], outbox: Path) -> AccountHandle:
    handle = tenant("shop")
    deploy(handle, "recorder", code(RECORDER), environment={"OUT": str(outbox)})
    return handle


def test_a_one_time_schedule_fires_its_target(platform: Platform, shop: AccountHandle, outbox: Path) -> None:
    at = (utcnow() + dt.timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%S")
    rule = shop.events.put_rule("soon", schedule_expression=f"at({at})")
    shop.events.put_targets("soon", [{"Id": "rec", "Arn": function_arn(shop, "recorder")}])
    assert rule_key(shop.account_id, "default", "soon") in platform.events.timer
    wait_until(lambda: len(received(outbox)) == 1, timeout=10)
    event = received(outbox)[0]["event"]
    assert isinstance(event, dict)
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["resources"] == [rule.arn]
    assert event["time"] == at + "Z"
    # an at() schedule fires once, then leaves the wheel
    wait_until(lambda: rule_key(shop.account_id, "default", "soon") not in platform.events.timer)


def test_each_fire_time_is_delivered_once(platform: Platform, shop: AccountHandle, outbox: Path) -> None:
    shop.events.put_rule("every", schedule_expression="rate(5 minutes)")
    shop.events.put_targets("every", [{"Id": "rec", "Arn": function_arn(shop, "recorder")}])
    at = platform.events.timer.due(shop.account_id, "default", "every")
    assert at is not None
    fire = [(shop.account_id, "default", "every", at)]
    platform.events.fire(fire)
    platform.events.fire(fire)  # a second node holding the same schedule, or a retry
    wait_until(lambda: len(received(outbox)) == 1)
    platform.events.fire([(shop.account_id, "default", "every", at + dt.timedelta(minutes=5))])
    wait_until(lambda: len(received(outbox)) == 2)


def test_disabled_and_deleted_rules_leave_the_timer(platform: Platform, shop: AccountHandle) -> None:
    key = rule_key(shop.account_id, "default", "every")
    shop.events.put_rule("every", schedule_expression="rate(1 hour)")
    assert key in platform.events.timer
    shop.events.disable_rule("every")
    assert key not in platform.events.timer
    shop.events.enable_rule("every")
    assert key in platform.events.timer
    shop.events.delete_rule("every")
    assert key not in platform.events.timer


def test_schedules_are_armed_again_after_a_restart(platform: Platform, shop: AccountHandle) -> None:
    shop.events.put_rule("every", schedule_expression="cron(0 9 ? * MON-FRI *)")
    reopened = Platform.open(platform.settings)
    try:
        assert rule_key(shop.account_id, "default", "every") in reopened.events.timer
    finally:
        reopened.close()


def test_bad_schedules_are_refused_at_put_rule(shop: AccountHandle) -> None:
    with pytest.raises(ValidationError, match="cron"):
        shop.events.put_rule("bad", schedule_expression="cron(0 9 * * * *)")
    with pytest.raises(ValidationError, match="default event bus"):
        shop.events.create_event_bus("orders")
        shop.events.put_rule("bad", event_bus="orders", schedule_expression="rate(1 hour)")


def test_scheduler_schedules_have_time_zones_windows_and_one_target(
    platform: Platform, shop: AccountHandle
) -> None:
    made = shop.schedules.put(
        "nightly",
        expression="cron(0 2 * * ? *)",
        timezone="Europe/Berlin",
        flexible_window={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15},
        target={"Arn": function_arn(shop, "recorder"), "Input": '{"job": "nightly"}'},
    )
    assert made.flexible_window == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}
    assert made.arn.endswith(":schedule/default/nightly")
    assert made.target["Input"] == '{"job": "nightly"}'
    key = rule_key(shop.account_id, "schedules:default", "nightly")
    assert key in platform.events.timer
    # the next fire is at 02:00 Berlin time, plus this schedule's stable offset inside 15 minutes
    due = platform.events.timer._wheel.due(key)
    assert due is not None
    local = due.astimezone(dt.timezone(dt.timedelta(hours=1)))  # November: CET
    assert local.hour == 2 and local.minute < 15
    assert [s.name for s in shop.schedules.list().items] == ["nightly"]
    assert shop.events.list_rules().items == []  # schedules are not rules of the default bus
    shop.schedules.delete("nightly")
    assert key not in platform.events.timer
    with pytest.raises(NotFound):
        shop.schedules.get("nightly")


def test_a_schedule_fire_delivers_its_input(platform: Platform, shop: AccountHandle, outbox: Path) -> None:
    shop.schedules.put(
        "tick",
        expression="rate(1 hour)",
        target={"Arn": function_arn(shop, "recorder"), "Input": '{"tick": 1}'},
    )
    at = platform.events.timer.due(shop.account_id, "schedules:default", "tick")
    assert at is not None
    platform.events.fire([(shop.account_id, "schedules:default", "tick", at)])
    wait_until(lambda: len(received(outbox)) == 1)
    assert received(outbox)[0]["event"] == {"tick": 1}


def test_bad_schedules_say_what_is_wrong(shop: AccountHandle) -> None:
    target = {"Arn": function_arn(shop, "recorder")}
    with pytest.raises(ValidationError, match=r"time zone|timezone|Mars"):
        shop.schedules.put("x", expression="rate(1 hour)", timezone="Mars/Olympus", target=target)
    with pytest.raises(ValidationError, match="MaximumWindowInMinutes"):
        shop.schedules.put(
            "x", expression="rate(1 hour)", flexible_window={"Mode": "FLEXIBLE"}, target=target
        )
    with pytest.raises(ValidationError, match=r"Target\.Arn"):
        shop.schedules.put("x", expression="rate(1 hour)", target={"Arn": "arn:nope"})


def test_a_schedule_whose_rule_is_gone_leaves_the_timer_when_it_fires(
    platform: Platform, shop: AccountHandle
) -> None:
    shop.events.put_rule("every", schedule_expression="rate(1 hour)")
    key = rule_key(shop.account_id, "default", "every")
    with platform.store.write() as conn:  # as if deleted on another node, or purged with its account
        shop.events._repo.delete_rule(conn, "default", "every", force=True, managed_by=None)
    assert key in platform.events.timer
    platform.events.fire([(shop.account_id, "default", "every", utcnow())])
    assert key not in platform.events.timer


def stored_elsewhere(platform: Platform, shop: AccountHandle, rule: str, expression: str) -> None:
    """Store a scheduled rule as another node would, telling no timer."""
    with platform.store.write() as conn:
        shop.events._repo.put_rule(
            conn,
            "default",
            rule,
            pattern=None,
            schedule=ScheduleSpec(expression),
            state=RuleState.ENABLED,
            description="",
            managed_by=None,
        )


def test_a_schedule_changed_elsewhere_does_not_fire_at_its_old_times(
    platform: Platform, shop: AccountHandle, outbox: Path
) -> None:
    shop.events.put_rule("every", schedule_expression="rate(1 hour)")
    shop.events.put_targets("every", [{"Id": "rec", "Arn": function_arn(shop, "recorder")}])
    old = platform.events.timer.due(shop.account_id, "default", "every")
    assert old is not None
    stored_elsewhere(platform, shop, "every", "cron(0 3 * * ? *)")  # this timer is not told
    platform.events.fire([(shop.account_id, "default", "every", old)])
    new = platform.events.timer.due(shop.account_id, "default", "every")
    assert new is not None and (new.hour, new.minute, new.second) == (3, 0, 0)  # armed as stored now
    platform.events.fire([(shop.account_id, "default", "every", new)])
    wait_until(lambda: len(received(outbox)) == 1)  # the new time fires; the old one did not
    assert received(outbox)[0]["event"]["time"] == new.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def other_node(platform: Platform) -> Iterator[Platform]:
    """A second platform process on the same database, as another node of a PostgreSQL cluster."""
    if platform.events.sync is None:
        pytest.skip("SQLite is one node: there are no other nodes to tell")
    other = Platform.open(platform.settings)
    try:
        assert other.events.sync is not None
        wait_until(other.events.sync.listening.is_set)
        yield other
    finally:
        other.close()


@pytest.mark.one_backend
def test_schedules_put_on_one_node_are_armed_on_the_others(
    platform: Platform, shop: AccountHandle, other_node: Platform
) -> None:
    key = rule_key(shop.account_id, "default", "every")
    shop.events.put_rule("every", schedule_expression="rate(1 hour)")
    wait_until(lambda: key in other_node.events.timer)
    here = platform.events.timer.due(shop.account_id, "default", "every")
    assert other_node.events.timer.due(shop.account_id, "default", "every") == here
    shop.events.put_rule("every", schedule_expression="cron(0 3 * * ? *)")
    wait_until(lambda: (other_node.events.timer.due(shop.account_id, "default", "every") or here).hour == 3)
    shop.events.disable_rule("every")
    wait_until(lambda: key not in other_node.events.timer)
    shop.events.enable_rule("every")
    wait_until(lambda: key in other_node.events.timer)
    shop.events.delete_rule("every")
    wait_until(lambda: key not in other_node.events.timer)
    shop.schedules.put("tick", expression="rate(5 minutes)", target={"Arn": function_arn(shop, "recorder")})
    wait_until(lambda: rule_key(shop.account_id, "schedules:default", "tick") in other_node.events.timer)


@pytest.mark.one_backend
def test_a_node_that_lost_its_notifications_arms_every_schedule_when_it_is_back(
    platform: Platform, shop: AccountHandle, other_node: Platform
) -> None:
    sync = other_node.events.sync
    assert sync is not None and sync.backend_pid is not None
    sync.reconnect_s = 0.2
    stored_elsewhere(platform, shop, "missed", "rate(1 hour)")  # its notification never comes
    key = rule_key(shop.account_id, "default", "missed")
    assert key not in other_node.events.timer
    with platform.store.engine.begin() as conn:  # the node's notification connection is lost
        conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": sync.backend_pid})
    wait_until(lambda: not sync.listening.is_set())
    wait_until(sync.listening.is_set)
    wait_until(lambda: key in other_node.events.timer)
