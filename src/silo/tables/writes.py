"""One transaction's item changes on one account's tables: items, index entries, stream records.

Writers read the items they change first (locked on PostgreSQL; SQLite has one writer), so the
old image is at hand for conditions, ``ReturnValues``, index maintenance and stream records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from silo.store.ids import new_id
from silo.tables.errors import ValidationException
from silo.tables.keys import check_index_types, index_key, key_of
from silo.tables.models import REGION, TableInfo
from silo.tables.repository import TablesRepository
from silo.tables.values import item_size

MAX_ITEM_BYTES = 400 * 1024


def expires_at(item: Mapping[str, Any], ttl_attribute: str | None) -> int | None:
    """The item's TTL as epoch seconds (a number attribute; anything else never expires)."""
    if ttl_attribute is None:
        return None
    value = item.get(ttl_attribute)
    if not isinstance(value, Mapping) or "N" not in value:
        return None
    try:
        return int(Decimal(value["N"]))
    except (InvalidOperation, ValueError, OverflowError):
        return None


def check_size(item: Mapping[str, Any], where: str = "Item") -> int:
    size = item_size(item)
    if size > MAX_ITEM_BYTES:
        raise ValidationException("Item size has exceeded the maximum allowed size", field=where, size=size)
    return size


@dataclass
class TableChanges:
    """The changes to one table in one transaction, written by :meth:`flush`."""

    conn: sa.Connection
    repo: TablesRepository
    table: TableInfo
    now: datetime
    old: dict[tuple[str, str], Any] = field(default_factory=dict)  # as readers see it (None: absent)
    stored: dict[tuple[str, str], Any] = field(default_factory=dict)  # also expired, not swept yet
    new: dict[tuple[str, str], Any] = field(default_factory=dict)  # None: deleted
    sizes: dict[tuple[str, str], int] = field(default_factory=dict)

    def load(self, keys: list[tuple[str, str]]) -> None:
        """Read (and lock) the current items of these keys."""
        missing = [k for k in keys if k not in self.old]
        if missing:
            found = self.repo.get_items(self.conn, self.table.name, missing, lock=True)
            for key in missing:
                self.stored[key] = found.get(key)
                self.old[key] = _alive(found.get(key), self.table.ttl_attribute, self.now)

    def current(self, key: tuple[str, str]) -> Any:
        if key in self.new:
            return self.new[key]
        self.load([key])
        return self.old[key]

    def put(self, key: tuple[str, str], item: Mapping[str, Any], where: str = "Item") -> None:
        self.sizes[key] = check_size(item, where)
        for index in self.table.indexes:
            check_index_types(item, index.keys, index.name, where)
        self.new[key] = dict(item)

    def delete(self, key: tuple[str, str]) -> None:
        self.new[key] = None

    def flush(self, *, removed_by_ttl: bool = False) -> None:
        if not self.new:
            return
        # old items matter for index entries and stream records; a plain table writes blind
        follows = bool(self.table.indexes) or (
            self.table.stream is not None and self.table.stream.function is not None
        )
        name = self.table.name
        if follows:
            self.load(list(self.new))
            changed = [k for k in self.new if not (self.new[k] is None and self.stored[k] is None)]
        else:
            changed = list(self.new)
        self.repo.delete_items(self.conn, name, [k for k in changed if self.new[k] is None])
        self.repo.put_items(
            self.conn,
            name,
            [
                {
                    "pk": k[0],
                    "sk": k[1],
                    "item": self.new[k],
                    "size": self.sizes[k],
                    "expires_at": expires_at(self.new[k], self.table.ttl_attribute),
                }
                for k in changed
                if self.new[k] is not None
            ],
        )
        if not follows:
            return
        self._indexes(changed)
        self._stream(
            [k for k in changed if not (self.new[k] is None and self.old[k] is None)],
            removed_by_ttl=removed_by_ttl,
        )

    def _indexes(self, changed: list[tuple[str, str]]) -> None:
        if not self.table.indexes:
            return
        gone: list[tuple[str, str, str, str, str]] = []
        added: list[dict[str, Any]] = []
        for pk, sk in changed:
            before, after = self.stored[(pk, sk)], self.new[(pk, sk)]
            for index in self.table.indexes:
                old_key = index_key(before, index.keys) if before is not None else None
                new_key = index_key(after, index.keys) if after is not None else None
                if old_key == new_key:
                    continue
                if old_key is not None:
                    gone.append((index.name, old_key[0], old_key[1], pk, sk))
                if new_key is not None:
                    added.append(
                        {"index_name": index.name, "ipk": new_key[0], "isk": new_key[1], "pk": pk, "sk": sk}
                    )
        self.repo.delete_index_entries(self.conn, self.table.name, gone)
        self.repo.put_index_entries(self.conn, self.table.name, added)

    def _stream(self, changed: list[tuple[str, str]], *, removed_by_ttl: bool = False) -> None:
        stream = self.table.stream
        if stream is None or stream.function is None or not changed:
            return  # the function is the stream's only reader: without one, nothing is kept
        first = self.repo.next_stream_seq(self.conn, self.table.name, len(changed))
        rows = []
        for offset, key in enumerate(changed):
            before, after = self.old[key], self.new[key]
            image = after if after is not None else before
            event = "INSERT" if before is None else ("REMOVE" if after is None else "MODIFY")
            seq = first + offset
            change: dict[str, Any] = {
                "ApproximateCreationDateTime": int(self.now.timestamp()),
                "Keys": key_of(image, self.table.keys),
                "SequenceNumber": f"{seq:021d}",
                "SizeBytes": item_size(image),
                "StreamViewType": stream.view_type,
            }
            if stream.view_type in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES") and after is not None:
                change["NewImage"] = after
            if stream.view_type in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES") and before is not None:
                change["OldImage"] = before
            record: dict[str, Any] = {
                "eventID": new_id(),
                "eventName": event,
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": REGION,
                "dynamodb": change,
                "eventSourceARN": f"{self.table.arn}/stream",
            }
            if removed_by_ttl:
                record["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
            rows.append(
                {
                    "seq": seq,
                    "pk": key[0],
                    "record": record,
                    "attempts": 0,
                    "due_at": self.now,
                    "created_at": self.now,
                }
            )
        self.repo.add_stream_records(self.conn, self.table.name, rows)


def is_expired(item: Mapping[str, Any], ttl_attribute: str | None, now: datetime) -> bool:
    """Whether the item's TTL has passed: readers and writers see it as gone at once (the sweep
    deletes it soon)."""
    at = expires_at(item, ttl_attribute)
    return at is not None and at <= now.timestamp()


def _alive(item: Any, ttl_attribute: str | None, now: datetime) -> Any:
    return None if item is None or is_expired(item, ttl_attribute, now) else item
