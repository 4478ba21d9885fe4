"""Task states on the account's tables: Step Functions' optimized DynamoDB integration and its AWS SDK
form, with DynamoDB's typed requests and responses, and DynamoDB's errors for Retry and Catch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from silo.platform import AccountHandle
from tests.helpers.functions import wait_until


def orders_table() -> dict[str, Any]:
    """A table keyed by customer (S) and order number (N)."""
    return {
        "TableName": "orders",
        "AttributeDefinitions": [
            {"AttributeName": "customer", "AttributeType": "S"},
            {"AttributeName": "order", "AttributeType": "N"},
        ],
        "KeySchema": [
            {"AttributeName": "customer", "KeyType": "HASH"},
            {"AttributeName": "order", "KeyType": "RANGE"},
        ],
    }


def order(customer: str, number: int, status: str = "OPEN", total: int = 10) -> dict[str, Any]:
    return {
        "customer": {"S": customer},
        "order": {"N": str(number)},
        "status": {"S": status},
        "total": {"N": str(total)},
    }


PUT = "arn:aws:states:::dynamodb:putItem"
GET = "arn:aws:states:::dynamodb:getItem"
UPDATE = "arn:aws:states:::dynamodb:updateItem"
KEY = {"customer": {"S.$": "$.customer"}, "order": {"N.$": "$.order"}}
CLOSE = {
    "TableName": "orders",
    "Key": KEY,
    "UpdateExpression": "SET #s = :closed",
    "ConditionExpression": "#s = :open",
    "ExpressionAttributeNames": {"#s": "status"},
    "ExpressionAttributeValues": {":closed": {"S": "CLOSED"}, ":open": {"S": "OPEN"}},
    "ReturnValues": "ALL_NEW",
}
ORDER_FLOW = {
    "StartAt": "Put",
    "States": {
        "Put": {
            "Type": "Task",
            "Resource": PUT,
            "Parameters": {
                "TableName": "orders",
                "Item": {
                    "customer": {"S.$": "$.customer"},
                    "order": {"N.$": "$.order"},
                    "status": {"S": "OPEN"},
                    "total": {"N": "25"},
                },
            },
            "ResultPath": "$.put",
            "Next": "Get",
        },
        "Get": {
            "Type": "Task",
            "Resource": "arn:silo:states:::dynamodb:getItem",
            "Parameters": {"TableName": "orders", "Key": KEY},
            "ResultPath": "$.got",
            "Next": "Close",
        },
        "Close": {
            "Type": "Task",
            "Resource": UPDATE,
            "Parameters": CLOSE,
            "ResultSelector": {"status.$": "$.Attributes.status.S"},
            "ResultPath": "$.closed",
            "Next": "CloseAgain",
        },
        "CloseAgain": {
            "Type": "Task",
            "Resource": UPDATE,
            "Parameters": CLOSE,
            "ResultPath": "$.again",
            "Catch": [
                {
                    "ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"],
                    "ResultPath": "$.refused",
                    "Next": "AlreadyClosed",
                }
            ],
            "Next": "Unexpected",
        },
        "AlreadyClosed": {"Type": "Succeed"},
        "Unexpected": {"Type": "Fail", "Error": "Unexpected"},
    },
}


def finished(handle: AccountHandle, arn: str) -> Any:
    wait_until(lambda: handle.workflows.describe_execution(arn).status != "RUNNING", timeout=20)
    return handle.workflows.describe_execution(arn)


def run(handle: AccountHandle, definition: dict[str, Any], input: Any, name: str = "flow") -> Any:
    handle.workflows.create_state_machine(name, definition)
    return finished(handle, handle.workflows.start_execution(name, input).arn)


def one_task(resource: str, parameters: Any) -> dict[str, Any]:
    """A task whose result, or error (caught), is the execution's output."""
    return {
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
    }


@pytest.fixture
def shop(tenant: Callable[[str], AccountHandle]) -> AccountHandle:
    handle = tenant("shop")
    handle.tables.create_table(orders_table())
    return handle


def test_put_get_and_a_conditional_update_caught_by_its_dynamodb_error(shop: AccountHandle) -> None:
    done = run(shop, ORDER_FLOW, {"customer": "ann", "order": "7"})
    assert done.status == "SUCCEEDED", (done.error, done.cause)
    out = done.output
    assert out["put"] == {}
    assert out["got"] == {"Item": order("ann", 7, total=25)}
    assert out["closed"] == {"status": "CLOSED"}
    assert out["refused"]["Error"] == "DynamoDB.ConditionalCheckFailedException"
    assert "conditional request failed" in out["refused"]["Cause"]
    stored = shop.tables.get_item(
        {"TableName": "orders", "Key": {"customer": {"S": "ann"}, "order": {"N": "7"}}}
    )
    assert stored["Item"]["status"] == {"S": "CLOSED"}


