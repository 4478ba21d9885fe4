"""``Workflows``: one account's state machines and executions, reached through its handle."""

from __future__ import annotations

import builtins
import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from silo.accounts import AccountContext, AccountGuard
from silo.errors import ValidationError
from silo.store import utcnow
from silo.store.ids import new_id
from silo.store.pages import Page
from silo.workflows.definition import StateMachine, parse_definition
from silo.workflows.driver import Advance, attempt_token, new_token_key
from silo.workflows.engine import Deferred, TaskRequest, WorkflowsEngine
from silo.workflows.errors import TASK_FAILED, StatesError
from silo.workflows.interpreter import ExecutionInfo as Identity
from silo.workflows.interpreter import (
    Redrive,
    Start,
    TaskFailed,
    TaskSucceeded,
    TimedOut,
    new_execution,
)
from silo.workflows.interpreter._machine import stamp
from silo.workflows.models import (
    MAX_EXECUTION_INPUT_BYTES,
    ExecutionAlreadyExists,
    ExecutionInfo,
    ExecutionNotRedrivable,
    HistoryEntry,
    InvalidToken,
    StateMachineInfo,
    TaskTimedOut,
    check_name,
    execution_arn,
    execution_ref,
    state_machine_arn,
    state_machine_name,
)
from silo.workflows.repository import WorkflowsRepository
from silo.workflows.snapshots import event_json, event_of, execution_of, snapshot_of
from silo.workflows.work_queue import WorkItem

NAMESPACE = "States"


