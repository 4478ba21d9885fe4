"""Stacks that deploy tables: created as the stack's own, TTL and streams changed in place, replaced
when their keys change (only under a generated name), deleted with their items when removed unless
retained, never taken over from a user, and streams sent to the stack's functions."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from silo.errors import Conflict, SiloError
from silo.functions import zip_directory
from silo.platform import AccountHandle
from silo.tables.errors import ResourceNotFound, ValidationException
from silo.templates import TemplateError
from tests.helpers.functions import wait_until

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Counters:
    Type: AWS::Serverless::SimpleTable
    Properties:
      PrimaryKey: {Name: name, Type: String}
  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: orders
      BillingMode: PAY_PER_REQUEST
      KeySchema: [{AttributeName: customer, KeyType: HASH}, {AttributeName: order, KeyType: RANGE}]
      AttributeDefinitions:
        - {AttributeName: customer, AttributeType: S}
        - {AttributeName: order, AttributeType: N}
        - {AttributeName: status, AttributeType: S}
      GlobalSecondaryIndexes:
        - IndexName: by-status
          KeySchema: [{AttributeName: status, KeyType: HASH}]
          Projection: {ProjectionType: ALL}
      TimeToLiveSpecification: {AttributeName: expires, Enabled: true}
      StreamSpecification: {StreamViewType: NEW_IMAGE}
Outputs:
  OrdersName: {Value: !Ref Orders}
  OrdersArn: {Value: !GetAtt Orders.Arn}
  OrdersStream: {Value: !GetAtt Orders.StreamArn}
  Counters: {Value: !Ref Counters}
"""
ORDER = {"customer": {"S": "ann"}, "order": {"N": "1"}, "status": {"S": "OPEN"}}
KEY = {"customer": {"S": "ann"}, "order": {"N": "1"}}


def deploy(handle: AccountHandle, template: str) -> None:
    handle.stacks.deploy("shop", template)


@pytest.fixture
def acme(tenant: Callable[[str], AccountHandle]) -> AccountHandle:
    return tenant("acme")


def test_a_stack_creates_its_tables(acme: AccountHandle) -> None:
    deployed = acme.stacks.deploy("shop", TEMPLATE)
    assert deployed.stack is not None
    account = acme.account_id
    outputs = {name: o["value"] for name, o in deployed.stack.outputs.items()}
    assert outputs["OrdersName"] == "orders" and outputs["Counters"] == "shop-Counters"
    assert outputs["OrdersArn"] == f"arn:silo:dynamodb:local:{account}:table/orders"
    assert outputs["OrdersStream"].startswith(f"arn:silo:dynamodb:local:{account}:table/orders/stream/")
    assert {r.logical_id: r.status for r in acme.stacks.resources("shop")} == {
        "Counters": "CREATE_COMPLETE",
        "Orders": "CREATE_COMPLETE",
    }
    orders = acme.tables.describe_table("orders")["Table"]
    assert orders["ManagedBy"] == "shop"
    assert orders["KeySchema"] == [
        {"AttributeName": "customer", "KeyType": "HASH"},
        {"AttributeName": "order", "KeyType": "RANGE"},
    ]
    assert [i["IndexName"] for i in orders["GlobalSecondaryIndexes"]] == ["by-status"]
    assert orders["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert acme.tables.describe_time_to_live("orders")["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expires",
    }
    counters = acme.tables.describe_table("shop-Counters")["Table"]
    assert counters["KeySchema"] == [{"AttributeName": "name", "KeyType": "HASH"}]
    assert "StreamSpecification" not in counters
    acme.tables.put_item({"TableName": "orders", "Item": ORDER})
    assert acme.tables.get_item({"TableName": "orders", "Key": KEY})["Item"] == ORDER
    with pytest.raises(ValidationException, match="belongs to stack shop"):
        acme.tables.delete_table("orders")