def test_the_sdk_integration_queries_and_names_errors_as_step_functions_does(shop: AccountHandle) -> None:
    for number, status in ((1, "OPEN"), (2, "CLOSED"), (3, "OPEN")):
        shop.tables.put_item({"TableName": "orders", "Item": order("bob", number, status)})
    shop.tables.put_item({"TableName": "orders", "Item": order("cat", 1)})
    query = {
        "TableName": "orders",
        "KeyConditionExpression": "customer = :c",
        "FilterExpression": "#s = :open",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {":c": {"S.$": "$.customer"}, ":open": {"S": "OPEN"}},
    }
    done = run(shop, one_task("arn:aws:states:::aws-sdk:dynamodb:query", query), {"customer": "bob"})
    assert done.status == "SUCCEEDED"
    assert done.output["Items"] == [order("bob", 1), order("bob", 3)]
    assert (done.output["Count"], done.output["ScannedCount"]) == (2, 3)
    refused = {
        "TableName": "orders",
        "Item": order("bob", 1),
        "ConditionExpression": "attribute_not_exists(customer)",
    }
    done = run(shop, one_task("arn:silo:states:::aws-sdk:dynamodb:putItem", refused), {}, "put")
    assert done.output["Error"] == "DynamoDb.ConditionalCheckFailedException"
    done = run(shop, one_task("arn:aws:states:::aws-sdk:dynamodb:scan", {"TableName": "orders"}), {}, "scan")
    assert done.output["Count"] == 4
    bob = {"customer": {"S": "bob"}, "order": {"N": "2"}}
    gets = {"TransactItems": [{"Get": {"TableName": "orders", "Key": bob}}]}
    done = run(shop, one_task("arn:aws:states:::aws-sdk:dynamodb:transactGetItems", gets), {}, "tget")
    assert done.output == {"Responses": [{"Item": order("bob", 2, "CLOSED")}]}
    writes = {"RequestItems": {"orders": [{"DeleteRequest": {"Key": bob}}]}}
    done = run(shop, one_task("arn:aws:states:::aws-sdk:dynamodb:batchWriteItem", writes), {}, "bwrite")
    assert done.status == "SUCCEEDED"
    done = run(shop, one_task("arn:aws:states:::aws-sdk:dynamodb:transactGetItems", gets), {}, "tget2")
    assert done.output == {"Responses": [{}]}


@pytest.mark.parametrize(
    ("resource", "parameters", "error"),
    [
        (GET, {"TableName": "missing", "Key": {"id": {"S": "x"}}}, "DynamoDB.ResourceNotFoundException"),
        (GET, {"TableName": "orders", "Key": {"customer": {"S": "ann"}}}, "DynamoDB.ValidationException"),
        (PUT, {"TableName": "orders", "Item": {"customer": {"S": "ann"}}}, "DynamoDB.ValidationException"),
        ("arn:aws:states:::dynamodb:query", {"TableName": "orders"}, "States.TaskFailed"),
        (GET + ".sync", {"TableName": "orders"}, "States.TaskFailed"),
        ("arn:aws:states:::aws-sdk:dynamodb:deleteTable", {"TableName": "orders"}, "States.TaskFailed"),
        (
            "arn:aws:states:::aws-sdk:dynamodb:getItem",
            {"TableName": "missing", "Key": {"id": {"S": "x"}}},
            "DynamoDb.ResourceNotFoundException",
        ),
    ],
)
def test_errors_of_table_tasks(shop: AccountHandle, resource: str, parameters: Any, error: str) -> None:
    done = run(shop, one_task(resource, parameters), {})
    assert done.status == "SUCCEEDED"
    assert done.output["Error"] == error, done.output


def test_a_table_named_by_the_accounts_own_arn(shop: AccountHandle) -> None:
    shop.tables.put_item({"TableName": "orders", "Item": order("ann", 1)})
    arn = shop.tables.describe_table("orders")["Table"]["TableArn"]
    key = {"customer": {"S": "ann"}, "order": {"N": "1"}}
    done = run(shop, one_task(GET, {"TableName": arn, "Key": key}), {})
    assert done.output == {"Item": order("ann", 1)}
