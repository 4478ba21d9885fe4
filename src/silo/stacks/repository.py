"""Reads of one account's stacks, resources, events and change sets. Every query filters by account."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from silo.accounts import AccountContext
from silo.errors import NotFound
from silo.stacks.models import (
    Change,
    ChangeSet,
    ChangeSetStatus,
    Stack,
    StackEvent,
    StackResource,
    StackStatus,
)
from silo.store.pages import Page, check_limit, decode_token, encode_token
from silo.store.schema import stack_change_sets, stack_events, stack_resources, stacks
from silo.templates import RUNNABLE_KINDS


class StackRepository:
    def __init__(self, context: AccountContext) -> None:
        self._account = context.account_id

    def get(self, conn: sa.Connection, name: str) -> Stack:
        row = self.row(conn, name)
        if row is None:
            raise NotFound(f"stack not found: {name}", stack=name)
        return stack_from_row(row)

    def row(self, conn: sa.Connection, name: str) -> dict[str, Any] | None:
        found = (
            conn.execute(sa.select(stacks).where(stacks.c.account_id == self._account, stacks.c.name == name))
            .mappings()
            .first()
        )
        return dict(found) if found is not None else None

    def find(self, conn: sa.Connection, limit: int | None, next_token: str | None) -> Page[Stack]:
        size = check_limit(limit)
        after = decode_token(next_token)
        query = sa.select(stacks).where(stacks.c.account_id == self._account).order_by(stacks.c.name)
        if after is not None:
            query = query.where(stacks.c.name > after)
        rows = conn.execute(query.limit(size + 1)).mappings().all()
        items = [stack_from_row(r) for r in rows[:size]]
        token = encode_token(items[-1].name) if len(rows) > size else None
        return Page(items, token)

    def resources(self, conn: sa.Connection, name: str) -> list[StackResource]:
        query = (
            sa.select(stack_resources)
            .where(stack_resources.c.account_id == self._account, stack_resources.c.stack_name == name)
            .order_by(stack_resources.c.logical_id)
        )
        return [
            StackResource(
                logical_id=r["logical_id"],
                type=r["type"],
                kind=r["kind"],
                physical_name=r["physical_name"],
                arn=r["arn"],
                status=r["status"],
                updated_at=r["updated_at"],
            )
            for r in conn.execute(query).mappings()
        ]

    def recorded_properties(self, conn: sa.Connection, name: str) -> list[dict[str, Any]]:
        query = sa.select(stack_resources).where(
            stack_resources.c.account_id == self._account, stack_resources.c.stack_name == name
        )
        return [dict(r) for r in conn.execute(query).mappings()]

    def events(
        self, conn: sa.Connection, name: str, limit: int | None, next_token: str | None
    ) -> Page[StackEvent]:
        """Newest first, as CloudFormation lists them."""
        size = check_limit(limit)
        before = decode_token(next_token)
        query = sa.select(stack_events).where(
            stack_events.c.account_id == self._account, stack_events.c.stack_name == name
        )
        if before is not None:
            query = query.where(stack_events.c.event_id < before)
        rows = conn.execute(query.order_by(stack_events.c.event_id.desc()).limit(size + 1)).mappings().all()
        items = [
            StackEvent(
                event_id=r["event_id"],
                at=r["at"],
                logical_id=r["logical_id"],
                resource_type=r["resource_type"],
                status=r["status"],
                reason=r["reason"],
            )
            for r in rows[:size]
        ]
        token = encode_token(items[-1].event_id) if len(rows) > size else None
        return Page(items, token)

    def change_set_row(self, conn: sa.Connection, stack: str, name: str) -> dict[str, Any]:
        found = (
            conn.execute(
                sa.select(stack_change_sets).where(
                    stack_change_sets.c.account_id == self._account,
                    stack_change_sets.c.stack_name == stack,
                    stack_change_sets.c.name == name,
                )
            )
            .mappings()
            .first()
        )
        if found is None:
            raise NotFound(f"change set not found: {stack}/{name}", stack=stack, change_set=name)
        return dict(found)

    def put_change_set(self, conn: sa.Connection, values: dict[str, Any]) -> None:
        conn.execute(
            sa.delete(stack_change_sets).where(
                stack_change_sets.c.account_id == self._account,
                stack_change_sets.c.stack_name == values["stack_name"],
                stack_change_sets.c.name == values["name"],
            )
        )
        conn.execute(stack_change_sets.insert().values(account_id=self._account, **values))

    def set_change_set_status(
        self, conn: sa.Connection, stack: str, name: str, status: ChangeSetStatus, at: Any
    ) -> None:
        conn.execute(
            sa.update(stack_change_sets)
            .where(
                stack_change_sets.c.account_id == self._account,
                stack_change_sets.c.stack_name == stack,
                stack_change_sets.c.name == name,
            )
            .values(status=status.value, executed_at=at)
        )

    def change_sets(self, conn: sa.Connection, stack: str) -> list[ChangeSet]:
        query = (
            sa.select(stack_change_sets)
            .where(stack_change_sets.c.account_id == self._account, stack_change_sets.c.stack_name == stack)
            .order_by(stack_change_sets.c.created_at)
        )
        return [change_set_from_row(dict(r)) for r in conn.execute(query).mappings()]

    def mark_failed(self, conn: sa.Connection, name: str, status: StackStatus, reason: str, at: Any) -> None:
        conn.execute(
            sa.update(stacks)
            .where(stacks.c.account_id == self._account, stacks.c.name == name)
            .values(status=status.value, status_reason=reason[:4000], updated_at=at)
        )


def stack_from_row(r: dict[str, Any] | sa.RowMapping) -> Stack:
    return Stack(
        name=r["name"],
        stack_id=r["stack_id"],
        status=StackStatus(r["status"]),
        status_reason=r["status_reason"],
        template_sha256=r["template_sha256"],
        parameters=r["parameters"],
        outputs=r["outputs"],
        description=r["description"],
        stack_set=r["stack_set"],
        operation_id=r["operation_id"],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
    )


def change_set_from_row(r: dict[str, Any]) -> ChangeSet:
    changes = tuple(Change.from_dict(c) for c in r["changes"])
    return ChangeSet(
        name=r["name"],
        stack_name=r["stack_name"],
        status=ChangeSetStatus(r["status"]),
        changes=changes,
        not_runnable=tuple(
            c.logical_id for c in changes if c.action != "Remove" and c.kind not in RUNNABLE_KINDS
        ),
        parameters=r["parameters"],
        template_sha256=r["template_sha256"],
        created_at=r["created_at"],
        executed_at=r["executed_at"],
    )
