"""Tables: ``AWS::Serverless::SimpleTable`` and ``AWS::DynamoDB::Table``, normalised to one shape.

Only structural checks: key schemas, attribute definitions (every key attribute defined, every
defined attribute used, as DynamoDB requires), indexes, TTL and streams.
"""

from __future__ import annotations

from typing import Any

from silo.templates import _names
from silo.templates._checks import check_keys, join, mapping, one_of, sequence, tag_list, tag_map, text
from silo.templates._resources import Built, resource_type
from silo.templates._scope import Scope
from silo.templates.model import TemplateError

_SCALAR_TYPES = {"String": "S", "Number": "N", "Binary": "B"}


def _table_arn(name: str) -> _names.Arn:
    return _names.Arn("dynamodb", f"table/{name}")


def _simple_table(logical_id: str, props: dict[str, Any], scope: Scope, path: str) -> Built:
    name = _names.physical_name(props, "TableName", scope.stack, logical_id, _names.TABLE_NAME, path)
    key = mapping(props.get("PrimaryKey", {"Name": "id", "Type": "String"}), join(path, "PrimaryKey"))
    check_keys(key, ("Name", "Type"), join(path, "PrimaryKey"))
    key_name = text(key.get("Name"), join(path, "PrimaryKey.Name"))
    key_type = one_of(key.get("Type"), _SCALAR_TYPES, join(path, "PrimaryKey.Type"))
    properties = {
        "name": name,
        "key_schema": [{"AttributeName": key_name, "KeyType": "HASH"}],
        "attributes": [{"AttributeName": key_name, "AttributeType": _SCALAR_TYPES[key_type]}],
        "billing_mode": "PROVISIONED" if "ProvisionedThroughput" in props else "PAY_PER_REQUEST",
        "global_secondary_indexes": [],
        "local_secondary_indexes": [],
        "ttl_attribute": None,
        "stream_view_type": None,
        "tags": tag_map(props.get("Tags", {}), join(path, "Tags")),
    }
    return Built(name, _table_arn(name), properties)


def _key_schema(value: object, path: str) -> list[dict[str, str]]:
    schema = sequence(value, path)
    if len(schema) not in (1, 2):
        raise TemplateError(path, f"expected a HASH key and an optional RANGE key, got {len(schema)} entries")
    types = ("HASH", "RANGE")[: len(schema)]
    out = []
    for index, (item, key_type) in enumerate(zip(schema, types, strict=True)):
        entry = mapping(item, f"{path}[{index}]")
        check_keys(entry, ("AttributeName", "KeyType"), f"{path}[{index}]")
        one_of(entry.get("KeyType"), (key_type,), f"{path}[{index}].KeyType")
        out.append(
            {
                "AttributeName": text(entry.get("AttributeName"), f"{path}[{index}].AttributeName"),
                "KeyType": key_type,
            }
        )
    return out


def _indexes(value: object, local: bool, path: str) -> list[dict[str, Any]]:
    out = []
    keys = ("IndexName", "KeySchema", "Projection") + (() if local else ("ProvisionedThroughput",))
    for index, item in enumerate(sequence(value, path)):
        where = f"{path}[{index}]"
        entry = mapping(item, where)
        check_keys(entry, keys, where)
        projection = mapping(entry.get("Projection", {}), join(where, "Projection"))
        check_keys(projection, ("ProjectionType", "NonKeyAttributes"), join(where, "Projection"))
        one_of(
            projection.get("ProjectionType", "ALL"),
            ("ALL", "KEYS_ONLY", "INCLUDE"),
            join(where, "Projection.ProjectionType"),
        )
        out.append(
            {
                "IndexName": text(entry.get("IndexName"), join(where, "IndexName")),
                "KeySchema": _key_schema(entry.get("KeySchema"), join(where, "KeySchema")),
                "Projection": projection,
            }
        )
    return out


