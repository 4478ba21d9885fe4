"""Primary and index keys of items: checked against the key schema and encoded for the store.

Key values are encoded with :func:`silo.tables.values.sort_key_text`, whose text compares (as bytes)
the way DynamoDB orders the values, so the store's ordered primary key is the table's sort order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from silo.tables.errors import ValidationException
from silo.tables.models import KeyAttr, KeySchema
from silo.tables.values import sort_key_text

NO_SORT_KEY = ""


def key_value(item: Mapping[str, Any], attr: KeyAttr, where: str) -> Any:
    """The item's value of a key attribute, checked: present, of the key's type, not empty."""
    value = item.get(attr.name)
    if value is None:
        raise ValidationException(
            f"One or more parameter values were invalid: Missing the key {attr.name} in the item", field=where
        )
    if not isinstance(value, Mapping) or list(value) != [attr.type]:
        got = next(iter(value)) if isinstance(value, Mapping) and value else type(value).__name__
        raise ValidationException(
            "One or more parameter values were invalid: Type mismatch for key "
            f"{attr.name} expected: {attr.type} actual: {got}",
            field=where,
        )
    if attr.type in ("S", "B") and value[attr.type] == "":
        raise ValidationException(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot "
            f"contain an empty string value. Key: {attr.name}",
            field=where,
        )
    return value


def encoded_key(item: Mapping[str, Any], keys: KeySchema, where: str) -> tuple[str, str]:
    """(partition, sort) encodings of an item's primary key."""
    pk = sort_key_text(dict(key_value(item, keys.partition, where)))
    if keys.sort is None:
        return pk, NO_SORT_KEY
    return pk, sort_key_text(dict(key_value(item, keys.sort, where)))


def check_key(key: Any, keys: KeySchema, where: str = "Key") -> tuple[str, str]:
    """A ``Key`` parameter: exactly the key attributes, nothing else; returns its encoding."""
    if not isinstance(key, Mapping):
        raise ValidationException(f"{where}: an object of the key attributes", field=where)
    extra = sorted(set(key) - set(keys.names))
    if extra or len(key) != len(keys.names):
        raise ValidationException(
            "The provided key element does not match the schema", field=where, expected=list(keys.names)
        )
    return encoded_key(key, keys, where)


def key_of(item: Mapping[str, Any], keys: KeySchema) -> dict[str, Any]:
    """The key attributes of a stored item."""
    return {name: item[name] for name in keys.names}


def index_key(item: Mapping[str, Any], index_keys: KeySchema) -> tuple[str, str] | None:
    """The item's key in a global secondary index; ``None`` when the item lacks it (sparse index)
    or has a value of another type there (DynamoDB refuses such writes; see ``check_index_types``)."""
    values = []
    for attr in (index_keys.partition, index_keys.sort):
        if attr is None:
            values.append(NO_SORT_KEY)
            continue
        value = item.get(attr.name)
        if not isinstance(value, Mapping) or list(value) != [attr.type]:
            return None
        values.append(sort_key_text(dict(value)))
    return values[0], values[1]


def check_index_types(item: Mapping[str, Any], index_keys: KeySchema, index: str, where: str) -> None:
    """An index key attribute present with the wrong type is refused, as DynamoDB does."""
    for attr in (index_keys.partition, index_keys.sort):
        if attr is None or attr.name not in item:
            continue
        value = item[attr.name]
        if not isinstance(value, Mapping) or list(value) != [attr.type]:
            got = next(iter(value)) if isinstance(value, Mapping) and value else "?"
            raise ValidationException(
                "One or more parameter values were invalid: Type mismatch for Index Key "
                f"{attr.name} Expected: {attr.type} Actual: {got} IndexName: {index}",
                field=where,
            )
        if attr.type in ("S", "B") and value[attr.type] == "":
            raise ValidationException(
                "One or more parameter values are not valid. A value specified for a secondary index key "
                f"is not supported. The AttributeValue for a key attribute cannot contain an empty string "
                f"value. IndexName: {index}, IndexKey: {attr.name}",
                field=where,
            )
