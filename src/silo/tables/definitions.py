"""``CreateTable`` requests (DynamoDB's shape), checked into the service's model."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from silo.tables.errors import ValidationException
from silo.tables.models import (
    KEY_TYPES,
    MAX_INDEXES,
    PROJECTIONS,
    STREAM_VIEWS,
    IndexSpec,
    KeyAttr,
    KeySchema,
    StreamSpec,
    check_table_name,
)

_KNOWN = {
    "TableName",
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "StreamSpecification",
    "TimeToLiveSpecification",
    "BillingMode",
    "ProvisionedThroughput",
    "Tags",
}


@dataclass(frozen=True, slots=True)
class TableDefinition:
    name: str
    keys: KeySchema
    indexes: tuple[IndexSpec, ...]
    stream: StreamSpec | None
    ttl_attribute: str | None


def parse_create_table(request: Mapping[str, Any]) -> TableDefinition:
    if not isinstance(request, Mapping):
        raise ValidationException("the request must be an object")
    unknown = sorted(set(request) - _KNOWN)
    if unknown:
        raise ValidationException(f"{unknown[0]}: not a CreateTable parameter", field=unknown[0])
    name = check_table_name(request.get("TableName"))
    types = _attribute_types(request.get("AttributeDefinitions"))
    keys = _key_schema(request.get("KeySchema"), types, "KeySchema")
    used = set(keys.names)
    indexes: list[IndexSpec] = []
    raw_indexes = request.get("GlobalSecondaryIndexes") or []
    if not isinstance(raw_indexes, list) or len(raw_indexes) > MAX_INDEXES:
        raise ValidationException(
            f"GlobalSecondaryIndexes: a list of at most {MAX_INDEXES} indexes", field="GlobalSecondaryIndexes"
        )
    for i, raw in enumerate(raw_indexes):
        index = _index(raw, types, f"GlobalSecondaryIndexes[{i}]")
        if index.name in {x.name for x in indexes}:
            raise ValidationException(f"Duplicate index name: {index.name}", field="GlobalSecondaryIndexes")
        indexes.append(index)
        used |= set(index.keys.names)
    unused = sorted(set(types) - used)
    if unused:
        raise ValidationException(
            "One or more parameter values were invalid: Some AttributeDefinitions are not used. "
            f"AttributeDefinitions: [{', '.join(sorted(types))}], keys used: [{', '.join(sorted(used))}]",
            field="AttributeDefinitions",
        )
    return TableDefinition(
        name,
        keys,
        tuple(indexes),
        _stream(request.get("StreamSpecification")),
        _ttl(request.get("TimeToLiveSpecification")),
    )


def _attribute_types(value: Any) -> dict[str, str]:
    if not isinstance(value, list) or not value:
        raise ValidationException("AttributeDefinitions: a non-empty list", field="AttributeDefinitions")
    types: dict[str, str] = {}
    for i, entry in enumerate(value):
        where = f"AttributeDefinitions[{i}]"
        if not isinstance(entry, Mapping):
            raise ValidationException(f"{where}: an object", field=where)
        name, kind = entry.get("AttributeName"), entry.get("AttributeType")
        if not isinstance(name, str) or not 1 <= len(name) <= 255:
            raise ValidationException(f"{where}.AttributeName: 1-255 characters", field=where)
        if kind not in KEY_TYPES:
            raise ValidationException(
                f"{where}.AttributeType: one of S, N, B (key attributes are scalars); got {kind!r}",
                field=where,
            )
        if name in types:
            raise ValidationException(f"{where}: {name} is defined twice", field=where)
        types[name] = kind
    return types


def _key_schema(value: Any, types: Mapping[str, str], where: str) -> KeySchema:
    if not isinstance(value, list) or not 1 <= len(value) <= 2:
        raise ValidationException(f"{where}: one HASH key and at most one RANGE key", field=where)
    found: dict[str, str] = {}
    for i, entry in enumerate(value):
        at = f"{where}[{i}]"
        if not isinstance(entry, Mapping) or entry.get("KeyType") not in ("HASH", "RANGE"):
            raise ValidationException(f"{at}.KeyType: HASH or RANGE", field=at)
        name = entry.get("AttributeName")
        if name not in types:
            raise ValidationException(f"{at}: {name!r} is not in AttributeDefinitions", field=at)
        if entry["KeyType"] in found:
            raise ValidationException(f"{where}: more than one {entry['KeyType']} key", field=where)
        found[entry["KeyType"]] = str(name)
    if "HASH" not in found:
        raise ValidationException(f"{where}: a HASH (partition) key is required", field=where)
    if value[0].get("KeyType") != "HASH":
        raise ValidationException(f"{where}: the HASH key comes first", field=where)
    sort = found.get("RANGE")
    return KeySchema(
        KeyAttr(found["HASH"], types[found["HASH"]]), None if sort is None else KeyAttr(sort, types[sort])
    )


def _index(raw: Any, types: Mapping[str, str], where: str) -> IndexSpec:
    if not isinstance(raw, Mapping):
        raise ValidationException(f"{where}: an object", field=where)
    name = check_table_name(raw.get("IndexName"), f"{where}.IndexName")
    keys = _key_schema(raw.get("KeySchema"), types, f"{where}.KeySchema")
    projection = raw.get("Projection") or {"ProjectionType": "ALL"}
    kind = projection.get("ProjectionType", "ALL") if isinstance(projection, Mapping) else None
    if kind not in PROJECTIONS:
        raise ValidationException(
            f"{where}.Projection.ProjectionType: one of ALL, KEYS_ONLY, INCLUDE", field=where
        )
    non_key = projection.get("NonKeyAttributes") or []
    if kind == "INCLUDE" and (not isinstance(non_key, list) or not non_key):
        raise ValidationException(f"{where}.Projection.NonKeyAttributes: needed with INCLUDE", field=where)
    if kind != "INCLUDE" and non_key:
        raise ValidationException(f"{where}.Projection.NonKeyAttributes: only with INCLUDE", field=where)
    return IndexSpec(name, keys, kind, tuple(str(a) for a in non_key))


def _stream(value: Any) -> StreamSpec | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValidationException("StreamSpecification: an object", field="StreamSpecification")
    if not value.get("StreamEnabled", False):
        return None
    view = value.get("StreamViewType")
    if view not in STREAM_VIEWS:
        raise ValidationException(
            f"StreamSpecification.StreamViewType: one of {', '.join(STREAM_VIEWS)}",
            field="StreamSpecification",
        )
    return StreamSpec(view)


def _ttl(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValidationException("TimeToLiveSpecification: an object", field="TimeToLiveSpecification")
    if not value.get("Enabled", False):
        return None
    name = value.get("AttributeName")
    if not isinstance(name, str) or not 1 <= len(name) <= 255:
        raise ValidationException(
            "TimeToLiveSpecification.AttributeName: 1-255 characters", field="TimeToLiveSpecification"
        )
    return name
