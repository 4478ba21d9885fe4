"""``Tables``: one account's key-value tables and their items, reached through its handle.

Requests and answers have DynamoDB's shapes (``PutItem``: ``TableName``, ``Item``,
``ConditionExpression``, ...), with attribute values in DynamoDB's typed JSON; the API and the SDK
convert plain JSON documents at their edge.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from silo.accounts import AccountContext, AccountGuard
from silo.store import utcnow
from silo.tables import reads
from silo.tables.definitions import parse_create_table
from silo.tables.errors import ConditionalCheckFailed, ResourceNotFound, ValidationException
from silo.tables.expressions import (
    ExpressionContext,
    parse_condition,
    parse_projection,
    parse_update,
    project,
)
from silo.tables.keys import check_key, encoded_key
from silo.tables.models import STREAM_VIEWS, StreamSpec, TableInfo, check_table_name
from silo.tables.repository import TablesRepository, stream_json
from silo.tables.tokens import TransactionTokens, digest_of, token_of
from silo.tables.transactions import Transaction, parse_gets
from silo.tables.values import check_item
from silo.tables.writes import TableChanges, expires_at, is_expired

if TYPE_CHECKING:
    from silo.tables.engine import TablesEngine

RETURN_VALUES = ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW")
MAX_BATCH_WRITE = 25
MAX_BATCH_GET = 100


class Tables:
    def __init__(self, guard: AccountGuard, engine: TablesEngine) -> None:
        self._guard = guard
        self._engine = engine
        self._repo = TablesRepository(guard.context)
        self._tokens = TransactionTokens(guard.context)

    @property
    def context(self) -> AccountContext:
        return self._guard.context

    # --- tables ---------------------------------------------------------------------------------
    def create_table(self, request: Mapping[str, Any], *, managed_by: str | None = None) -> dict[str, Any]:
        definition = parse_create_table(request)
        self._guard.authorize("dynamodb:CreateTable", {"TableName": definition.name})
        with self._engine.store.write() as conn:
            table = self._repo.insert_table(conn, definition, managed_by)
        self._changed(definition.name)
        return {"TableDescription": table.describe(0, 0)}

    def describe_table(self, name: str) -> dict[str, Any]:
        name = check_table_name(name)
        self._guard.authorize("dynamodb:DescribeTable", {"TableName": name}, write=False)
        with self._engine.store.read() as conn:
            table = self._repo.get_table(conn, name)
            return {"Table": table.describe(*self._repo.stats(conn, name))}

    def list_tables(self, *, limit: int = 100, exclusive_start: str | None = None) -> dict[str, Any]:
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 100:
            raise ValidationException("Limit: from 1 to 100", field="Limit")
        self._guard.authorize("dynamodb:ListTables", write=False)
        with self._engine.store.read() as conn:
            names = self._repo.list_tables(conn, limit + 1, exclusive_start)
        body: dict[str, Any] = {"TableNames": names[:limit]}
        if len(names) > limit:
            body["LastEvaluatedTableName"] = names[limit - 1]
        return body

    def delete_table(self, name: str, *, managed_by: str | None = None) -> dict[str, Any]:
        name = check_table_name(name)
        self._guard.authorize("dynamodb:DeleteTable", {"TableName": name})
        with self._engine.store.write() as conn:
            table = self._repo.get_table(conn, name)
            if table.managed_by is not None and table.managed_by != managed_by:
                raise ValidationException(
                    f"Table {name} belongs to stack {table.managed_by}; delete it with the stack",
                    field="TableName",
                )
            described = table.describe(*self._repo.stats(conn, name))
            self._repo.delete_table(conn, name)
        self._changed(name)
        return {"TableDescription": described | {"TableStatus": "DELETING"}}

    def update_time_to_live(self, name: str, specification: Mapping[str, Any]) -> dict[str, Any]:
        name = check_table_name(name)
        if not isinstance(specification, Mapping) or not isinstance(specification.get("Enabled"), bool):
            raise ValidationException(
                "TimeToLiveSpecification: {Enabled, AttributeName}", field="TimeToLiveSpecification"
            )
        attribute = specification.get("AttributeName")
        if not isinstance(attribute, str) or not 1 <= len(attribute) <= 255:
            raise ValidationException(
                "TimeToLiveSpecification.AttributeName: 1-255 characters", field="AttributeName"
            )
        self._guard.authorize("dynamodb:UpdateTimeToLive", {"TableName": name})
        with self._engine.store.write() as conn:
            _not_a_stacks(self._repo.get_table(conn, name))
            ttl = attribute if specification["Enabled"] else None
            self._repo.update_table(conn, name, ttl_attribute=ttl)
            self._repo.reset_expiry(conn, name, lambda item: expires_at(item, ttl))  # items written before
            self._engine.ttl_changed(conn)
        self._changed(name)
        return {"TimeToLiveSpecification": {"Enabled": specification["Enabled"], "AttributeName": attribute}}

    def describe_time_to_live(self, name: str) -> dict[str, Any]:
        table = self._table_for_read(name, "dynamodb:DescribeTimeToLive")
        if table.ttl_attribute is None:
            return {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}
        return {
            "TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": table.ttl_attribute}
        }

    def set_stream(
        self,
        name: str,
        view_type: str | None,
        *,
        function: str | None = None,
        batch_size: int = 100,
        max_attempts: int = 3,
    ) -> dict[str, Any]:
        """Turn the table's stream on (``view_type``) with the function its records go to, or off."""
        name = check_table_name(name)
        if view_type is not None and view_type not in STREAM_VIEWS:
            raise ValidationException(
                f"StreamViewType: one of {', '.join(STREAM_VIEWS)}", field="StreamViewType"
            )
        if not isinstance(batch_size, int) or not 1 <= batch_size <= 1000:
            raise ValidationException("BatchSize: from 1 to 1000", field="BatchSize")
        if not isinstance(max_attempts, int) or not 1 <= max_attempts <= 10:
            raise ValidationException("MaximumRetryAttempts: from 1 to 10", field="MaximumRetryAttempts")
        self._guard.authorize("dynamodb:UpdateTable", {"TableName": name})
        spec = None if view_type is None else StreamSpec(view_type, function, batch_size, max_attempts)
        if function is not None:
            self._engine.check_function(self.context.account_id, function)
        with self._engine.store.write() as conn:
            _not_a_stacks(self._repo.get_table(conn, name))
            self._repo.update_table(conn, name, stream=stream_json(spec))
            self._engine.stream_changed(conn)
        self._changed(name)
        return self.describe_table(name)

    def storage_bytes(self) -> int:
        """Bytes of all items of all tables of the account (DynamoDB's item sizes)."""
        self._guard.authorize("dynamodb:DescribeLimits", write=False)
        with self._engine.store.read() as conn:
            return self._repo.storage_bytes(conn)

    # --- single items ---------------------------------------------------------------------------
    def get_item(self, request: Mapping[str, Any]) -> dict[str, Any]:
        name = _name(request)
        table = self._table_for_read(name, "dynamodb:GetItem")
        ctx = reads.context_of(request)
        projection = _projection(request, ctx)
        reads.check_unused(ctx)
        pk, sk = check_key(request.get("Key"), table.keys)
        with self._engine.store.read() as conn:
            item = self._repo.get_item(conn, name, pk, sk)
        if item is None or _expired(item, table):
            return {}
        return {"Item": item if projection is None else projection(item)}

    def put_item(self, request: Mapping[str, Any]) -> dict[str, Any]:
        name = _name(request)
        item = check_item(request.get("Item"), "Item")
        returns = _returns(request, ("NONE", "ALL_OLD"))
        ctx = reads.context_of(request)
        condition = _condition(request, ctx)
        reads.check_unused(ctx)
        self._guard.authorize("dynamodb:PutItem", {"TableName": name})
        with self._engine.store.write() as conn:
            changes = self._changes(conn, name)
            key = encoded_key(item, changes.table.keys, "Item")
            old = changes.current(key)
            _check(condition, old, request)
            changes.put(key, item)
            changes.flush()
            self._engine.written(conn, changes)
        return {"Attributes": old} if returns == "ALL_OLD" and old is not None else {}

    def delete_item(self, request: Mapping[str, Any]) -> dict[str, Any]:
        name = _name(request)
        returns = _returns(request, ("NONE", "ALL_OLD"))
        ctx = reads.context_of(request)
        condition = _condition(request, ctx)
        reads.check_unused(ctx)
        self._guard.authorize("dynamodb:DeleteItem", {"TableName": name})
        with self._engine.store.write() as conn:
            changes = self._changes(conn, name)
            key = check_key(request.get("Key"), changes.table.keys)
            old = changes.current(key)
            _check(condition, old, request)
            changes.delete(key)
            changes.flush()
            self._engine.written(conn, changes)
        return {"Attributes": old} if returns == "ALL_OLD" and old is not None else {}

    def update_item(self, request: Mapping[str, Any]) -> dict[str, Any]:
        name = _name(request)
        returns = _returns(request, RETURN_VALUES)
        ctx = reads.context_of(request)
        text = request.get("UpdateExpression")
        update = None if text is None else parse_update(reads.expression_text(text, "UpdateExpression"), ctx)
        condition = _condition(request, ctx)
        reads.check_unused(ctx)
        self._guard.authorize("dynamodb:UpdateItem", {"TableName": name})
        with self._engine.store.write() as conn:
            changes = self._changes(conn, name)
            table = changes.table
            key_attributes = request.get("Key")
            key = check_key(key_attributes, table.keys)
            if update is not None:
                touched = set(update.paths()) & set(table.keys.names)
                if touched:
                    attribute = sorted(touched)[0]
                    raise ValidationException(
                        f"One or more parameter values were invalid: Cannot update attribute {attribute}. "
                        "This attribute is part of the key",
                        field="UpdateExpression",
                    )
            old = changes.current(key)
            _check(condition, old, request)
            base = dict(old) if old is not None else dict(key_attributes or {})
            new = update.apply(base) if update is not None else base
            changes.put(key, new)
            changes.flush()
            self._engine.written(conn, changes)
        return _updated(returns, old, new, update.document_paths() if update is not None else ())

    # --- many items -----------------------------------------------------------------------------
    def query(self, request: Mapping[str, Any]) -> dict[str, Any]:
        name = _name(request)
        table = self._table_for_read(name, "dynamodb:Query")
        with self._engine.store.read() as conn:
            return reads.query(conn, self._repo, table, request, utcnow())

    def scan(self, request: Mapping[str, Any]) -> dict[str, Any]:
        name = _name(request)
        table = self._table_for_read(name, "dynamodb:Scan")
        with self._engine.store.read() as conn:
            return reads.scan(conn, self._repo, table, request, utcnow())

    def batch_get_item(self, request: Mapping[str, Any]) -> dict[str, Any]:
        wanted = request.get("RequestItems")
        if not isinstance(wanted, Mapping) or not wanted:
            raise ValidationException("RequestItems: an object of table -> {Keys}", field="RequestItems")
        total = sum(len(v.get("Keys") or []) for v in wanted.values() if isinstance(v, Mapping))
        if total > MAX_BATCH_GET:
            raise ValidationException(
                f"Too many items requested for the BatchGetItem call (at most {MAX_BATCH_GET})",
                field="RequestItems",
            )
        responses: dict[str, list[Any]] = {}
        with self._engine.store.read() as conn:
            for name, spec in wanted.items():
                table = self._table_for_read(
                    check_table_name(name, "RequestItems"), "dynamodb:BatchGetItem", conn
                )
                if (
                    not isinstance(spec, Mapping)
                    or not isinstance(spec.get("Keys"), list)
                    or not spec["Keys"]
                ):
                    raise ValidationException(
                        f"RequestItems.{name}.Keys: a non-empty list", field="RequestItems"
                    )
                ctx = reads.context_of(spec)
                projection = _projection(spec, ctx)
                reads.check_unused(ctx)
                keys = [
                    check_key(k, table.keys, f"RequestItems.{name}.Keys[{i}]")
                    for i, k in enumerate(spec["Keys"])
                ]
                if len(set(keys)) != len(keys):
                    raise ValidationException(
                        "Provided list of item keys contains duplicates", field="RequestItems"
                    )
                found = self._repo.get_items(conn, name, keys)
                items = [found[k] for k in keys if k in found and not _expired(found[k], table)]
                responses[name] = items if projection is None else [projection(i) for i in items]
        return {"Responses": responses, "UnprocessedKeys": {}}

    def batch_write_item(self, request: Mapping[str, Any]) -> dict[str, Any]:
        wanted = request.get("RequestItems")
        if not isinstance(wanted, Mapping) or not wanted:
            raise ValidationException("RequestItems: an object of table -> [requests]", field="RequestItems")
        total = sum(len(v) for v in wanted.values() if isinstance(v, list))
        if not 1 <= total <= MAX_BATCH_WRITE:
            raise ValidationException(
                f"Too many items requested for the BatchWriteItem call (1 to {MAX_BATCH_WRITE})",
                field="RequestItems",
            )
        for name in wanted:
            self._guard.authorize(
                "dynamodb:BatchWriteItem", {"TableName": check_table_name(name, "RequestItems")}
            )
        with self._engine.store.write() as conn:
            for name, entries in wanted.items():
                if not isinstance(entries, list) or not entries:
                    raise ValidationException(f"RequestItems.{name}: a non-empty list", field="RequestItems")
                changes = self._changes(conn, name)
                seen: set[tuple[str, str]] = set()
                puts, deletes = _batch_entries(entries, changes.table, name)
                for key, item in puts:
                    _once(seen, key)
                    changes.put(key, item, f"RequestItems.{name}")
                for key in deletes:
                    _once(seen, key)
                    changes.delete(key)
                changes.flush()
                self._engine.written(conn, changes)
        return {"UnprocessedItems": {}}

    def transact_write_items(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """All or nothing; with a ``ClientRequestToken``, the same request again within ten minutes
        is answered without being applied again (``tokens``)."""
        transaction = Transaction.parse(request)
        token = token_of(request)
        for name in transaction.tables:
            self._guard.authorize("dynamodb:TransactWriteItems", {"TableName": name})
        with self._engine.store.write() as conn:
            if token is not None:
                now, digest = utcnow(), digest_of(request)
                if self._tokens.already_applied(conn, token, digest, now):
                    return {}
                self._tokens.remember(conn, token, digest, now)  # undone with the rest if cancelled
            changed = transaction.run(conn, lambda name: self._changes(conn, name))
            for changes in changed:
                self._engine.written(conn, changes)
        return {}

    def transact_get_items(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """Up to 100 items of the account's tables read in one transaction: ``Responses`` in the
        order asked, ``{}`` for an item that does not exist."""
        gets = parse_gets(request)
        with self._engine.store.read() as conn:
            wanted: dict[str, list[tuple[str, str]]] = {}
            tables: dict[str, TableInfo] = {}
            keys: list[tuple[str, str]] = []
            seen: set[tuple[str, tuple[str, str]]] = set()
            for get in gets:
                if get.table not in tables:
                    tables[get.table] = self._table_for_read(get.table, "dynamodb:TransactGetItems", conn)
                key = check_key(get.key, tables[get.table].keys, f"{get.where}.Key")
                if (get.table, key) in seen:
                    raise ValidationException(
                        "Transaction request cannot include multiple operations on one item", field=get.where
                    )
                seen.add((get.table, key))
                wanted.setdefault(get.table, []).append(key)
                keys.append(key)
            found = {
                name: self._repo.get_items(conn, name, table_keys) for name, table_keys in wanted.items()
            }
        responses: list[dict[str, Any]] = []
        for get, key in zip(gets, keys, strict=True):
            item = found[get.table].get(key)
            if item is None or _expired(item, tables[get.table]):
                responses.append({})
            else:
                responses.append({"Item": item if get.projection is None else get.projection(item)})
        return {"Responses": responses}

    def sweep_expired(self, name: str, keys: list[tuple[str, str]]) -> None:
        """(Time-to-live sweep.) Delete these items if they are still expired; their stream gets
        REMOVE records made by the service, as DynamoDB's TTL deletions are."""
        with self._engine.store.write() as conn:
            table = self._repo.find_table(conn, name)
            if table is None:
                return
            changes = TableChanges(conn, self._repo, table, utcnow())
            changes.load(keys)
            for key in keys:
                stored = changes.stored[key]
                if stored is not None and _expired(stored, table):
                    changes.old[key] = stored  # gone for readers already; the record shows it
                    changes.delete(key)
            changes.flush(removed_by_ttl=True)
            self._engine.written(conn, changes)

    # --- helpers --------------------------------------------------------------------------------
    def _changed(self, name: str) -> None:
        """This node sees a table change at once (other nodes within the cache's second)."""
        self._engine.tables.invalidate(self.context.account_id, name)

    def _changes(self, conn: Any, name: str) -> TableChanges:
        return TableChanges(conn, self._repo, self._repo.get_table(conn, name), utcnow())

    def _table_for_read(self, name: str, action: str, conn: Any = None) -> TableInfo:
        name = check_table_name(name)
        self._guard.authorize(action, {"TableName": name}, write=False)
        table = self._engine.tables.get(self.context.account_id, name)
        if table is not None:
            return table
        if conn is not None:
            return self._engine.tables.put(self._repo.get_table(conn, name))
        with self._engine.store.read() as own:
            return self._engine.tables.put(self._repo.get_table(own, name))


def _not_a_stacks(table: TableInfo) -> None:
    if table.managed_by is not None:
        raise ValidationException(
            f"Table {table.name} belongs to stack {table.managed_by}; change it in the stack's template",
            field="TableName",
        )


def _name(request: Mapping[str, Any]) -> str:
    if not isinstance(request, Mapping):
        raise ValidationException("the request must be an object")
    return check_table_name(request.get("TableName"))


def _returns(request: Mapping[str, Any], allowed: tuple[str, ...]) -> str:
    value = request.get("ReturnValues", "NONE")
    if value not in allowed:
        raise ValidationException(
            f"ReturnValues: one of {', '.join(allowed)}; got {value!r}", field="ReturnValues"
        )
    return str(value)


def _condition(request: Mapping[str, Any], ctx: ExpressionContext) -> Any:
    text = request.get("ConditionExpression")
    return None if text is None else parse_condition(reads.expression_text(text, "ConditionExpression"), ctx)


def _projection(request: Mapping[str, Any], ctx: ExpressionContext) -> Any:
    text = request.get("ProjectionExpression")
    return (
        None
        if text is None
        else parse_projection(reads.expression_text(text, "ProjectionExpression"), ctx).apply
    )


def _check(condition: Any, old: Any, request: Mapping[str, Any]) -> None:
    if condition is not None and not condition.evaluate(old or {}):
        details: dict[str, Any] = {}
        if request.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and old is not None:
            details["Item"] = old
        raise ConditionalCheckFailed("The conditional request failed", **details)


def _updated(returns: str, old: Any, new: Mapping[str, Any], paths: Any) -> dict[str, Any]:
    if returns == "NONE":
        return {}
    if returns == "ALL_OLD":
        return {} if old is None else {"Attributes": old}
    if returns == "ALL_NEW":
        return {"Attributes": dict(new)}
    source = (old or {}) if returns == "UPDATED_OLD" else new
    attributes = project(dict(source), paths)  # only the changed (nested) parts, as DynamoDB
    return {"Attributes": attributes} if attributes else {}


def _batch_entries(entries: list[Any], table: TableInfo, name: str) -> tuple[list[Any], list[Any]]:
    puts, deletes = [], []
    for i, entry in enumerate(entries):
        where = f"RequestItems.{name}[{i}]"
        if not isinstance(entry, Mapping) or len(entry) != 1:
            raise ValidationException(f"{where}: one PutRequest or DeleteRequest", field=where)
        if "PutRequest" in entry:
            item = check_item((entry["PutRequest"] or {}).get("Item"), f"{where}.PutRequest.Item")
            puts.append((encoded_key(item, table.keys, where), item))
        elif "DeleteRequest" in entry:
            deletes.append(
                check_key((entry["DeleteRequest"] or {}).get("Key"), table.keys, f"{where}.DeleteRequest.Key")
            )
        else:
            raise ValidationException(f"{where}: one PutRequest or DeleteRequest", field=where)
    return puts, deletes


def _once(seen: set[tuple[str, str]], key: tuple[str, str]) -> None:
    if key in seen:
        raise ValidationException("Provided list of item keys contains duplicates", field="RequestItems")
    seen.add(key)


def _expired(item: Mapping[str, Any], table: TableInfo) -> bool:
    return is_expired(item, table.ttl_attribute, utcnow())


__all__ = ["ResourceNotFound", "Tables"]
