"""``silo.sdk.documents``: every place of a table request that holds attribute values is converted to
typed JSON (and nothing else); every place of an answer back to documents, as Python values or as JSON
values; the SDK's parameters of each operation are the API's."""

from __future__ import annotations

from decimal import Decimal

import pytest

from silo.api import table_schemas
from silo.sdk.documents import document_answer, document_details, typed_request
from silo.sdk.tables import FIELDS
from silo.tables.errors import ValidationException

KEY = {"id": "a", "n": 1}
TYPED_KEY = {"id": {"S": "a"}, "n": {"N": "1"}}


def test_every_value_place_of_a_request_is_converted() -> None:
    request = {
        "TableName": "t",
        "Item": KEY,
        "ExclusiveStartKey": KEY,
        "ExpressionAttributeValues": {":v": [1.5, None]},
        "ExpressionAttributeNames": {"#n": "n"},
        "ConditionExpression": "#n = :v",
        "RequestItems": {
            "reads": {"Keys": [KEY], "ProjectionExpression": "id"},
            "writes": [{"PutRequest": {"Item": KEY}}, {"DeleteRequest": {"Key": KEY}}],
        },
        "TransactItems": [
            {"Update": {"TableName": "t", "Key": KEY, "ExpressionAttributeValues": {":b": True}}},
            {"ConditionCheck": {"TableName": "t", "Key": KEY}},
        ],
    }
    typed = typed_request(request)
    assert typed["Item"] == typed["ExclusiveStartKey"] == TYPED_KEY
    assert typed["ExpressionAttributeValues"] == {":v": {"L": [{"N": "1.5"}, {"NULL": True}]}}
    assert typed["ExpressionAttributeNames"] == {"#n": "n"} and typed["ConditionExpression"] == "#n = :v"
    assert typed["RequestItems"] == {
        "reads": {"Keys": [TYPED_KEY], "ProjectionExpression": "id"},
        "writes": [{"PutRequest": {"Item": TYPED_KEY}}, {"DeleteRequest": {"Key": TYPED_KEY}}],
    }
    update, check = typed["TransactItems"]
    assert update["Update"]["Key"] == TYPED_KEY
    assert update["Update"]["ExpressionAttributeValues"] == {":b": {"BOOL": True}}
    assert check["ConditionCheck"] == {"TableName": "t", "Key": TYPED_KEY}
    assert request["Item"] == KEY  # the request itself is left as it was


def test_values_of_the_wrong_shape_are_left_for_the_service() -> None:
    odd = {"Item": "x", "RequestItems": {"t": 5}, "TransactItems": [7, {"Put": "y"}]}
    assert typed_request(odd) == odd
    with pytest.raises(ValidationException) as refused:
        typed_request({"RequestItems": {"t": [{"PutRequest": {"Item": {"n": float("inf")}}}]}})
    assert refused.value.message.startswith("RequestItems.t[0].PutRequest.Item.n: ")


def test_answers_as_python_or_json_values() -> None:
    item = {"n": {"N": "2.50"}, "b": {"B": "AAE="}, "s": {"NS": ["3", "1"]}, "i": {"N": "10"}}
    answer = {
        "Items": [item],
        "LastEvaluatedKey": {"i": {"N": "10"}},
        "Count": 1,
        "Responses": {"t": [item]},
        "UnprocessedKeys": {"t": {"Keys": [{"i": {"N": "1"}}]}},
        "UnprocessedItems": {"t": [{"PutRequest": {"Item": {"i": {"N": "1"}}}}]},
    }
    python = document_answer(answer)
    assert python["Items"] == [{"n": Decimal("2.5"), "b": b"\x00\x01", "s": {1, 3}, "i": 10}]
    as_json = document_answer(answer, for_json=True)
    assert as_json["Items"] == [{"n": 2.5, "b": "AAE=", "s": [1, 3], "i": 10}] == as_json["Responses"]["t"]
    assert as_json["LastEvaluatedKey"] == {"i": 10} and as_json["Count"] == 1
    assert as_json["UnprocessedKeys"] == {"t": {"Keys": [{"i": 1}]}}
    assert as_json["UnprocessedItems"] == {"t": [{"PutRequest": {"Item": {"i": 1}}}]}
    gets = document_answer({"Responses": [{"Item": item}, {}]}, for_json=True)
    assert gets == {"Responses": [{"Item": {"n": 2.5, "b": "AAE=", "s": [1, 3], "i": 10}}, {}]}
    details = {"cancellation_reasons": [{"Code": "None"}, {"Code": "X", "Item": {"i": {"N": "1"}}}]}
    assert document_details(details)["cancellation_reasons"][1]["Item"] == {"i": 1}
    assert document_details({"Item": {"i": {"S": "a"}}, "field": "Key"}) == {
        "Item": {"i": "a"},
        "field": "Key",
    }


@pytest.mark.parametrize(
    ("operation", "body"),
    [
        ("get_item", table_schemas.GetItem),
        ("put_item", table_schemas.PutItem),
        ("update_item", table_schemas.UpdateItem),
        ("delete_item", table_schemas.DeleteItem),
        ("query", table_schemas.QueryRequest),
        ("scan", table_schemas.ScanRequest),
        ("batch_get_item", table_schemas.BatchGetItem),
        ("batch_write_item", table_schemas.BatchWriteItem),
        ("transact_write_items", table_schemas.TransactWriteItems),
        ("transact_get_items", table_schemas.TransactGetItems),
    ],
)
def test_the_sdk_takes_the_parameters_the_api_takes(operation: str, body: type) -> None:
    assert FIELDS[operation] == set(body.model_fields)  # type: ignore[attr-defined]
