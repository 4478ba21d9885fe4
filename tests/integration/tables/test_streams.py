"""Streams: change records reach the table's function, batched, in order per key; failures retry,
then land in the central DLQ with the account."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from silo.dlq import DeadLetterFilter
from silo.platform import AccountHandle, ManagementHandle
from tests.helpers.functions import deploy, wait_until
from tests.integration.tables.conftest import order

RECORDER = """
import json, os

def handler(event, context):
    if os.environ.get("FAIL"):
        raise RuntimeError("cannot take records now")
    with open(os.environ["OUT"], "a") as out:
        for record in event["Records"]:
            out.write(json.dumps(record) + "\\n")
    return len(event["Records"])
"""


def _records(outbox: Path) -> list[dict[str, object]]:
    if not outbox.exists():
        return []
    return [json.loads(line) for line in outbox.read_text().splitlines() if line]


def test_changes_arrive_in_order_with_their_images(
    shop: AccountHandle, code: Callable[[str], bytes], outbox: Path
) -> None:
    deploy(shop, "recorder", code(RECORDER), environment={"OUT": str(outbox)})
    shop.tables.set_stream("orders", "NEW_AND_OLD_IMAGES", function="recorder", batch_size=10)
    key = {"customer": {"S": "ann"}, "order": {"N": "1"}}
    shop.tables.put_item({"TableName": "orders", "Item": order("ann", 1, amount=1)})
    for total in range(2, 13):
        shop.tables.update_item(
            {
                "TableName": "orders",
                "Key": key,
                "UpdateExpression": "SET amount = :t",
                "ExpressionAttributeValues": {":t": {"N": str(total)}},
            }
        )
    shop.tables.delete_item({"TableName": "orders", "Key": key})
    wait_until(lambda: len(_records(outbox)) == 13, timeout=20)
    records = _records(outbox)
    assert [r["eventName"] for r in records] == ["INSERT"] + ["MODIFY"] * 11 + ["REMOVE"]
    totals = [r["dynamodb"]["NewImage"]["amount"]["N"] for r in records[:-1]]  # type: ignore[index]
    assert totals == [str(t) for t in range(1, 13)]
    assert records[-1]["dynamodb"]["OldImage"]["amount"] == {"N": "12"}  # type: ignore[index]
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in records]  # type: ignore[index]
    assert numbers == sorted(numbers)


def test_a_failing_function_gets_retries_then_the_dlq_with_the_account(
    shop: AccountHandle, mgmt: ManagementHandle, code: Callable[[str], bytes], outbox: Path
) -> None:
    deploy(shop, "recorder", code(RECORDER), environment={"OUT": str(outbox), "FAIL": "1"})
    shop.tables.set_stream("orders", "KEYS_ONLY", function="recorder", max_attempts=2)
    shop.tables.put_item({"TableName": "orders", "Item": order("ann", 1)})
    wait_until(
        lambda: len(mgmt.dead_letters(DeadLetterFilter(account_id=shop.account_id)).items) == 1, timeout=20
    )
    (entry,) = mgmt.dead_letters(DeadLetterFilter(account_id=shop.account_id)).items
    assert entry.source == "tables:stream" and entry.attempts == 2
    assert json.loads(entry.payload)["dynamodb"]["Keys"] == {"customer": {"S": "ann"}, "order": {"N": "1"}}
    assert _records(outbox) == []
