"""One transaction of one execution tree: apply an event, follow what it leads to, write it all.

An execution and the Map items / Parallel branches it starts form a tree with one root row; every
step of any of them runs under the root's lock (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite
has one writer), so a tree is never advanced twice at once. Children that finish without waiting
for anything (Pass/Choice-only branches) live and die inside the transaction and are never
written; children that wait (a task, a timer) become rows of their own.

Commands become work rows: a task to run, an event due later (a timer, a task's timeout), so a
Wait of an hour is one row and no thread. A work row that carries a ``token`` only applies while
its execution is still in the attempt that made it (``transitions.retry_count``): a late answer
for an earlier attempt is dropped.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from silo.store.ids import new_id
from silo.workflows.definition import StateMachine
from silo.workflows.errors import TIMEOUT
from silo.workflows.interpreter import (
    ABORTED,
    RUNNING,
    CancelChildren,
    ChildFailed,
    ChildSucceeded,
    Event,
    Execution,
    Finish,
    HistoryEvent,
    InvokeTask,
    Redrive,
    Start,
    StartChild,
    StartTimer,
    TaskFailed,
    TimerFired,
    new_child,
    step,
)
from silo.workflows.repository import WorkflowsRepository
from silo.workflows.snapshots import event_json, execution_of, snapshot_of

HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"


def attempt_token(execution: Execution) -> str:
    """Which attempt of which state a task, timer or callback belongs to."""
    return f"{execution.transitions}.{execution.retry_count}"


def new_token_key(execution_id: str) -> str:
    """The prefix of an execution's task tokens: its id and a part only its tokens carry."""
    return f"{execution_id}.{new_id().replace('-', '')[:16]}"


@dataclass
class Node:
    id: str
    parent_id: str | None
    execution: Execution
    machine: StateMachine
    branch: dict[str, Any] | None  # children: {"path": [[state, i], ...], "index", "generation"}
    persisted: bool
    dirty: bool = False


