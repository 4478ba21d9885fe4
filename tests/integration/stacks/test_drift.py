"""Drift of every kind a stack writes besides functions: rules, schedules, buses, tables, table
streams and state machines changed outside the stack are MODIFIED (naming what differs), deleted
ones DELETED, untouched ones in sync (not listed); a redeploy creates the deleted ones again."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

import pytest

from silo.events.models import RuleState
from silo.events.repository import EventsRepository
from silo.platform import AccountHandle, Platform
from silo.stacks import Drift
from silo.tables.repository import TablesRepository

Code = Callable[..., dict[str, bytes]]

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Orders:
    Type: AWS::Events::EventBus
    Properties:
      Name: !Sub ${AWS::StackName}-orders
  Spare:
    Type: AWS::Events::EventBus
    Properties:
      Name: !Sub ${AWS::StackName}-spare
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Runtime: python3.11
      CodeUri: src/
      Events:
        Paid:
          Type: EventBridgeRule
          Properties:
            EventBusName: !Ref Orders
            Pattern: {source: [shop], detail-type: [Paid]}
        Nightly:
          Type: Schedule
          Properties:
            Schedule: rate(1 day)
        Hourly:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: rate(1 hour)
            Input: '{"hourly": true}'
        Changes:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Items.StreamArn
            StartingPosition: LATEST
            BatchSize: 10
  Big:
    Type: AWS::Events::Rule
    Properties:
      EventPattern: {source: [shop], detail-type: [Big]}
      Targets:
        - Id: worker
          Arn: !GetAtt Worker.Arn
  Items:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      TimeToLiveSpecification: {AttributeName: expires, Enabled: true}
      StreamSpecification: {StreamViewType: NEW_IMAGE}
  Flow:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      Definition:
        StartAt: Done
        States:
          Done: {Type: Pass, End: true}
"""
FLOW = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
SCHEDULES = "schedules:default"


@pytest.fixture
def shop(tenant: Callable[[str], AccountHandle], service_code: Code) -> AccountHandle:
    acme = tenant("acme")
    acme.stacks.deploy("shop", TEMPLATE, code=service_code())
    return acme


def _names(handle: AccountHandle) -> dict[str, str]:
    return {r.logical_id: r.physical_name for r in handle.stacks.resources("shop")}


def _drift(handle: AccountHandle) -> dict[str, tuple[str, tuple[str, ...]]]:
    return {d.logical_id: (d.status, d.properties) for d in handle.stacks.detect_drift("shop")}


def test_an_untouched_stack_of_every_kind_is_in_sync(shop: AccountHandle) -> None:
    kinds = {r.kind for r in shop.stacks.resources("shop")}
    assert kinds == {"event_bus", "function", "rule", "schedule", "table", "event_source", "state_machine"}
    assert shop.stacks.detect_drift("shop") == []


def test_rules_and_schedules_changed_through_the_api_are_modified(
    platform: Platform, shop: AccountHandle
) -> None:
    names = _names(shop)
    worker = f"arn:silo:lambda:local:{shop.account_id}:function:{names['Worker']}"
    shop.events.disable_rule(names["Big"])
    shop.events.put_targets(names["Big"], [{"Id": "again", "Arn": worker}])
    shop.events.remove_targets(names["WorkerPaid"], ["WorkerPaidLambdaTarget"], event_bus="shop-orders")
    shop.events.disable_rule(names["WorkerNightly"])
    repo = EventsRepository(shop.context)
    with platform.store.write() as conn:  # a schedule has no API that changes a stack's one
        [target] = repo.targets(conn, SCHEDULES, names["WorkerHourly"])
        moved = replace(target, input={"Input": '{"x": 1}'})
        repo.put_targets(conn, SCHEDULES, names["WorkerHourly"], [moved])
    assert _drift(shop) == {
        "Big": ("MODIFIED", ("enabled", "targets")),
        "WorkerPaid": ("MODIFIED", ("targets",)),
        "WorkerNightly": ("MODIFIED", ("enabled",)),
        "WorkerHourly": ("MODIFIED", ("input",)),
    }
    with platform.store.write() as conn:
        repo.set_state(conn, SCHEDULES, names["WorkerHourly"], RuleState.DISABLED)
        repo.remove_targets(conn, SCHEDULES, names["WorkerHourly"], [target.target_id])
        repo.put_targets(conn, SCHEDULES, names["WorkerHourly"], [replace(moved, target_id="other")])
    assert _drift(shop)["WorkerHourly"] == ("MODIFIED", ("enabled", "target"))