def _table(logical_id: str, props: dict[str, Any], scope: Scope, path: str) -> Built:
    name = _names.physical_name(props, "TableName", scope.stack, logical_id, _names.TABLE_NAME, path)
    key_schema = _key_schema(props.get("KeySchema"), join(path, "KeySchema"))
    attributes: list[dict[str, str]] = []
    defined: dict[str, str] = {}
    where = join(path, "AttributeDefinitions")
    for index, item in enumerate(sequence(props.get("AttributeDefinitions"), where)):
        entry = mapping(item, f"{where}[{index}]")
        check_keys(entry, ("AttributeName", "AttributeType"), f"{where}[{index}]")
        attribute = text(entry.get("AttributeName"), f"{where}[{index}].AttributeName")
        if attribute in defined:
            raise TemplateError(f"{where}[{index}]", f"attribute {attribute!r} is defined twice")
        defined[attribute] = one_of(
            entry.get("AttributeType"), ("S", "N", "B"), f"{where}[{index}].AttributeType"
        )
        attributes.append({"AttributeName": attribute, "AttributeType": defined[attribute]})
    global_indexes = _indexes(
        props.get("GlobalSecondaryIndexes", []), False, join(path, "GlobalSecondaryIndexes")
    )
    local_indexes = _indexes(
        props.get("LocalSecondaryIndexes", []), True, join(path, "LocalSecondaryIndexes")
    )
    used = {key["AttributeName"] for key in key_schema}
    for secondary in (*global_indexes, *local_indexes):
        used.update(key["AttributeName"] for key in secondary["KeySchema"])
    undefined, unused = sorted(used - defined.keys()), sorted(defined.keys() - used)
    if undefined:
        raise TemplateError(where, f"key attribute {undefined[0]!r} is not in AttributeDefinitions")
    if unused:
        raise TemplateError(
            where, f"attribute {unused[0]!r} is not used by any key schema (DynamoDB refuses it)"
        )
    ttl = None
    if "TimeToLiveSpecification" in props:
        spec = mapping(props["TimeToLiveSpecification"], join(path, "TimeToLiveSpecification"))
        check_keys(spec, ("AttributeName", "Enabled"), join(path, "TimeToLiveSpecification"))
        if str(spec.get("Enabled", False)).lower() == "true":
            ttl = text(spec.get("AttributeName"), join(path, "TimeToLiveSpecification.AttributeName"))
    stream = None
    arn_attributes: tuple[tuple[str, str], ...] = ()
    if "StreamSpecification" in props:
        spec = mapping(props["StreamSpecification"], join(path, "StreamSpecification"))
        check_keys(spec, ("StreamViewType",), join(path, "StreamSpecification"))
        views = ("NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY")
        stream = one_of(spec.get("StreamViewType"), views, join(path, "StreamSpecification.StreamViewType"))
        # AWS labels a stream with its creation time; a fixed label keeps the ARN deterministic.
        arn_attributes = (("StreamArn", "/stream/1970-01-01T00:00:00.000"),)
    properties = {
        "name": name,
        "key_schema": key_schema,
        "attributes": attributes,
        "billing_mode": one_of(
            props.get("BillingMode", "PROVISIONED"),
            ("PROVISIONED", "PAY_PER_REQUEST"),
            join(path, "BillingMode"),
        ),
        "global_secondary_indexes": global_indexes,
        "local_secondary_indexes": local_indexes,
        "ttl_attribute": ttl,
        "stream_view_type": stream,
        "tags": tag_list(props.get("Tags", []), join(path, "Tags")),
    }
    return Built(name, _table_arn(name), properties, arn_attributes)


TABLE_TYPES = (
    resource_type(
        "AWS::Serverless::SimpleTable",
        "table",
        "PrimaryKey TableName Tags ProvisionedThroughput",
        "SSESpecification PointInTimeRecoverySpecification",
        ("Arn",),
        _simple_table,
    ),
    resource_type(
        "AWS::DynamoDB::Table",
        "table",
        "TableName KeySchema AttributeDefinitions BillingMode GlobalSecondaryIndexes LocalSecondaryIndexes "
        "TimeToLiveSpecification StreamSpecification Tags ProvisionedThroughput",
        "SSESpecification PointInTimeRecoverySpecification DeletionProtectionEnabled TableClass "
        "ContributorInsightsSpecification",
        ("Arn", "StreamArn"),
        _table,
    ),
)
