"""Table definitions as the service keeps them, and their DynamoDB-shaped descriptions."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from silo.tables.errors import ValidationException

REGION = "local"
KEY_TYPES = ("S", "N", "B")
PROJECTIONS = ("ALL", "KEYS_ONLY", "INCLUDE")
STREAM_VIEWS = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")
MAX_INDEXES = 20
_TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")


@dataclass(frozen=True, slots=True)
class KeyAttr:
    name: str
    type: str


@dataclass(frozen=True, slots=True)
class KeySchema:
    partition: KeyAttr
    sort: KeyAttr | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return (self.partition.name,) if self.sort is None else (self.partition.name, self.sort.name)

    def as_json(self) -> dict[str, Any]:
        return {
            "partition": [self.partition.name, self.partition.type],
            "sort": None if self.sort is None else [self.sort.name, self.sort.type],
        }

    @classmethod
    def of_json(cls, data: Mapping[str, Any]) -> KeySchema:
        sort = data.get("sort")
        return cls(KeyAttr(*data["partition"]), None if sort is None else KeyAttr(*sort))

    def dynamodb(self) -> list[dict[str, str]]:
        keys = [{"AttributeName": self.partition.name, "KeyType": "HASH"}]
        if self.sort is not None:
            keys.append({"AttributeName": self.sort.name, "KeyType": "RANGE"})
        return keys


@dataclass(frozen=True, slots=True)
class IndexSpec:
    """A global secondary index: its own keys, and which attributes it projects."""

    name: str
    keys: KeySchema
    projection: str = "ALL"
    non_key: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "keys": self.keys.as_json(),
            "projection": self.projection,
            "non_key": list(self.non_key),
        }

    @classmethod
    def of_json(cls, data: Mapping[str, Any]) -> IndexSpec:
        return cls(data["name"], KeySchema.of_json(data["keys"]), data["projection"], tuple(data["non_key"]))


@dataclass(frozen=True, slots=True)
class StreamSpec:
    view_type: str
    function: str | None = None  # the function that receives the change records, if any
    batch_size: int = 100
    max_attempts: int = 3


@dataclass(frozen=True, slots=True)
class TableInfo:
    account_id: str
    name: str
    keys: KeySchema
    indexes: tuple[IndexSpec, ...]
    ttl_attribute: str | None
    stream: StreamSpec | None
    managed_by: str | None
    created_at: datetime

    @property
    def arn(self) -> str:
        return f"arn:silo:dynamodb:{REGION}:{self.account_id}:table/{self.name}"

    def index(self, name: str) -> IndexSpec:
        for index in self.indexes:
            if index.name == name:
                return index
        raise ValidationException(f"The table does not have the specified index: {name}", field="IndexName")

    def describe(self, item_count: int, size_bytes: int) -> dict[str, Any]:
        """``DescribeTable``'s ``Table``."""
        attributes = {self.keys.partition.name: self.keys.partition.type}
        if self.keys.sort is not None:
            attributes[self.keys.sort.name] = self.keys.sort.type
        for index in self.indexes:
            for key in (index.keys.partition, index.keys.sort):
                if key is not None:
                    attributes[key.name] = key.type
        body: dict[str, Any] = {
            "TableName": self.name,
            "TableArn": self.arn,
            "TableStatus": "ACTIVE",
            "KeySchema": self.keys.dynamodb(),
            "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t in attributes.items()],
            "CreationDateTime": self.created_at.isoformat(),
            "ItemCount": item_count,
            "TableSizeBytes": size_bytes,
            "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
        }
        if self.indexes:
            body["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": i.name,
                    "KeySchema": i.keys.dynamodb(),
                    "Projection": _projection(i),
                    "IndexStatus": "ACTIVE",
                    "IndexArn": f"{self.arn}/index/{i.name}",
                }
                for i in self.indexes
            ]
        if self.stream is not None:
            body["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": self.stream.view_type}
            if self.stream.function is not None:  # Silo's: where the records go (an event source mapping)
                body["StreamSpecification"] |= {
                    "FunctionName": self.stream.function,
                    "BatchSize": self.stream.batch_size,
                    "MaximumRetryAttempts": self.stream.max_attempts,
                }
            body["LatestStreamArn"] = f"{self.arn}/stream/{self.created_at.strftime('%Y-%m-%dT%H:%M:%S.000')}"
        if self.managed_by is not None:
            body["ManagedBy"] = self.managed_by
        return body


def _projection(index: IndexSpec) -> dict[str, Any]:
    body: dict[str, Any] = {"ProjectionType": index.projection}
    if index.non_key:
        body["NonKeyAttributes"] = list(index.non_key)
    return body


def check_table_name(value: object, where: str = "TableName") -> str:
    if not isinstance(value, str) or not _TABLE_NAME.match(value):
        raise ValidationException(
            f"{where}: 3-255 characters of letters, digits, '_', '-' or '.'; got {value!r}", field=where
        )
    return value
