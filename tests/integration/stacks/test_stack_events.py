"""Stacks that run rules, schedules and event buses: written as the stack's own, delivered, updated
(the bus's compiled index follows), armed in the timer, refused to users, and removed with the stack."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from silo.errors import Conflict, NotFound, ValidationError
from silo.events.timer import rule_key
from silo.platform import AccountHandle, Platform
from silo.store import utcnow
from tests.helpers.functions import wait_until
from tests.integration.events.test_delivery import RECORDER, function_arn, received

Code = Callable[..., dict[str, bytes]]

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Parameters:
  Out:
    Type: String
  Source:
    Type: String
    Default: shop
Resources:
  Orders:
    Type: AWS::Events::EventBus
    Properties:
      Name: !Sub ${AWS::StackName}-orders
  Recorder:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Runtime: python3.11
      CodeUri: src/
      Environment:
        Variables:
          OUT: !Ref Out
      Events:
        Paid:
          Type: EventBridgeRule
          Properties:
            EventBusName: !Ref Orders
            Pattern:
              source: [!Ref Source]
              detail-type: [Paid]
        Nightly:
          Type: Schedule
          Properties:
            Schedule: rate(1 day)
            Input: '{"nightly": true}'
        Hourly:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: rate(1 hour)
  BigOrders:
    Type: AWS::Events::Rule
    Properties:
      EventPattern:
        source: [!Ref Source]
        detail:
          total: [{numeric: [">", 100]}]
      Targets:
        - Id: rec
          Arn: !GetAtt Recorder.Arn
          Input: '{"big": true}'
        - Id: shaped
          Arn: !GetAtt Recorder.Arn
          InputTransformer:
            InputPathsMap: {total: $.detail.total}
            InputTemplate: '{"amount": <total>}'
          RetryPolicy: {MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 600}
"""

OTHER_ACCOUNTS_FUNCTION = "arn:silo:lambda:local:000000000000:function:f"
FUNCTION_ONLY = """
Resources:
  Recorder:
    Type: AWS::Lambda::Function
    Properties:
      Handler: app.handler
      Runtime: python3.11
      Code: {ZipFile: "def handler(event, context):\\n    return event\\n"}
"""


def order(source: str, detail_type: str = "Order", **more: object) -> dict[str, object]:
    return {"Source": source, "DetailType": detail_type, "Detail": json.dumps(more)}


@pytest.fixture
def acme(tenant: Callable[[str], AccountHandle]) -> AccountHandle:
    return tenant("acme")


@pytest.fixture
def shop(acme: AccountHandle, service_code: Code, outbox: Path) -> AccountHandle:
    acme.stacks.deploy("shop", TEMPLATE, parameters={"Out": str(outbox)}, code=service_code(RECORDER))
    return acme


def test_rules_schedules_and_buses_are_the_stacks_own(platform: Platform, shop: AccountHandle) -> None:
    statuses = {r.logical_id: r.status for r in shop.stacks.resources("shop")}
    assert set(statuses.values()) == {"CREATE_COMPLETE"}
    assert {"Orders", "BigOrders", "RecorderPaid", "RecorderNightly", "RecorderHourly"} <= set(statuses)
    assert shop.events.describe_event_bus("shop-orders").name == "shop-orders"

    big = shop.events.describe_rule("shop-BigOrders")
    assert (big.managed_by, big.bus, big.schedule) == ("shop", "default", None)
    assert json.loads(big.pattern or "") == {
        "source": ["shop"],
        "detail": {"total": [{"numeric": [">", 100]}]},
    }
    target, shaped = shop.events.list_targets("shop-BigOrders")
    assert (target.target_id, target.arn) == ("rec", function_arn(shop, "shop-Recorder"))
    assert target.input == {"Input": '{"big": true}'}
    assert target.retry_policy.maximum_retry_attempts == 185
    assert shaped.input == {
        "InputTransformer": {
            "InputPathsMap": {"total": "$.detail.total"},
            "InputTemplate": '{"amount": <total>}',
        }
    }
    assert (shaped.retry_policy.maximum_retry_attempts, shaped.retry_policy.maximum_event_age_s) == (3, 600)

    paid = shop.events.describe_rule("shop-RecorderPaid", "shop-orders")
    assert paid.managed_by == "shop"
    [target] = shop.events.list_targets("shop-RecorderPaid", "shop-orders")
    assert (target.target_id, target.input) == ("RecorderPaidLambdaTarget", None)

    nightly = shop.events.describe_rule("shop-RecorderNightly")
    assert nightly.schedule is not None and nightly.schedule.expression == "rate(1 day)"
    assert shop.events.list_targets("shop-RecorderNightly")[0].input == {"Input": '{"nightly": true}'}
    account = shop.account_id
    assert rule_key(account, "default", "shop-RecorderNightly") in platform.events.timer
    assert rule_key(account, "schedules:default", "shop-RecorderHourly") in platform.events.timer
    assert len(platform.events.timer) == 2


