"""Request bodies and answers of the table endpoints (``/v1/account/tables``).

Bodies have DynamoDB's shapes and field names (``Item``, ``ConditionExpression``,
``ExpressionAttributeValues``...), without ``TableName`` where the path names the table. These
models refuse unknown fields (naming them) and values of the wrong JSON type; everything else
(expressions, key schemas, limits, attribute values) is checked by ``silo.tables``, so that a rule
lives in one place and the API says what DynamoDB says. Items, keys and expression values are
plain JSON documents by default, DynamoDB's typed JSON with ``?format=typed``: either way they are
taken here as JSON objects.

Answers are DynamoDB's; a field DynamoDB leaves out (no ``Item`` when there is none, no
``LastEvaluatedKey`` on the last page) is left out here too.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, JsonValue, model_validator

from silo.api.schemas import RequestBody, Text

Document = dict[str, Any]
"""Attribute name -> value: a plain JSON document, or typed JSON with ``?format=typed``."""
AwsObject = dict[str, JsonValue]
Names = dict[str, str]


# --- tables --------------------------------------------------------------------------------------
class TableCreate(RequestBody):
    """CreateTable (DynamoDB's request; ``TimeToLiveSpecification`` may come with it)."""

    TableName: Text = Field(description="3-255 letters, digits, '_', '-' or '.'.")
    AttributeDefinitions: list[AwsObject] = Field(description="[{AttributeName, AttributeType: S|N|B}]")
    KeySchema: list[AwsObject] = Field(description="[{AttributeName, KeyType: HASH}, {..., KeyType: RANGE}?]")
    GlobalSecondaryIndexes: list[AwsObject] | None = Field(
        default=None, description="[{IndexName, KeySchema, Projection: {ProjectionType, NonKeyAttributes?}}]"
    )
    StreamSpecification: AwsObject | None = Field(
        default=None, description="{StreamEnabled, StreamViewType}; its function is set with PUT .../stream."
    )
    TimeToLiveSpecification: AwsObject | None = Field(default=None, description="{Enabled, AttributeName}")
    BillingMode: Text | None = Field(default=None, description="Accepted; every table is PAY_PER_REQUEST.")
    ProvisionedThroughput: AwsObject | None = Field(default=None, description="Accepted and ignored.")
    Tags: list[AwsObject] | None = Field(default=None, description="Accepted and ignored.")


class TimeToLive(RequestBody):
    Enabled: bool
    AttributeName: Text = Field(description="The attribute holding the expiry, in epoch seconds.")


class TimeToLiveUpdate(RequestBody):
    """UpdateTimeToLive."""

    TimeToLiveSpecification: TimeToLive


class StreamUpdate(RequestBody):
    """The table's stream: on with a view type and the function its batches of records go to, or off."""

    StreamEnabled: bool
    StreamViewType: Text | None = Field(
        default=None,
        description="KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES (with StreamEnabled).",
    )
    FunctionName: Text | None = Field(default=None, description="A function of this account.")
    BatchSize: int = Field(default=100, description="Records per invocation, 1-1000.")
    MaximumRetryAttempts: int = Field(
        default=3, description="Attempts per batch (1-10) before its records go to the dead-letter queue."
    )

    @model_validator(mode="after")
    def _view_when_enabled(self) -> StreamUpdate:
        if self.StreamEnabled and self.StreamViewType is None:
            raise ValueError("StreamViewType: required when StreamEnabled is true")
        return self


# --- single items --------------------------------------------------------------------------------
class _Conditional(RequestBody):
    ConditionExpression: Text | None = None
    ExpressionAttributeNames: Names | None = None
    ExpressionAttributeValues: Document | None = None
    ReturnValues: Text | None = None
    ReturnValuesOnConditionCheckFailure: Text | None = Field(default=None, description="NONE or ALL_OLD.")


class GetItem(RequestBody):
    Key: Document
    ProjectionExpression: Text | None = None
    ExpressionAttributeNames: Names | None = None
    ConsistentRead: bool | None = Field(default=None, description="Accepted: every read is consistent.")


class PutItem(_Conditional):
    """PutItem: ``ReturnValues`` NONE or ALL_OLD."""

    Item: Document


class UpdateItem(_Conditional):
    """UpdateItem: ``ReturnValues`` NONE, ALL_OLD, UPDATED_OLD, ALL_NEW or UPDATED_NEW."""

    Key: Document
    UpdateExpression: Text | None = None


class DeleteItem(_Conditional):
    """DeleteItem: ``ReturnValues`` NONE or ALL_OLD."""

    Key: Document


# --- many items ----------------------------------------------------------------------------------
class _Read(RequestBody):
    FilterExpression: Text | None = None
    ProjectionExpression: Text | None = None
    ExpressionAttributeNames: Names | None = None
    ExpressionAttributeValues: Document | None = None
    IndexName: Text | None = None
    Limit: int | None = Field(default=None, description="Items evaluated (before the filter) per page.")
    ExclusiveStartKey: Document | None = Field(
        default=None, description="The previous page's LastEvaluatedKey."
    )
    Select: Text | None = None
    ConsistentRead: bool | None = None


class QueryRequest(_Read):
    KeyConditionExpression: Text
    ScanIndexForward: bool | None = Field(default=None, description="false: descending sort key order.")


class ScanRequest(_Read):
    Segment: int | None = None
    TotalSegments: int | None = None


class KeysAndAttributes(RequestBody):
    Keys: list[Document]
    ProjectionExpression: Text | None = None
    ExpressionAttributeNames: Names | None = None
    ConsistentRead: bool | None = None


class BatchGetItem(RequestBody):
    """BatchGetItem: up to 100 keys in all."""

    RequestItems: dict[str, KeysAndAttributes]


class WritePut(RequestBody):
    Item: Document


class WriteDelete(RequestBody):
    Key: Document


class WriteRequest(RequestBody):
    """Exactly one of PutRequest, DeleteRequest."""

    PutRequest: WritePut | None = None
    DeleteRequest: WriteDelete | None = None


class BatchWriteItem(RequestBody):
    """BatchWriteItem: up to 25 puts and deletes in all, each table's all or nothing."""

    RequestItems: dict[str, list[WriteRequest]]


class _TransactAction(RequestBody):
    TableName: Text
    ConditionExpression: Text | None = None
    ExpressionAttributeNames: Names | None = None
    ExpressionAttributeValues: Document | None = None
    ReturnValuesOnConditionCheckFailure: Text | None = None


class TransactPut(_TransactAction):
    Item: Document


class TransactUpdate(_TransactAction):
    Key: Document
    UpdateExpression: Text


class TransactKeyed(_TransactAction):
    Key: Document


class TransactItem(RequestBody):
    """Exactly one of Put, Update, Delete, ConditionCheck."""

    Put: TransactPut | None = None
    Update: TransactUpdate | None = None
    Delete: TransactKeyed | None = None
    ConditionCheck: TransactKeyed | None = None


class TransactWriteItems(RequestBody):
    """TransactWriteItems: up to 100 actions, all or nothing."""

    TransactItems: list[TransactItem]
    ClientRequestToken: str | None = Field(
        default=None,
        min_length=1,
        max_length=36,
        description="The same request again within ten minutes is not applied again.",
    )


class TransactGet(RequestBody):
    TableName: Text
    Key: Document
    ProjectionExpression: Text | None = None
    ExpressionAttributeNames: Names | None = None


class TransactGetItem(RequestBody):
    Get: TransactGet


class TransactGetItems(RequestBody):
    """TransactGetItems: up to 100 gets, read at one point in time."""

    TransactItems: list[TransactGetItem]


# --- answers -------------------------------------------------------------------------------------
class TableAnswer(BaseModel):
    Table: dict[str, Any] = Field(description="DescribeTable's TableDescription.")


class TableDescriptionAnswer(BaseModel):
    TableDescription: dict[str, Any]


class TableNamesAnswer(BaseModel):
    TableNames: list[str]
    LastEvaluatedTableName: str | None = Field(
        default=None, description="When there may be more: pass it as exclusive_start_table_name."
    )


class TimeToLiveAnswer(BaseModel):
    TimeToLiveDescription: dict[str, Any] = Field(description="{TimeToLiveStatus, AttributeName?}")


class TimeToLiveUpdated(BaseModel):
    TimeToLiveSpecification: dict[str, Any]


class ItemAnswer(BaseModel):
    Item: Document | None = Field(default=None, description="Left out when there is no such item.")


class AttributesAnswer(BaseModel):
    Attributes: Document | None = Field(default=None, description="As ReturnValues asked.")


class ItemsPage(BaseModel):
    Items: list[Document] | None = Field(default=None, description="Left out with Select COUNT.")
    Count: int
    ScannedCount: int
    LastEvaluatedKey: Document | None = Field(
        default=None, description="Where the page stopped: the next page's ExclusiveStartKey."
    )


class BatchGetAnswer(BaseModel):
    Responses: dict[str, list[Document]]
    UnprocessedKeys: dict[str, Any]


class BatchWriteAnswer(BaseModel):
    UnprocessedItems: dict[str, Any]


class TransactAnswer(BaseModel):
    """An empty object: every action was applied."""


class TransactGetAnswer(BaseModel):
    Responses: list[ItemAnswer] = Field(
        description="One per Get, in order: {Item} or {} where there is no such item."
    )