def test_deleted_rules_schedules_and_buses_are_deleted_then_made_again(
    shop: AccountHandle, service_code: Code
) -> None:
    names = _names(shop)
    shop.events.delete_rule(names["Big"], force=True)
    shop.schedules.delete(names["WorkerHourly"])
    shop.events.delete_event_bus("shop-spare")
    drift = shop.stacks.detect_drift("shop")
    assert drift == [
        Drift("Big", names["Big"], "DELETED"),
        Drift("Spare", "shop-spare", "DELETED"),
        Drift("WorkerHourly", names["WorkerHourly"], "DELETED"),
    ]
    shop.stacks.deploy("shop", TEMPLATE, code=service_code())
    assert shop.stacks.detect_drift("shop") == []


def test_tables_and_their_streams(platform: Platform, shop: AccountHandle, service_code: Code) -> None:
    names = _names(shop)
    table = names["Items"]
    repo = TablesRepository(shop.context)
    with platform.store.write() as conn:  # DynamoDB's API refuses a stack's table: out of band
        live = repo.get_table(conn, table)
        assert live.stream is not None and live.stream.function == names["Worker"]
        stream = {"view_type": "KEYS_ONLY", "function": names["Worker"], "batch_size": 99, "max_attempts": 3}
        repo.update_table(conn, table, ttl_attribute=None, stream=stream)
    assert _drift(shop) == {
        "Items": ("MODIFIED", ("stream_view_type", "ttl_attribute")),
        "WorkerChanges": ("MODIFIED", ("batch_size",)),
    }
    with platform.store.write() as conn:
        keys = {"partition": ["pk", "S"], "sort": None}
        index = {"name": "by-pk", "keys": keys, "projection": "ALL", "non_key": []}
        repo.update_table(conn, table, key_schema=keys, indexes=[index], stream={**stream, "function": None})
    assert _drift(shop) == {
        "Items": (
            "MODIFIED",
            ("global_secondary_indexes", "key_schema", "stream_view_type", "ttl_attribute"),
        ),
        "WorkerChanges": ("DELETED", ()),
    }
    with platform.store.write() as conn:
        repo.delete_table(conn, table)
    assert _drift(shop) == {"Items": ("DELETED", ()), "WorkerChanges": ("DELETED", ())}
    shop.stacks.deploy("shop", TEMPLATE, code=service_code())
    assert shop.stacks.detect_drift("shop") == []


def test_state_machines(shop: AccountHandle, service_code: Code) -> None:
    name = _names(shop)["Flow"]
    shop.workflows.put_state_machine(name, json.dumps(FLOW, indent=4), managed_by="shop")
    assert shop.stacks.detect_drift("shop") == []  # a new revision of the same definition
    changed = {**FLOW, "States": {"Done": {"Type": "Succeed"}}}
    shop.workflows.put_state_machine(name, changed, managed_by="shop", description="by hand")
    assert _drift(shop) == {"Flow": ("MODIFIED", ("definition", "description"))}
    shop.workflows.delete_state_machine(name, managed_by="shop")
    assert _drift(shop) == {"Flow": ("DELETED", ())}
    shop.stacks.deploy("shop", TEMPLATE, code=service_code())
    assert shop.stacks.detect_drift("shop") == []