def test_events_reach_the_stacks_function(shop: AccountHandle, outbox: Path) -> None:
    shop.events.put_events([order("shop", total=150), order("shop", total=5)])
    shop.events.put_events([{**order("shop", "Paid"), "EventBusName": "shop-orders"}])
    wait_until(lambda: len(received(outbox)) == 3)  # the big order reached both targets
    got = [r["event"] for r in received(outbox)]
    assert {"big": True} in got
    assert {"amount": 150} in got
    [paid] = [e for e in got if isinstance(e, dict) and e.get("detail-type") == "Paid"]
    assert paid["source"] == "shop"


def test_users_cannot_change_the_stacks_rules(shop: AccountHandle) -> None:
    with pytest.raises(Conflict, match="managed by stack shop"):
        shop.events.put_rule("shop-BigOrders", event_pattern={"source": ["mine"]})
    with pytest.raises(Conflict, match="managed by stack shop"):
        shop.events.delete_rule("shop-BigOrders")


def test_an_update_changes_what_matches(shop: AccountHandle, service_code: Code, outbox: Path) -> None:
    on_bus = {"EventBusName": "shop-orders"}
    shop.events.put_events([{**order("shop", "Paid"), **on_bus}])  # compiles and caches the bus
    wait_until(lambda: len(received(outbox)) == 1)
    deployed = shop.stacks.deploy(
        "shop", TEMPLATE, parameters={"Out": str(outbox), "Source": "market"}, code=service_code(RECORDER)
    )
    assert {c.logical_id for c in deployed.changes} == {"RecorderPaid", "BigOrders"}
    assert shop.events.describe_rule("shop-BigOrders").created_at is not None
    shop.events.put_events([{**order("shop", "Paid", n=1), **on_bus}])
    shop.events.put_events([{**order("market", "Paid", n=2), **on_bus}])
    wait_until(lambda: len(received(outbox)) == 2)
    time.sleep(0.3)
    sources = [r["event"]["source"] for r in received(outbox)]  # type: ignore[index]
    assert sources == ["shop", "market"]


def test_deleting_the_stack_removes_its_rules_and_buses(platform: Platform, shop: AccountHandle) -> None:
    shop.stacks.delete("shop")
    with pytest.raises(NotFound):
        shop.events.describe_rule("shop-BigOrders")
    with pytest.raises(NotFound):
        shop.events.describe_event_bus("shop-orders")
    assert [r.name for r in shop.events.list_rules().items] == []
    assert len(platform.events.timer) == 0
    shop.events.put_rule("shop-BigOrders", event_pattern={"source": ["mine"]})  # the name is free again


def test_a_bus_with_rules_of_users_is_not_deleted(shop: AccountHandle) -> None:
    shop.events.put_rule("mine", event_bus="shop-orders", event_pattern={"source": ["x"]})
    with pytest.raises(
        Conflict, match=r"Resources\.Orders: .*still has rules this stack does not manage \(mine\)"
    ):
        shop.stacks.delete("shop")
    assert shop.events.describe_rule("shop-BigOrders").managed_by == "shop"


