"""The kinds of event targets the platform delivers to, each acting inside the delivery's account:
functions (a queued ``Event`` invocation) and state machines (a started execution)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from silo.dlq import DeadLetter, Redelivery
from silo.errors import ValidationError
from silo.events.models import TargetKind, TargetRef
from silo.functions import Functions, FunctionsEngine
from silo.workflows.service import Workflows


class FunctionTargets:
    """A rule's function target: the event becomes a queued ``Event`` invocation of that function."""

    def __init__(self, engine: FunctionsEngine, scope_for: Callable[[str], Functions]) -> None:
        self._engine = engine
        self._scope_for = scope_for

    def batch(self) -> FunctionBatch:
        return FunctionBatch(self._engine, self._scope_for)


class FunctionBatch:
    """One delivery batch's invocations: checked one by one, queued with one statement."""

    def __init__(self, engine: FunctionsEngine, scope_for: Callable[[str], Functions]) -> None:
        self._engine = engine
        self._scope_for = scope_for
        self._rows: list[dict[str, Any]] = []

    def add(self, account: str, ref: TargetRef, payload: bytes, source: str) -> None:
        self._rows.append(
            self._scope_for(account).accept_event(ref.name, ref.qualifier, payload, source=source)
        )

    def write(self, conn: sa.Connection) -> None:
        self._engine.queue.add(conn, self._rows)

    def after_commit(self) -> None:
        self._engine.run_queued(self._rows)


class WorkflowTargets:
    """A rule's state machine target: the event (after ``Input``, ``InputPath`` or
    ``InputTransformer``) is the input of a new execution of that state machine."""

    def __init__(self, scope_for: Callable[[str], Workflows]) -> None:
        self._scope_for = scope_for

    def batch(self) -> WorkflowBatch:
        return WorkflowBatch(self._scope_for)


class WorkflowBatch:
    """One delivery batch's executions: each checked when taken (a missing state machine, a guardrail
    or a bad input fails that delivery alone, which is retried, then dead-lettered), then started in
    the delivering transaction, so an execution starts if and only if its delivery is done.

    A state machine deleted in between (PostgreSQL: by another node, within the same moment) fails
    the delivering transaction; its deliveries come back when their lease runs out and then fail
    one by one in :meth:`add`."""

    def __init__(self, scope_for: Callable[[str], Workflows]) -> None:
        self._scope_for = scope_for
        self._starts: list[tuple[Workflows, str, Any]] = []

    def add(self, account: str, ref: TargetRef, payload: bytes, source: str) -> None:
        scope = self._scope_for(account)
        input = _input(payload)
        self._starts.append((scope, scope.accept_start(ref.name, input), input))

    def write(self, conn: sa.Connection) -> None:
        for scope, machine, input in self._starts:
            scope.start_execution(machine, input, conn=conn)  # hands its work over after the commit

    def after_commit(self) -> None:
        return None


def redrive_to_workflow(scope: Workflows, conn: sa.Connection, entry: DeadLetter) -> Redelivery:
    """(The DLQ.) Start the dead-lettered delivery's execution again, in the redrive's transaction.
    The platform picks ``scope`` from the stored entry's account, so the state machine the entry
    names is always one of that account."""
    machine = entry.target.get("state_machine")
    if entry.target.get("type") != TargetKind.WORKFLOW.value or not isinstance(machine, str):
        raise ValidationError(f"dead-letter entry {entry.entry_id}: its target is not a state machine")
    started = scope.start_execution(machine, _input(entry.payload), conn=conn)
    return Redelivery({"execution_arn": started.arn})


def _input(payload: bytes) -> Any:
    try:
        return json.loads(payload)
    except ValueError:
        raise ValidationError(
            "the target input is not JSON (a state machine's input must be); check the target's "
            "Input or InputTransformer"
        ) from None