def test_ttl_and_stream_changes_are_made_in_place(acme: AccountHandle) -> None:
    deploy(acme, TEMPLATE)
    acme.tables.put_item({"TableName": "orders", "Item": ORDER})
    changed = TEMPLATE.replace("AttributeName: expires", "AttributeName: gone_at").replace(
        "StreamViewType: NEW_IMAGE", "StreamViewType: NEW_AND_OLD_IMAGES"
    )
    deployed = acme.stacks.deploy("shop", changed)
    [change] = deployed.changes
    assert (change.logical_id, change.action, change.replacement) == ("Orders", "Modify", False)
    assert acme.tables.get_item({"TableName": "orders", "Key": KEY})["Item"] == ORDER
    orders = acme.tables.describe_table("orders")["Table"]
    assert orders["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    ttl = acme.tables.describe_time_to_live("orders")["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "gone_at"}
    without = changed.replace("      TimeToLiveSpecification: {AttributeName: gone_at, Enabled: true}\n", "")
    without = without.replace("      StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}\n", "")
    without = without.split("  OrdersStream:")[0] + "  Counters: {Value: !Ref Counters}\n"
    deploy(acme, without)
    orders = acme.tables.describe_table("orders")["Table"]
    assert "StreamSpecification" not in orders
    ttl = acme.tables.describe_time_to_live("orders")["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "DISABLED"}
    assert acme.tables.get_item({"TableName": "orders", "Key": KEY})["Item"] == ORDER


def test_a_removed_table_is_deleted_with_its_items(acme: AccountHandle) -> None:
    deploy(acme, TEMPLATE)
    acme.tables.put_item({"TableName": "orders", "Item": ORDER})
    only_counters = (
        TEMPLATE.split("  Orders:", maxsplit=1)[0] + "Outputs:\n  Counters: {Value: !Ref Counters}\n"
    )
    deployed = acme.stacks.deploy("shop", only_counters)
    assert [(c.logical_id, c.action) for c in deployed.changes] == [("Orders", "Remove")]
    with pytest.raises(ResourceNotFound):
        acme.tables.describe_table("orders")
    deploy(acme, TEMPLATE)  # made again: empty
    assert acme.tables.scan({"TableName": "orders"})["Count"] == 0
    acme.stacks.delete("shop")
    assert acme.tables.list_tables()["TableNames"] == []


def test_a_retained_table_stays_with_its_items_and_leaves_the_stack(acme: AccountHandle) -> None:
    retained = TEMPLATE.replace(
        "    Type: AWS::DynamoDB::Table\n", "    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n"
    )
    deploy(acme, retained)
    acme.tables.put_item({"TableName": "orders", "Item": ORDER})
    acme.stacks.delete("shop")
    assert acme.tables.list_tables()["TableNames"] == ["orders"]  # Counters was not retained
    orders = acme.tables.describe_table("orders")["Table"]
    assert "ManagedBy" not in orders
    assert acme.tables.get_item({"TableName": "orders", "Key": KEY})["Item"] == ORDER
    # the account's own table now: a new stack cannot take it, its owner can delete it
    with pytest.raises(Conflict, match="is not managed by this stack"):
        deploy(acme, retained)
    acme.tables.delete_table("orders")


def test_a_table_made_by_hand_is_never_taken_over(acme: AccountHandle) -> None:
    acme.tables.create_table(
        {
            "TableName": "orders",
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        }
    )
    item = {"id": {"S": "mine"}}
    acme.tables.put_item({"TableName": "orders", "Item": item})
    with pytest.raises(Conflict, match=r"Resources\.Orders: table 'orders' already exists"):
        deploy(acme, TEMPLATE)
    # nothing of the failed deploy was written: no stack table, the user's table untouched
    assert acme.tables.list_tables()["TableNames"] == ["orders"]
    table = acme.tables.describe_table("orders")["Table"]
    assert "ManagedBy" not in table and table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert acme.tables.get_item({"TableName": "orders", "Key": {"id": {"S": "mine"}}})["Item"] == item
    # nor from another stack
    deploy(acme, TEMPLATE.replace("TableName: orders", "TableName: orders2"))
    with pytest.raises(Conflict, match="orders2"):
        acme.stacks.deploy("other", TEMPLATE.replace("TableName: orders", "TableName: orders2"))
    assert acme.tables.describe_table("orders2")["Table"]["ManagedBy"] == "shop"


def test_a_key_change_replaces_only_a_table_with_a_generated_name(acme: AccountHandle) -> None:
    deploy(acme, TEMPLATE)
    acme.tables.put_item({"TableName": "orders", "Item": ORDER})
    acme.tables.put_item({"TableName": "shop-Counters", "Item": {"name": {"S": "hits"}}})
    rekeyed = TEMPLATE.replace(
        "{AttributeName: order, KeyType: RANGE}", "{AttributeName: status, KeyType: RANGE}"
    )
    rekeyed = rekeyed.replace("        - {AttributeName: order, AttributeType: N}\n", "")
    with pytest.raises(TemplateError, match="give it a new TableName") as raised:
        deploy(acme, rekeyed)
    assert raised.value.path == "Resources.Orders.Properties.KeySchema"
    assert acme.tables.get_item({"TableName": "orders", "Key": KEY})["Item"] == ORDER
    # a generated name: deleted and made again, empty, with the new key
    counters = TEMPLATE.replace(
        "PrimaryKey: {Name: name, Type: String}", "PrimaryKey: {Name: n, Type: Number}"
    )
    preview = acme.stacks.create_change_set("shop", "rekey", counters)
    [change] = preview.changes
    assert (change.logical_id, change.replacement) == ("Counters", True)
    acme.stacks.execute_change_set("shop", "rekey")
    counted = acme.tables.describe_table("shop-Counters")["Table"]
    assert counted["KeySchema"] == [{"AttributeName": "n", "KeyType": "HASH"}]
    assert counted["ItemCount"] == 0
    # a new TableName: the new table is created and the old one deleted
    deploy(acme, rekeyed.replace("TableName: orders", "TableName: orders-v2"))
    assert sorted(acme.tables.list_tables()["TableNames"]) == ["orders-v2", "shop-Counters"]


def test_a_table_that_moves_to_another_logical_id_keeps_its_items(acme: AccountHandle) -> None:
    deploy(acme, TEMPLATE)
    acme.tables.put_item({"TableName": "orders", "Item": ORDER})
    moved = TEMPLATE.replace("  Orders:\n", "  Purchases:\n").replace("Orders.", "Purchases.")
    moved = moved.replace("!Ref Orders", "!Ref Purchases")
    deploy(acme, moved)
    assert acme.tables.get_item({"TableName": "orders", "Key": KEY})["Item"] == ORDER
    assert {r.logical_id for r in acme.stacks.resources("shop")} == {"Counters", "Purchases"}


def test_template_errors_a_table_meets_at_deploy(acme: AccountHandle) -> None:
    local = TEMPLATE.replace(
        "      GlobalSecondaryIndexes:",
        "      LocalSecondaryIndexes:\n"
        "        - IndexName: by-status-local\n"
        "          KeySchema:\n"
        "            - {AttributeName: customer, KeyType: HASH}\n"
        "            - {AttributeName: status, KeyType: RANGE}\n"
        "          Projection: {ProjectionType: ALL}\n"
        "      GlobalSecondaryIndexes:",
    )
    with pytest.raises(TemplateError, match="use GlobalSecondaryIndexes"):
        deploy(acme, local)
    snapshot = TEMPLATE.replace(
        "    Type: AWS::DynamoDB::Table\n", "    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Snapshot\n"
    )
    with pytest.raises(TemplateError, match="Snapshot is not supported"):
        deploy(acme, snapshot)
    twice = TEMPLATE.replace("PrimaryKey: {Name: name, Type: String}", "TableName: orders")
    with pytest.raises(TemplateError, match="is also the name of"):
        deploy(acme, twice)
    assert acme.tables.list_tables()["TableNames"] == []
    # a retained table with a generated name is not replaced either: its items would go
    retained = "Transform: AWS::Serverless-2016-10-31\nResources:\n  Kept:\n" + (
        "    Type: AWS::Serverless::SimpleTable\n    DeletionPolicy: Retain\n"
    )
    deploy(acme, retained)
    acme.tables.put_item({"TableName": "shop-Kept", "Item": {"id": {"S": "x"}}})
    with pytest.raises(TemplateError, match="its DeletionPolicy keeps them"):
        deploy(acme, retained + "    Properties: {PrimaryKey: {Name: n, Type: Number}}\n")
    assert acme.tables.scan({"TableName": "shop-Kept"})["Count"] == 1


STREAMED = """
Transform: AWS::Serverless-2016-10-31
Parameters:
  Outbox: {Type: String}
Resources:
  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      StreamSpecification: {StreamViewType: NEW_IMAGE}
  Audit:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      CodeUri: src/
      Environment: {Variables: {OUTBOX: !Ref Outbox}}
      Events:
        Changes:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Orders.StreamArn
            StartingPosition: TRIM_HORIZON
            BatchSize: 5
            MaximumRetryAttempts: 1
"""
AUDIT = """
import json, os

def handler(event, context):
    with open(os.environ["OUTBOX"], "a") as out:
        for record in event["Records"]:
            out.write(json.dumps(record["dynamodb"]["NewImage"]) + "\\n")
"""


def test_a_dynamodb_event_sends_the_tables_stream_to_the_function(
    acme: AccountHandle, tmp_path: Path, outbox: Path
) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(textwrap.dedent(AUDIT))
    code = {"src/": zip_directory(tmp_path / "src")}
    deployed = acme.stacks.deploy("shop", STREAMED, parameters={"Outbox": str(outbox)}, code=code)
    assert {c.logical_id: c.kind for c in deployed.changes}["AuditChanges"] == "event_source"
    acme.tables.put_item({"TableName": "shop-Orders", "Item": {"id": {"S": "o-1"}}})
    wait_until(lambda: bool(outbox.read_text()), timeout=20)
    assert [json.loads(line) for line in outbox.read_text().splitlines()] == [{"id": {"S": "o-1"}}]
    # the event goes with the template: the stream stays, with no function
    plain = STREAMED.split("      Events:", maxsplit=1)[0]
    deployed = acme.stacks.deploy("shop", plain, parameters={"Outbox": str(outbox)}, code=code)
    assert [(c.logical_id, c.action) for c in deployed.changes] == [("AuditChanges", "Remove")]
    assert acme.tables.describe_table("shop-Orders")["Table"]["StreamSpecification"]["StreamEnabled"]


def test_a_dynamodb_event_needs_a_streamed_table_of_the_stack(acme: AccountHandle, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("def handler(event, context):\n    return None\n")
    code = {"src/": zip_directory(tmp_path)}
    unstreamed = STREAMED.replace("      StreamSpecification: {StreamViewType: NEW_IMAGE}\n", "").replace(
        "!GetAtt Orders.StreamArn", "!Sub '${Orders.Arn}/stream/x'"
    )
    with pytest.raises(SiloError, match="has no StreamSpecification"):
        acme.stacks.deploy("shop", unstreamed, parameters={"Outbox": "x"}, code=code)
    foreign = STREAMED.replace(
        "!GetAtt Orders.StreamArn", "!Sub 'arn:silo:dynamodb:local:${AWS::AccountId}:table/other/stream/x'"
    )
    with pytest.raises(SiloError, match="a table of its own stack"):
        acme.stacks.deploy("shop", foreign, parameters={"Outbox": "x"}, code=code)
    assert acme.tables.list_tables()["TableNames"] == []