def test_a_bad_pattern_fails_the_deploy_and_writes_nothing(
    acme: AccountHandle, service_code: Code, outbox: Path
) -> None:
    bad = TEMPLATE.replace("source: [!Ref Source]\n        detail:", "source: !Ref Source\n        detail:")
    with pytest.raises(ValidationError, match=r"Resources\.BigOrders\.Properties\.EventPattern") as caught:
        acme.stacks.deploy("shop", bad, parameters={"Out": str(outbox)}, code=service_code(RECORDER))
    assert "must be an object or an array" in caught.value.message
    with pytest.raises(NotFound):
        acme.stacks.get("shop")
    with pytest.raises(NotFound):
        acme.functions.get("shop-Recorder")
    with pytest.raises(NotFound):
        acme.events.describe_event_bus("shop-orders")
    assert acme.events.list_rules().items == []


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            "{EventPattern: {source: [x]}, Targets: [{Id: t, Arn: '" + OTHER_ACCOUNTS_FUNCTION + "'}]}",
            r"Resources\.Bad\.Properties\.Targets\[0\]\.Arn: .*targets must be in the rule's own account",
        ),
        ("{ScheduleExpression: 'rate(0 minutes)'}", r"Resources\.Bad\.Properties\.ScheduleExpression: "),
        (
            "{EventBusName: nowhere, EventPattern: {source: [x]}}",
            r"Resources\.Bad\.Properties\.EventBusName: ",
        ),
    ],
)
def test_rules_are_checked_before_anything_is_written(acme: AccountHandle, rule: str, message: str) -> None:
    template = FUNCTION_ONLY + f"  Bad:\n    Type: AWS::Events::Rule\n    Properties: {rule}\n"
    with pytest.raises(ValidationError, match=message):
        acme.stacks.deploy("shop", template)
    with pytest.raises(NotFound):
        acme.functions.get("shop-Recorder")


def test_a_rule_made_by_a_user_is_not_taken_over(
    acme: AccountHandle, service_code: Code, outbox: Path
) -> None:
    acme.events.put_rule("shop-BigOrders", event_pattern={"source": ["mine"]})
    with pytest.raises(Conflict, match=r"Resources\.BigOrders: .*not managed by this stack"):
        acme.stacks.deploy("shop", TEMPLATE, parameters={"Out": str(outbox)}, code=service_code(RECORDER))
    assert acme.events.describe_rule("shop-BigOrders").managed_by is None
    with pytest.raises(NotFound):
        acme.stacks.get("shop")


def test_a_rule_deleted_outside_the_stack_comes_back(
    shop: AccountHandle, service_code: Code, outbox: Path
) -> None:
    shop.events.delete_rule("shop-BigOrders", force=True)
    deployed = shop.stacks.deploy(
        "shop", TEMPLATE, parameters={"Out": str(outbox)}, code=service_code(RECORDER)
    )
    assert [(c.logical_id, c.properties) for c in deployed.changes] == [
        ("BigOrders", ("(missing from the account)",))
    ]
    assert shop.events.describe_rule("shop-BigOrders").managed_by == "shop"
    assert len(shop.events.list_targets("shop-BigOrders")) == 2


def test_a_stack_schedule_fires_its_function(
    platform: Platform, acme: AccountHandle, service_code: Code, outbox: Path
) -> None:
    at = (utcnow() + dt.timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%S")
    template = TEMPLATE.replace("ScheduleExpression: rate(1 hour)", f"ScheduleExpression: at({at})")
    acme.stacks.deploy("shop", template, parameters={"Out": str(outbox)}, code=service_code(RECORDER))
    wait_until(lambda: len(received(outbox)) == 1, timeout=10)
    event = received(outbox)[0]["event"]
    assert isinstance(event, dict) and event["detail-type"] == "Scheduled Event"
    assert event["resources"] == [
        f"arn:silo:scheduler:local:{acme.account_id}:schedule/default/shop-RecorderHourly"
    ]