@dataclass
class Advance:
    """Apply events to one tree in the caller's transaction; :meth:`write` stores the outcome."""

    conn: sa.Connection
    repo: WorkflowsRepository
    root_row: sa.Row[Any]
    root_machine: StateMachine
    now: datetime
    nodes: dict[str, Node] = field(default_factory=dict)
    history: list[HistoryEvent] = field(default_factory=list)
    work: list[dict[str, Any]] = field(default_factory=list)
    gone: set[str] = field(default_factory=set)
    finished: Finish | None = None

    def __post_init__(self) -> None:
        row = self.root_row
        self.nodes[row.execution_id] = Node(
            row.execution_id, None, execution_of(row.snapshot), self.root_machine, None, True
        )

    @property
    def root(self) -> Node:
        return self.nodes[self.root_row.execution_id]

    def apply(self, execution_id: str, event: Event, token: str | None = None) -> bool:
        """Apply ``event``; ``False`` when it is stale (its execution or attempt has moved on)."""
        if not isinstance(event, Redrive) and not self.expects(execution_id, token):
            return False
        queue: deque[tuple[str, Event]] = deque([(execution_id, event)])
        while queue:
            target, current = queue.popleft()
            node = self.node(target)
            if node is None:
                continue
            result = step(node.machine, node.execution, current)
            node.execution = result.execution
            node.dirty = True
            self.history.extend(result.history)
            for command in result.commands:
                self._carry_out(node, command, queue)
        return True

    def expects(self, execution_id: str, token: str | None) -> bool:
        """Whether the execution is still running the attempt ``token`` names."""
        node = self.node(execution_id)
        if node is None or node.execution.done:
            return False
        return token is None or attempt_token(node.execution) == token

    def node(self, execution_id: str) -> Node | None:
        if execution_id in self.gone:
            return None
        found = self.nodes.get(execution_id)
        if found is not None:
            return found
        row = self.repo.execution_row(self.conn, execution_id)
        if row is None or row.root_id != self.root_row.execution_id:
            return None
        node = Node(
            row.execution_id,
            row.parent_id,
            execution_of(row.snapshot),
            self._machine_at(row.branch["path"]),
            row.branch,
            True,
        )
        self.nodes[execution_id] = node
        return node

    def abort(self, error: str | None, cause: str | None) -> None:
        """The root stopped from outside (``StopExecution``): ABORTED, nothing below it runs on."""
        root = self.root
        root.execution = replace(root.execution, status=ABORTED, error=error, cause=cause, waiting="")
        root.dirty = True
        self.history.append(HistoryEvent("ExecutionAborted", self.now, {"error": error, "cause": cause}))
        self._finished(root, Finish(ABORTED, None, error, cause), deque())

    # --- commands -------------------------------------------------------------------------------
    def _carry_out(self, node: Node, command: Any, queue: deque[tuple[str, Event]]) -> None:
        execution = node.execution
        if isinstance(command, InvokeTask):
            token = attempt_token(execution)
            self._work(node, "task", _task_body(command, execution), token, self.now)
            if command.timeout_seconds:
                cause = f"Task timed out after {command.timeout_seconds} seconds"
                event = TaskFailed(TIMEOUT, cause, self.now + timedelta(seconds=command.timeout_seconds))
                self._work(node, "timeout", event_json(event), token, event.at)
            if command.heartbeat_seconds and command.resource.endswith(".waitForTaskToken"):
                due = self.now + timedelta(seconds=command.heartbeat_seconds)
                event = TaskFailed(HEARTBEAT_TIMEOUT, "no heartbeat in time", due)
                body = {**event_json(event), "seconds": command.heartbeat_seconds}
                self._work(node, "heartbeat", body, token, due)
        elif isinstance(command, StartTimer):
            self._work(node, "event", event_json(_timer(command)), attempt_token(execution), command.until)
        elif isinstance(command, StartChild):
            child_id = new_id()
            parent_state = node.machine.state(execution.state_name or "")
            branch_index = command.index if parent_state.type == "Parallel" else 0
            path = [*(node.branch["path"] if node.branch else []), [parent_state.name, branch_index]]
            child = replace(new_child(execution, command), token_key=new_token_key(child_id))
            self.nodes[child_id] = Node(
                child_id,
                node.id,
                child,
                command.machine,
                {"path": path, "index": command.index, "generation": command.generation},
                False,
                dirty=True,
            )
            queue.append((child_id, Start(command.input, self.now)))
        elif isinstance(command, CancelChildren):
            self._cancel(node.id, command.generation)
        elif isinstance(command, Finish):
            self._finished(node, command, queue)

    def _finished(self, node: Node, finish: Finish, queue: deque[tuple[str, Event]]) -> None:
        if node.parent_id is None:
            self.finished = finish  # a finished root leaves nothing running below it
            self.gone |= {i for i in self.nodes if i != node.id}
            self.work = []
            return
        self.gone.add(node.id)
        assert node.branch is not None
        index, generation = node.branch["index"], node.branch["generation"]
        event: Event
        if finish.status == "SUCCEEDED":
            event = ChildSucceeded(index, finish.output, self.now, generation)
        else:
            event = ChildFailed(index, finish.error or "", finish.cause or "", self.now, generation)
        queue.append((node.parent_id, event))

    def _cancel(self, parent_id: str, generation: str) -> None:
        doomed = [
            n.id
            for n in self.nodes.values()
            if n.parent_id == parent_id and n.branch and n.branch["generation"] == generation
        ]
        persisted = [
            child
            for child, branch in self.repo.children_of(self.conn, [parent_id])
            if branch and branch["generation"] == generation
        ]
        level = sorted(set(doomed) | set(persisted))
        while level:
            self.gone.update(level)
            below = {n.id for n in self.nodes.values() if n.parent_id in level}
            below |= {child for child, _ in self.repo.children_of(self.conn, level)}
            level = sorted(below - self.gone)

    def _work(self, node: Node, kind: str, body: dict[str, Any], token: str | None, due: datetime) -> None:
        self.work.append(
            {
                "work_id": new_id(),
                "root_id": self.root_row.execution_id,
                "execution_id": node.id,
                "kind": kind,
                "body": body,
                "token": token,
                "due_at": due,
                "attempts": 0,
            }
        )

    def _machine_at(self, path: list[list[Any]]) -> StateMachine:
        machine = self.root_machine
        for state_name, index in path:
            machine = machine.state(state_name).branches[index]
        return machine

    # --- storing ----------------------------------------------------------------------------------
    def write(self, *, history_extra: list[HistoryEvent] | None = None) -> list[dict[str, Any]]:
        """Store snapshots, new children and history; returns the new work rows, for the caller
        to lease (or not) and add."""
        conn, repo, root = self.conn, self.repo, self.root
        if history_extra:
            self.history.extend(history_extra)
        unwritten = {i for i, n in self.nodes.items() if not n.persisted}
        if self.finished is not None:
            repo.delete_executions(conn, repo.tree(conn, root.id))
            repo.drop_work(conn, root.id)
        else:
            repo.delete_executions(conn, sorted(self.gone - unwritten))
        new_rows = []
        for node in self.nodes.values():
            if node.id in self.gone or node is root or not node.dirty:
                continue
            values = {"snapshot": snapshot_of(node.execution), "status": node.execution.status}
            if node.persisted:
                repo.update_execution(conn, node.id, values)
            else:
                new_rows.append(self._child_row(node))
        repo.insert_executions(conn, new_rows)
        first = self.root_row.history_length + 1
        repo.append_history(conn, root.id, first, self.history)
        repo.update_execution(conn, root.id, self._root_values(first + len(self.history) - 1))
        return [w for w in self.work if w["execution_id"] not in self.gone]

    def _root_values(self, history_length: int) -> dict[str, Any]:
        execution = self.root.execution
        values: dict[str, Any] = {
            "snapshot": snapshot_of(execution),
            "status": execution.status,
            "history_length": history_length,
            "redrive_count": execution.redrive_count,
        }
        if execution.status == RUNNING:
            values.update(output=None, error=None, cause=None, stopped_at=None)
        else:
            values.update(
                output=execution.output, error=execution.error, cause=execution.cause, stopped_at=self.now
            )
        return values

    def _child_row(self, node: Node) -> dict[str, Any]:
        root = self.root_row
        return {
            "execution_id": node.id,
            "root_id": root.execution_id,
            "parent_id": node.parent_id,
            "state_machine": root.state_machine,
            "revision": root.revision,
            "name": node.id,
            "status": node.execution.status,
            "input": None,
            "output": None,
            "error": None,
            "cause": None,
            "started_at": self.now,
            "stopped_at": None,
            "snapshot": snapshot_of(node.execution),
            "branch": node.branch,
            "history_length": 0,
            "redrive_count": 0,
            "callback": None,
        }


def _timer(command: StartTimer) -> Event:
    return TimerFired(command.until)


def _task_body(command: InvokeTask, execution: Execution) -> dict[str, Any]:
    return {
        "resource": command.resource,
        "input": command.input,
        "timeout_seconds": command.timeout_seconds,
        "heartbeat_seconds": command.heartbeat_seconds,
        "task_token": execution.task_token,
    }
