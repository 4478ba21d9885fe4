"""A workflow or a template of account B never reads or writes account A's tables, even when B's
table has the same name: B reaches its own table, or none (ResourceNotFound), and an ARN of A's
table fails B's task."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from silo.errors import SiloError
from silo.platform import AccountHandle
from silo.tables.errors import ResourceNotFound
from tests.helpers.functions import wait_until
from tests.integration.workflows.test_table_tasks import order, orders_table

KEY = {"customer": {"S": "ann"}, "order": {"N": "1"}}


def run_task(handle: AccountHandle, resource: str, parameters: Any, name: str) -> Any:
    """The task's result, or its (caught) error, as the execution's output."""
    handle.workflows.create_state_machine(
        name,
        {
            "StartAt": "Call",
            "States": {
                "Call": {
                    "Type": "Task",
                    "Resource": resource,
                    "Parameters": parameters,
                    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                    "End": True,
                },
                "Caught": {"Type": "Pass", "End": True},
            },
        },
    )
    arn = handle.workflows.start_execution(name, {}).arn
    wait_until(lambda: handle.workflows.describe_execution(arn).status != "RUNNING", timeout=20)
    done = handle.workflows.describe_execution(arn)
    assert done.status == "SUCCEEDED"
    return done.output


@pytest.fixture
def a(tenant: Callable[[str], AccountHandle]) -> AccountHandle:
    handle = tenant("a")
    handle.tables.create_table(orders_table())
    handle.tables.put_item({"TableName": "orders", "Item": order("ann", 1)})
    return handle


def test_b_workflows_never_reach_a_tables(a: AccountHandle, tenant: Callable[[str], AccountHandle]) -> None:
    b = tenant("b")
    a_arn = a.tables.describe_table("orders")["Table"]["TableArn"]
    calls = [
        ("arn:aws:states:::dynamodb:getItem", {"TableName": "orders", "Key": KEY}),
        ("arn:aws:states:::dynamodb:putItem", {"TableName": "orders", "Item": order("ann", 1, total=666)}),
        ("arn:aws:states:::dynamodb:updateItem", {"TableName": "orders", "Key": KEY}),
        ("arn:aws:states:::dynamodb:deleteItem", {"TableName": "orders", "Key": KEY}),
        ("arn:aws:states:::aws-sdk:dynamodb:scan", {"TableName": "orders"}),
        (
            "arn:aws:states:::aws-sdk:dynamodb:query",
            {
                "TableName": "orders",
                "KeyConditionExpression": "customer = :c",
                "ExpressionAttributeValues": {":c": {"S": "ann"}},
            },
        ),
    ]
    for i, (resource, parameters) in enumerate(calls):
        prefix = "DynamoDb" if ":aws-sdk:" in resource else "DynamoDB"
        out = run_task(b, resource, parameters, f"none{i}")
        assert out["Error"] == f"{prefix}.ResourceNotFoundException", out
        # by A's ARN: refused, whether or not B has a table of that name
        out = run_task(b, resource, {**parameters, "TableName": a_arn}, f"arn{i}")
        assert out["Error"] == f"{prefix}.AccessDeniedException", out
    # B's own table of the same name is the one B's tasks reach
    b.tables.create_table(orders_table())
    put = {"TableName": "orders", "Item": order("ann", 1, total=666)}
    run_task(b, "arn:aws:states:::dynamodb:putItem", put, "own-put")
    out = run_task(b, "arn:aws:states:::dynamodb:getItem", {"TableName": "orders", "Key": KEY}, "own-get")
    assert out["Item"]["total"] == {"N": "666"}
    out = run_task(b, "arn:aws:states:::dynamodb:getItem", {"TableName": a_arn, "Key": KEY}, "own-arn")
    assert out["Error"] == "DynamoDB.AccessDeniedException"
    # A's table never changed
    assert a.tables.get_item({"TableName": "orders", "Key": KEY})["Item"] == order("ann", 1)
    assert a.tables.scan({"TableName": "orders"})["Count"] == 1


TEMPLATE = """
Resources:
  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: orders
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
"""


def test_b_templates_make_and_delete_b_tables_only(
    a: AccountHandle, tenant: Callable[[str], AccountHandle]
) -> None:
    b = tenant("b")
    b.stacks.deploy("shop", TEMPLATE)  # A's table of that name is no obstacle, and is not taken
    assert b.tables.describe_table("orders")["Table"]["ManagedBy"] == "shop"
    assert "ManagedBy" not in a.tables.describe_table("orders")["Table"]
    assert b.tables.scan({"TableName": "orders"})["Count"] == 0
    b.stacks.delete("shop")
    with pytest.raises(ResourceNotFound):
        b.tables.describe_table("orders")
    assert a.tables.get_item({"TableName": "orders", "Key": KEY})["Item"] == order("ann", 1)
    # A's stack of that name cannot take A's own table either, and B's stack never touches it
    with pytest.raises(SiloError, match="not managed by this stack"):
        a.stacks.deploy("shop", TEMPLATE)
    # a DynamoDB event of B cannot read A's stream
    a_stream = f"arn:silo:dynamodb:local:{a.account_id}:table/orders/stream/1970-01-01T00:00:00.000"
    streamed = f"""
Transform: AWS::Serverless-2016-10-31
Resources:
  Reader:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      InlineCode: "def handler(event, context):\\n    return None\\n"
      Events:
        Changes:
          Type: DynamoDB
          Properties: {{Stream: "{a_stream}", StartingPosition: LATEST}}
"""
    with pytest.raises(SiloError, match="not the stream of a table of this account"):
        b.stacks.deploy("reader", streamed)
    assert [s.name for s in b.stacks.list().items] == []
