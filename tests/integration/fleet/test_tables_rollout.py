"""A stack set with a table: every account gets its own (the fleet writes tables in its batches, each
through its account's repository); updates change each in place and an instance delete removes only
that account's table."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from silo.fleet import Amount, OperationStatus, Preferences, Targets
from silo.platform import AccountHandle, ManagementHandle
from silo.tables.errors import ResourceNotFound
from tests.integration.fleet.conftest import TEMPLATE, finish

Code = Callable[..., dict[str, bytes]]
Accounts = Callable[..., list[str]]
FAST = Preferences(max_concurrent=Amount(100, percent=True), retry_base_seconds=0.01, retry_max_seconds=0.05)
WITH_TABLE = (
    TEMPLATE
    + """  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: orders
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      TimeToLiveSpecification: {AttributeName: !Sub "expires_${Version}", Enabled: true}
"""
)


def inside(mgmt: ManagementHandle, account: str) -> AccountHandle:
    return mgmt.assume(account, "check the rollout").handle


def test_a_stack_set_rolls_tables_out_to_each_account(
    mgmt: ManagementHandle, accounts: Accounts, fleet_code: Code
) -> None:
    ids = accounts(3)
    mgmt.fleet.create_stack_set("svc", WITH_TABLE, code=fleet_code())
    op = mgmt.fleet.create_instances("svc", Targets(accounts=tuple(ids)), preferences=FAST)
    assert finish(mgmt.fleet, op).status is OperationStatus.SUCCEEDED
    for account in ids:
        table = inside(mgmt, account).tables.describe_table("orders")["Table"]
        assert table["ManagedBy"] == "svc"
        assert table["TableArn"] == f"arn:silo:dynamodb:local:{account}:table/orders"
    first = inside(mgmt, ids[0])
    first.tables.put_item({"TableName": "orders", "Item": {"id": {"S": "a"}}})

    op = mgmt.fleet.update_stack_set("svc", parameters={"Version": "v2"}, preferences=FAST)
    assert finish(mgmt.fleet, op).status is OperationStatus.SUCCEEDED
    for account in ids:
        ttl = inside(mgmt, account).tables.describe_time_to_live("orders")["TimeToLiveDescription"]
        assert ttl["AttributeName"] == "expires_v2"
    assert first.tables.scan({"TableName": "orders"})["Count"] == 1

    gone = mgmt.fleet.delete_instances("svc", Targets(accounts=(ids[1],)), preferences=FAST)
    assert finish(mgmt.fleet, gone).status is OperationStatus.SUCCEEDED
    with pytest.raises(ResourceNotFound):
        inside(mgmt, ids[1]).tables.describe_table("orders")
    assert inside(mgmt, ids[0]).tables.scan({"TableName": "orders"})["Count"] == 1
    assert inside(mgmt, ids[2]).tables.list_tables()["TableNames"] == ["orders"]