class Workflows:
    def __init__(self, guard: AccountGuard, engine: WorkflowsEngine) -> None:
        self._guard = guard
        self._engine = engine
        self._repo = WorkflowsRepository(guard.context)

    @property
    def context(self) -> AccountContext:
        return self._guard.context

    @property
    def account_id(self) -> str:
        return self.context.account_id

    # --- state machines -------------------------------------------------------------------------
    def create_state_machine(
        self,
        name: str,
        definition: str | Mapping[str, Any],
        *,
        description: str = "",
        managed_by: str | None = None,
    ) -> StateMachineInfo:
        """Create a state machine; the definition is checked first (``InvalidDefinition``)."""
        return self._put(name, definition, description, managed_by, create=True)

    def update_state_machine(
        self, name: str, definition: str | Mapping[str, Any], *, description: str = ""
    ) -> StateMachineInfo:
        """A new revision; running executions finish on the revision they started with."""
        return self._put(name, definition, description, None, create=False)

    def put_state_machine(
        self, name: str, definition: str | Mapping[str, Any], *, managed_by: str | None, description: str = ""
    ) -> StateMachineInfo:
        """Create or update (stacks deploy this way)."""
        with self._engine.store.read() as conn:
            exists = self._repo.find_machine(conn, check_name(name, "name")) is not None
        return self._put(name, definition, description, managed_by, create=not exists)

    def _put(
        self,
        name: str,
        definition: str | Mapping[str, Any],
        description: str,
        managed_by: str | None,
        *,
        create: bool,
    ) -> StateMachineInfo:
        name = check_name(name, "name") if create else state_machine_name(name, self.account_id, "name")
        text = _definition_text(definition)
        if not isinstance(description, str) or len(description) > 256:
            raise ValidationError("description: at most 256 characters", field="description")
        action = "states:CreateStateMachine" if create else "states:UpdateStateMachine"
        self._guard.authorize(action, {"StateMachineName": name})
        with self._engine.store.write() as conn:
            return self._repo.put_machine(
                conn, name, text, description=description, managed_by=managed_by, create=create
            )

    def delete_state_machine(self, name: str, *, managed_by: str | None = None) -> None:
        """A stack's state machine (``managed_by``) goes only when that stack says so."""
        name = state_machine_name(name, self.account_id, "name")
        self._guard.authorize("states:DeleteStateMachine", {"StateMachineName": name})
        with self._engine.store.write() as conn:
            self._repo.delete_machine(conn, name, managed_by)

    def describe_state_machine(self, name: str) -> StateMachineInfo:
        name = state_machine_name(name, self.account_id, "name")
        self._guard.authorize("states:DescribeStateMachine", {"StateMachineName": name}, write=False)
        with self._engine.store.read() as conn:
            return self._repo.get_machine(conn, name)

    def list_state_machines(
        self, *, limit: int | None = None, next_token: str | None = None
    ) -> Page[StateMachineInfo]:
        self._guard.authorize("states:ListStateMachines", write=False)
        with self._engine.store.read() as conn:
            return self._repo.list_machines(conn, limit, next_token)

    def managed_state_machines(self, managed_by: str) -> builtins.list[str]:
        with self._engine.store.read() as conn:
            return self._repo.managed_machines(conn, managed_by)

    # --- executions -----------------------------------------------------------------------------
    def start_execution(
        self,
        state_machine: str,
        input: Any = None,
        *,
        name: str | None = None,
        callback: dict[str, Any] | None = None,
        conn: sa.Connection | None = None,
    ) -> ExecutionInfo:
        """``StartExecution``: durable when it returns; the same name with the same input while it
        runs returns that execution, anything else with a used name is ``ExecutionAlreadyExists``."""
        machine_name = state_machine_name(state_machine, self.account_id)
        name = check_name(name if name is not None else new_id(), "name")
        _check_input(input)
        self._guard.authorize("states:StartExecution", {"StateMachineName": machine_name})
        if conn is not None:
            return self._start(conn, machine_name, name, input, callback)
        with self._engine.store.write() as own:
            return self._start(own, machine_name, name, input, callback)

    def accept_start(self, state_machine: str, input: Any) -> str:
        """(Event delivery.) What ``start_execution`` refuses before it writes (the state machine, the
        input, guardrails), checked before the delivering transaction starts the execution with
        ``conn``: a refusal fails that delivery alone, which is retried. Returns the machine's name."""
        machine_name = state_machine_name(state_machine, self.account_id)
        _check_input(input)
        self._guard.authorize("states:StartExecution", {"StateMachineName": machine_name})
        with self._engine.store.read() as conn:
            self._repo.get_machine(conn, machine_name)
        return machine_name

    def _start(
        self, conn: sa.Connection, machine_name: str, name: str, input: Any, callback: dict[str, Any] | None
    ) -> ExecutionInfo:
        info = self._repo.get_machine(conn, machine_name)
        existing = self._repo.execution_by_name(conn, machine_name, name)
        if existing is not None:
            if existing.status == "RUNNING" and existing.input == input:
                return self._repo.execution(existing)
            raise ExecutionAlreadyExists(
                f"Execution Already Exists: '{execution_arn(self.account_id, machine_name, name)}'",
                execution=name,
            )
        machine = self._machine(conn, machine_name, info.revision)
        now = utcnow()
        execution_id = new_id()
        identity = Identity(
            id=execution_arn(self.account_id, machine_name, name),
            name=name,
            start_time=stamp(now),
            state_machine_id=state_machine_arn(self.account_id, machine_name),
            state_machine_name=machine_name,
        )
        execution = replace(new_execution(identity), token_key=new_token_key(execution_id))
        self._repo.insert_executions(
            conn,
            [
                {
                    "execution_id": execution_id,
                    "root_id": execution_id,
                    "parent_id": None,
                    "state_machine": machine_name,
                    "revision": info.revision,
                    "name": name,
                    "status": "RUNNING",
                    "input": input,
                    "output": None,
                    "error": None,
                    "cause": None,
                    "started_at": now,
                    "stopped_at": None,
                    "snapshot": snapshot_of(execution),
                    "branch": None,
                    "history_length": 0,
                    "redrive_count": 0,
                    "callback": callback,
                }
            ],
        )
        root = self._repo.lock_execution(conn, execution_id)
        assert root is not None
        advance = Advance(conn, self._repo, root, machine, now)
        advance.apply(execution_id, Start(input, now))
        self._finish(conn, advance, self._timeout_rows(machine, execution_id, now))
        self._engine.metrics.record(self.context, NAMESPACE, "ExecutionsStarted", machine_name, 1)
        return self._repo.execution(self._repo.execution_row(conn, execution_id))  # type: ignore[arg-type]

    def describe_execution(self, execution: str) -> ExecutionInfo:
        machine, name = execution_ref(execution, self.account_id)
        self._guard.authorize("states:DescribeExecution", {"StateMachineName": machine}, write=False)
        with self._engine.store.read() as conn:
            return self._repo.execution(self._repo.find_execution(conn, machine, name))

    def list_executions(
        self,
        state_machine: str,
        *,
        status: str | None = None,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> Page[ExecutionInfo]:
        machine = state_machine_name(state_machine, self.account_id)
        if status is not None and status not in ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"):
            raise ValidationError(
                f"statusFilter: one of RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED; got {status!r}",
                field="statusFilter",
            )
        self._guard.authorize("states:ListExecutions", {"StateMachineName": machine}, write=False)
        with self._engine.store.read() as conn:
            self._repo.get_machine(conn, machine)
            return self._repo.list_executions(conn, machine, status, limit, next_token)

    def history(
        self,
        execution: str,
        *,
        reverse: bool = False,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> Page[HistoryEntry]:
        machine, name = execution_ref(execution, self.account_id)
        self._guard.authorize("states:GetExecutionHistory", {"StateMachineName": machine}, write=False)
        with self._engine.store.read() as conn:
            row = self._repo.find_execution(conn, machine, name)
            return self._repo.history(
                conn, row.execution_id, reverse=reverse, limit=limit, next_token=next_token
            )

    def stop_execution(
        self, execution: str, *, error: str | None = None, cause: str | None = None
    ) -> datetime:
        """``StopExecution``: a running execution becomes ABORTED and nothing of it runs on."""
        _check_error(error, cause)
        machine, name = execution_ref(execution, self.account_id)
        self._guard.authorize("states:StopExecution", {"StateMachineName": machine})
        now = utcnow()
        with self._engine.store.write() as conn:
            root = self._locked(conn, machine, name)
            if root.status != "RUNNING":
                stopped_at: datetime = root.stopped_at or now
                return stopped_at
            advance = self._advance(conn, root, now)
            advance.abort(error, cause)
            self._finish(conn, advance, [])
            return now

    def redrive_execution(self, execution: str) -> datetime:
        """Run a FAILED, TIMED_OUT or ABORTED execution again from the state where it stopped."""
        machine, name = execution_ref(execution, self.account_id)
        self._guard.authorize("states:RedriveExecution", {"StateMachineName": machine})
        now = utcnow()
        with self._engine.store.write() as conn:
            root = self._locked(conn, machine, name)
            if root.status not in ("FAILED", "TIMED_OUT", "ABORTED"):
                raise ExecutionNotRedrivable(
                    f"Execution {execution} is {root.status}; only FAILED, TIMED_OUT or ABORTED executions "
                    "can be redriven",
                    execution=execution,
                )
            advance = self._advance(conn, root, now)
            if not advance.apply(root.execution_id, Redrive(now)):
                raise ExecutionNotRedrivable(
                    f"Execution {execution} never entered a state", execution=execution
                )
            self._finish(conn, advance, self._timeout_rows(advance.root_machine, root.execution_id, now))
            return now

    # --- callbacks ------------------------------------------------------------------------------
    def send_task_success(self, task_token: str, output: Any) -> None:
        _check_input(output, "output")
        self._callback(task_token, "states:SendTaskSuccess", lambda now: TaskSucceeded(output, now))

    def send_task_failure(self, task_token: str, error: str = "", cause: str = "") -> None:
        _check_error(error, cause)
        self._callback(task_token, "states:SendTaskFailure", lambda now: TaskFailed(error, cause, now))

    def send_task_heartbeat(self, task_token: str) -> None:
        execution_id, attempt = _token_parts(task_token)
        self._guard.authorize("states:SendTaskHeartbeat")
        now = utcnow()
        with self._engine.store.write() as conn:
            row = self._task_execution(conn, task_token, execution_id)
            if self._repo.extend_heartbeat(conn, execution_id, attempt, now):
                return
            # no HeartbeatSeconds: a heartbeat is fine while the task waits, as on Step Functions
            waiting = execution_of(row.snapshot)
            if row.status != "RUNNING" or waiting.waiting != "task" or attempt_token(waiting) != attempt:
                raise TaskTimedOut("Task Timed Out: the task is no longer waiting for this token")

    def _callback(self, task_token: str, action: str, event: Any) -> None:
        execution_id, attempt = _token_parts(task_token)
        self._guard.authorize(action)
        now = utcnow()
        with self._engine.store.write() as conn:
            row = self._task_execution(conn, task_token, execution_id)
            root = self._repo.lock_execution(conn, row.root_id)
            if root is None:
                raise TaskTimedOut("Task Timed Out: the execution is gone")
            advance = self._advance(conn, root, now)
            if not advance.apply(execution_id, event(now), attempt):
                raise TaskTimedOut("Task Timed Out: the task is no longer waiting for this token")
            self._finish(conn, advance, [])

    def _task_execution(self, conn: sa.Connection, task_token: str, execution_id: str) -> sa.Row[Any]:
        row = self._repo.execution_row(conn, execution_id)
        key = task_token.rsplit(".", 2)[0]
        if row is None or row.snapshot.get("token_key") != key:
            raise InvalidToken("Invalid Token: not a task token of this account", field="taskToken")
        return row

    # --- the dispatcher's side --------------------------------------------------------------------
    def work(self, item: WorkItem) -> None:
        """(Workflow dispatcher.) Run a task, or apply a due event, to the item's execution."""
        outcome = self._run_task(item) if item.kind == "task" else event_of(item.body)
        now = utcnow()
        with self._engine.store.write() as conn:
            root = self._repo.lock_execution(conn, item.root_id)
            if not self._repo.take_work(conn, item.work_id) or root is None:
                return  # done by another node, or cancelled (the execution stopped or moved on)
            advance = self._advance(conn, root, now)
            if isinstance(outcome, Deferred):
                if outcome.write is None or not advance.expects(item.execution_id, item.token):
                    return
                try:
                    outcome.write(conn)  # raises before it writes anything (a missing machine...)
                    return
                except StatesError as error:
                    outcome = TaskFailed(error.error, error.cause, now)
            if advance.apply(item.execution_id, outcome, item.token):
                self._finish(conn, advance, [])

    def _run_task(self, item: WorkItem) -> Any:
        body = item.body
        request = TaskRequest(
            body["resource"],
            body["input"],
            body.get("timeout_seconds"),
            body.get("heartbeat_seconds"),
            body.get("task_token", ""),
            item.execution_id,
            item.root_id,
            item.token,
        )
        runner = self._engine.tasks
        if runner is None:
            return TaskFailed(TASK_FAILED, "no task runner is bound", utcnow())
        try:
            return runner.run(self, request)
        except Exception as exc:  # a bug in an integration must fail the task, not hang the execution
            return TaskFailed(TASK_FAILED, f"{type(exc).__name__}: {exc}", utcnow())

    # --- helpers --------------------------------------------------------------------------------
    def _locked(self, conn: sa.Connection, machine: str, name: str) -> sa.Row[Any]:
        """A root execution's row, locked for this transaction."""
        found = self._repo.find_execution(conn, machine, name)
        root = self._repo.lock_execution(conn, found.execution_id)
        assert root is not None  # rows go only with their account
        return root

    def _machine(self, conn: sa.Connection, name: str, revision: str) -> StateMachine:
        return self._engine.machine(
            self.account_id, revision, lambda: self._repo.definition(conn, name, revision)
        )

    def _advance(self, conn: sa.Connection, root: sa.Row[Any], now: datetime) -> Advance:
        """A step of the tree under ``root`` (locked), on the definition revision it runs."""
        return Advance(conn, self._repo, root, self._machine(conn, root.state_machine, root.revision), now)

    def _finish(self, conn: sa.Connection, advance: Advance, extra: builtins.list[dict[str, Any]]) -> None:
        rows = advance.write()
        if advance.finished is None:
            rows += extra
        else:
            rows += self._answer_caller(advance)
            self._engine.metrics.record(
                self.context,
                NAMESPACE,
                _FINISH_METRIC.get(advance.finished.status, "ExecutionsFailed"),
                advance.root_row.state_machine,
                1,
            )
        self._engine.accepted(conn, self.account_id, rows)
        self._repo.add_work(conn, rows)

    def _answer_caller(self, advance: Advance) -> builtins.list[dict[str, Any]]:
        """A nested execution started with ``.sync`` answers the task that started it."""
        callback = advance.root_row.callback
        if not callback:
            return []
        finished = advance.finished
        assert finished is not None
        now = advance.now
        execution = advance.root.execution
        described = {
            "ExecutionArn": execution.info.id,
            "Input": json.dumps(advance.root_row.input),
            "InputDetails": {"Included": True},
            "Name": execution.info.name,
            "StartDate": advance.root_row.started_at.isoformat(),
            "StateMachineArn": execution.info.state_machine_id,
            "Status": finished.status,
            "StopDate": now.isoformat(),
        }
        if finished.status == "SUCCEEDED":
            output = finished.output if callback.get("form") == "sync2" else json.dumps(finished.output)
            event: Any = TaskSucceeded(
                {**described, "Output": output, "OutputDetails": {"Included": True}}, now
            )
        else:
            described.update(Error=finished.error, Cause=finished.cause)
            event = TaskFailed(TASK_FAILED, json.dumps(described), now)
        return [
            {
                "work_id": new_id(),
                "root_id": callback["root_id"],
                "execution_id": callback["execution_id"],
                "kind": "event",
                "body": event_json(event),
                "token": callback["token"],
                "due_at": now,
                "attempts": 0,
            }
        ]

    def _timeout_rows(
        self, machine: StateMachine, execution_id: str, now: datetime
    ) -> builtins.list[dict[str, Any]]:
        if not machine.timeout_seconds:
            return []
        due = now + timedelta(seconds=machine.timeout_seconds)
        return [
            {
                "work_id": new_id(),
                "root_id": execution_id,
                "execution_id": execution_id,
                "kind": "timeout",
                "body": event_json(TimedOut(due)),
                "token": None,
                "due_at": due,
                "attempts": 0,
            }
        ]


_FINISH_METRIC = {
    "SUCCEEDED": "ExecutionsSucceeded",
    "FAILED": "ExecutionsFailed",
    "TIMED_OUT": "ExecutionsTimedOut",
    "ABORTED": "ExecutionsAborted",
}


def _definition_text(definition: str | Mapping[str, Any]) -> str:
    text = definition if isinstance(definition, str) else json.dumps(definition)
    parse_definition(text)  # InvalidDefinition with the JSON path of the problem
    return text


def _check_input(value: Any, where: str = "input") -> None:
    try:
        size = len(json.dumps(value).encode())
    except (TypeError, ValueError):
        raise ValidationError(f"{where}: not a JSON value", field=where) from None
    if size > MAX_EXECUTION_INPUT_BYTES:
        raise ValidationError(
            f"{where}: {size} bytes; at most {MAX_EXECUTION_INPUT_BYTES} bytes", field=where
        )


def _check_error(error: object, cause: object) -> None:
    if error is not None and (not isinstance(error, str) or len(error) > 256):
        raise ValidationError("error: a string of at most 256 characters", field="error")
    if cause is not None and (not isinstance(cause, str) or len(cause) > 32768):
        raise ValidationError("cause: a string of at most 32768 characters", field="cause")


def _token_parts(task_token: object) -> tuple[str, str]:
    """(execution id, attempt) of a task token ``EXECUTION.SECRET.TRANSITIONS.RETRIES``."""
    if not isinstance(task_token, str) or len(task_token) > 1024:
        raise InvalidToken("Invalid Token: expected a task token string", field="taskToken")
    parts = task_token.split(".")
    if len(parts) != 4 or not parts[2].isdigit() or not parts[3].isdigit():
        raise InvalidToken("Invalid Token: not a task token this platform issued", field="taskToken")
    return parts[0], f"{parts[2]}.{parts[3]}"


__all__ = ["Workflows", "attempt_token"]
