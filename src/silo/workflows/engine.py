"""``WorkflowsEngine``: the platform-wide parts of the workflows service, shared by every account.

It owns no account's data: each account reaches it through its own ``Workflows`` scope. It keeps
the parsed-definition cache, the durable work queue and its one dispatcher, and the task kinds
the platform registers (functions, events, nested workflows). Push, not poll: a step that makes
work due now hands it to this process's dispatcher after its commit; a step that makes work due
later (a Wait, a retry delay, a timeout) wakes the dispatcher, which sleeps until the earliest.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from threading import Lock
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa

from silo.store import Store, utcnow
from silo.telemetry import Metrics
from silo.transport import Dispatcher
from silo.workflows.definition import StateMachine, parse_definition
from silo.workflows.interpreter import TaskFailed, TaskSucceeded
from silo.workflows.work_queue import WorkItem, WorkQueue, work_item

if TYPE_CHECKING:
    from silo.workflows.service import Workflows

MACHINE_CACHE_SIZE = 1024


@dataclass(frozen=True, slots=True)
class TaskRequest:
    """A Task state's call: ``resource`` with ``input``, for one attempt of one execution."""

    resource: str
    input: Any
    timeout_seconds: int | None
    heartbeat_seconds: int | None
    task_token: str
    execution_id: str
    root_id: str
    token: str | None


@dataclass(frozen=True, slots=True)
class Deferred:
    """A task whose answer comes later (a callback, a nested execution): ``write`` runs in the
    transaction that retires the task."""

    write: Callable[[sa.Connection], None] | None = None


TaskOutcome = TaskSucceeded | TaskFailed | Deferred


class TaskRunner(Protocol):
    def run(self, scope: Workflows, request: TaskRequest) -> TaskOutcome: ...


class WorkflowsEngine:
    def __init__(
        self,
        store: Store,
        metrics: Metrics,
        *,
        workers: int = 8,
        lease: timedelta = timedelta(minutes=16),
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.queue = WorkQueue(store)
        self.dispatcher: Dispatcher[WorkItem] = Dispatcher(
            self.queue, self.process, workers=workers, lease=lease, name="silo-workflows"
        )
        self._scope_for: Callable[[str], Workflows] | None = None
        self.tasks: TaskRunner | None = None
        self._machines: OrderedDict[tuple[str, str], StateMachine] = OrderedDict()
        self._lock = Lock()

    def bind(self, scope_for: Callable[[str], Workflows], tasks: TaskRunner) -> None:
        """The platform says how to act inside an account and who runs Task states."""
        self._scope_for = scope_for
        self.tasks = tasks

    def resume(self) -> None:
        """After a restart: running executions carry on from their last committed step."""
        if self.queue.pending():
            self.dispatcher.wake()

    def close(self) -> None:
        self.dispatcher.stop()

    def process(self, item: WorkItem) -> None:
        assert self._scope_for is not None, "bind was not called"
        self._scope_for(item.account_id).work(item)

    def machine(self, account: str, revision: str, load: Callable[[], str]) -> StateMachine:
        """The parsed definition of a revision (revisions never change, so caching is safe)."""
        key = (account, revision)
        with self._lock:
            found = self._machines.get(key)
            if found is not None:
                self._machines.move_to_end(key)
                return found
        machine = parse_definition(load())
        with self._lock:
            self._machines[key] = machine
            while len(self._machines) > MACHINE_CACHE_SIZE:
                self._machines.popitem(last=False)
        return machine

    def accepted(self, conn: sa.Connection, account: str, rows: Sequence[dict[str, Any]]) -> None:
        """New work rows of a step: lease what is due now to this process and hand it over after
        the commit (no claim); wake the dispatcher for what is due later."""
        if not rows:
            return
        now = utcnow()
        mine: list[WorkItem] = []
        later = False
        for row in rows:
            if row["due_at"] <= now and self.dispatcher.can_take():
                row["due_at"] = now + self.dispatcher.lease
                mine.append(work_item(account, row))
            else:
                later = True

        def hand_over() -> None:
            for item in mine:
                self.dispatcher.offer(item)
            if later:
                self.dispatcher.wake()

        self.store.after_commit(conn, hand_over)
