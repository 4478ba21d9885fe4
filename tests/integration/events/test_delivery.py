"""PutEvents to function targets: durable, pushed, retried, dead-lettered with the account."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from silo.dlq import DeadLetterFilter
from silo.errors import NotFound, ValidationError
from silo.events.throttle import InvocationRate
from silo.platform import AccountHandle, ManagementHandle, Platform
from tests.helpers.functions import deploy, wait_until

RECORDER = """
import json, os

def handler(event, context):
    with open(os.environ["OUT"], "a") as out:
        out.write(json.dumps({"function": context.function_name, "event": event}) + "\\n")
    return "ok"
"""


def function_arn(handle: AccountHandle, name: str) -> str:
    return f"arn:silo:lambda:local:{handle.account_id}:function:{name}"


def received(outbox: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in outbox.read_text().splitlines() if line]


def entry(detail: dict[str, object], source: str = "shop", **more: object) -> dict[str, object]:
    return {"Source": source, "DetailType": "Order", "Detail": json.dumps(detail), **more}


@pytest.fixture
def shop(tenant: Callable[[str], AccountHandle], code: Callable[[str], bytes], outbox: Path) -> AccountHandle:
    handle = tenant("shop")
    deploy(handle, "recorder", code(RECORDER), environment={"OUT": str(outbox)})
    handle.events.put_rule(
        "big-orders", event_pattern={"source": ["shop"], "detail": {"total": [{"numeric": [">", 100]}]}}
    )
    handle.events.put_targets("big-orders", [{"Id": "rec", "Arn": function_arn(handle, "recorder")}])
    return handle


def test_a_matching_event_reaches_its_function_target(shop: AccountHandle, outbox: Path) -> None:
    result = shop.events.put_events([entry({"total": 150}), entry({"total": 5})])
    assert result.failed_entry_count == 0
    assert all("EventId" in e for e in result.entries)
    wait_until(lambda: len(received(outbox)) == 1)
    got = received(outbox)[0]["event"]
    assert isinstance(got, dict)
    assert got["detail"] == {"total": 150}
    assert got["account"] == shop.account_id
    assert got["id"] == result.entries[0]["EventId"]


def test_input_transformer_shapes_what_the_target_gets(shop: AccountHandle, outbox: Path) -> None:
    shop.events.put_targets(
        "big-orders",
        [
            {
                "Id": "rec",
                "Arn": function_arn(shop, "recorder"),
                "InputTransformer": {
                    "InputPathsMap": {"total": "$.detail.total"},
                    "InputTemplate": '{"amount": <total>}',
                },
            }
        ],
    )
    shop.events.put_events([entry({"total": 101})])
    wait_until(lambda: len(received(outbox)) == 1)
    assert received(outbox)[0]["event"] == {"amount": 101}


def test_bad_entries_fail_alone_and_say_why(shop: AccountHandle) -> None:
    result = shop.events.put_events(
        [
            entry({"total": 1}),
            {"Source": "shop", "DetailType": "x", "Detail": "not json"},
            entry({}, EventBusName="nope"),
        ]
    )
    assert result.failed_entry_count == 2
    assert "EventId" in result.entries[0]
    assert result.entries[1]["ErrorCode"] == "MalformedDetail"
    assert result.entries[2]["ErrorCode"] == "ResourceNotFoundException"


def test_a_missing_function_is_retried_then_dead_lettered_with_its_account(
    platform: Platform, mgmt: ManagementHandle, shop: AccountHandle
) -> None:
    shop.events.put_targets(
        "big-orders",
        [{"Id": "ghost", "Arn": function_arn(shop, "ghost"), "RetryPolicy": {"MaximumRetryAttempts": 2}}],
    )
    shop.events.put_events([entry({"total": 500})])
    wait_until(lambda: bool(mgmt.dead_letters(DeadLetterFilter(source="events")).items))
    [dead] = mgmt.dead_letters(DeadLetterFilter(source="events")).items
    assert dead.account_id == shop.account_id
    assert dead.reason == "RetriesExhausted"
    assert dead.attempts == 3
    assert dead.target["function"] == "ghost"
    assert dead.target["rule"] == "big-orders"
    assert json.loads(dead.payload)["detail"] == {"total": 500}
    wait_until(lambda: shop.events.rule_metrics("big-orders").get("InvocationsSentToDlq") is not None)
    metrics = shop.events.rule_metrics("big-orders")
    # As EventBridge counts them: "rec" was invoked, "ghost" was invoked and failed for good (an
    # Invocation and a FailedInvocation, not a DeadLetterInvocation: that is for targets never invoked).
    assert {name: point.sum for name, point in metrics.items()} == {
        "MatchedEvents": 1,
        "TriggeredRules": 1,
        "Invocations": 2,
        "FailedInvocations": 1,
        "InvocationsSentToDlq": 1,
    }


def test_an_event_older_than_its_maximum_age_is_dead_lettered_without_more_retries(
    platform: Platform, mgmt: ManagementHandle, shop: AccountHandle
) -> None:
    platform.events.retry_base = timedelta(seconds=120)  # the first retry would come after 60-120 s
    policy = {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 60}
    shop.events.put_targets(
        "big-orders", [{"Id": "ghost", "Arn": function_arn(shop, "ghost"), "RetryPolicy": policy}]
    )
    shop.events.put_events([entry({"total": 500})])
    wait_until(lambda: bool(mgmt.dead_letters(DeadLetterFilter(source="events")).items))
    [dead] = mgmt.dead_letters(DeadLetterFilter(source="events")).items
    assert (dead.account_id, dead.reason, dead.attempts) == (shop.account_id, "EventAgeExceeded", 1)
    assert dead.target["target_id"] == "ghost"
    assert mgmt.dead_letters(DeadLetterFilter(source="events", reason="RetriesExhausted")).items == []


def test_every_matched_event_and_triggered_rule_is_counted(shop: AccountHandle, outbox: Path) -> None:
    shop.events.put_rule("all-shop", event_pattern={"source": ["shop"]})  # no targets: matched all the same
    shop.events.put_events([entry({"total": 150}), entry({"total": 5}), entry({"total": 1}, source="x")])
    wait_until(lambda: len(received(outbox)) == 1)
    wait_until(lambda: shop.events.rule_metrics("big-orders").get("Invocations") is not None)
    big = {name: point.sum for name, point in shop.events.rule_metrics("big-orders").items()}
    assert big == {"MatchedEvents": 1, "TriggeredRules": 1, "Invocations": 1}
    every = {name: point.sum for name, point in shop.events.rule_metrics("all-shop").items()}
    assert every == {"MatchedEvents": 2, "TriggeredRules": 2}


def test_targets_must_be_in_the_rules_account(
    shop: AccountHandle, tenant: Callable[[str], AccountHandle]
) -> None:
    other = tenant("other")
    with pytest.raises(ValidationError, match="own account"):
        shop.events.put_targets("big-orders", [{"Id": "x", "Arn": function_arn(other, "recorder")}])
    with pytest.raises(NotFound):
        other.events.describe_rule("big-orders")


def test_over_its_invocation_rate_an_account_is_throttled_not_dropped(
    platform: Platform, shop: AccountHandle, outbox: Path
) -> None:
    platform.events.rate = InvocationRate(5.0, burst=1.0)
    shop.events.put_events([entry({"total": 200 + n}) for n in range(4)])
    wait_until(lambda: len(received(outbox)) == 4)
    wait_until(lambda: shop.events.rule_metrics("big-orders").get("ThrottledRules") is not None)
    metrics = shop.events.rule_metrics("big-orders")
    assert metrics["ThrottledRules"].sum >= 1
    assert metrics["Invocations"].sum == 4
    assert "DeadLetterInvocations" not in metrics
