"""What a workflow's Task states can call, each acting inside the execution's own account.

* a function of the account: ``Resource`` is its name, ``arn:silo:lambda:REGION:ACCOUNT:function:NAME``
  or ``arn:aws:lambda:...`` (either with ``:QUALIFIER``), called synchronously;
* ``arn:aws:states:::lambda:invoke``: the function is ``FunctionName``, the event ``Payload``, the
  result ``{"Payload": ..., "StatusCode": 200}``; with ``.waitForTaskToken`` the function is invoked
  asynchronously and the state waits for ``SendTaskSuccess``/``SendTaskFailure`` with the token;
* ``arn:aws:states:::events:putEvents``: ``Entries`` onto the account's buses (a failed entry
  fails the task with ``EventBridge.FailedEntry``); ``.waitForTaskToken`` as above;
* ``arn:aws:states:::states:startExecution``: a nested execution of the account's
  ``StateMachineArn`` with ``Input`` (and ``Name``); ``.sync`` waits for it and returns its
  description with ``Output`` as JSON text, ``.sync:2`` with ``Output`` as JSON;
* ``arn:aws:states:::dynamodb:getItem`` (``putItem``, ``updateItem``, ``deleteItem``) and
  ``arn:aws:states:::aws-sdk:dynamodb:...`` (those and ``query``, ``scan``): the account's tables,
  with DynamoDB's requests and responses (:mod:`silo.platform.table_tasks`).

``arn:silo:states:::...`` is accepted for every ``arn:aws:states:::...``. A function's error
becomes the task's error named after its ``errorType`` (so ``Retry``/``Catch`` match the
function's own exception class, as on Step Functions); its timeout is ``States.Timeout``; an unknown
function, or any other refusal, ``States.TaskFailed``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from silo.errors import NotFound, SiloError, Throttled
from silo.events.service import Events
from silo.functions import Functions, InvokeOutcome
from silo.platform import table_tasks
from silo.platform.account_factory import AccountFactory
from silo.store import utcnow
from silo.tables.service import Tables
from silo.workflows.engine import Deferred, TaskOutcome, TaskRequest
from silo.workflows.errors import TASK_FAILED, TIMEOUT, StatesError
from silo.workflows.interpreter import WAIT_FOR_TASK_TOKEN, TaskFailed, TaskSucceeded
from silo.workflows.service import Workflows

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
PUT_EVENTS = "arn:aws:states:::events:putEvents"
START_EXECUTION = "arn:aws:states:::states:startExecution"
_TIMED_OUT = "Sandbox.Timedout"
_THROTTLED = "Lambda.TooManyRequestsException"
_FUNCTION_ARN = re.compile(
    r"^arn:(?:silo|aws):lambda:[a-z0-9-]+:(?P<account>\d{12}):function:"
    r"(?P<name>[A-Za-z0-9_-]{1,64})(?::(?P<qualifier>\$LATEST|[A-Za-z0-9_-]{1,128}))?$"
)
_PLAIN_NAME = re.compile(r"^(?P<name>[A-Za-z0-9_-]{1,64})(?::(?P<qualifier>\$LATEST|[A-Za-z0-9_-]{1,128}))?$")
_PATTERNS = (".sync:2", ".sync", WAIT_FOR_TASK_TOKEN)


class FunctionTasks:
    """Calls of the functions of one account, as Task states make them."""

    def __init__(self, functions: Functions) -> None:
        self.functions = functions

    def __call__(self, resource: str, input: Any) -> Any:
        """The ``task_handler`` of :func:`silo.workflows.run_local`: a synchronous call."""
        if resource == LAMBDA_INVOKE:
            name, qualifier, payload, given = _lambda_invoke(input)
            return {"Payload": self.invoke(name, qualifier, payload, given), "StatusCode": 200}
        name, qualifier = function_of(resource)
        return self.invoke(name, qualifier, input, True)

    def invoke(self, name: str, qualifier: str | None, event: Any, given: bool) -> Any:
        """``name``'s result on ``event`` (an empty event when not ``given``), decoded from JSON."""
        body = json.dumps(event).encode() if given else None
        try:
            outcome = self.functions.invoke(name, body, qualifier=qualifier)
        except NotFound as exc:
            raise StatesError(TASK_FAILED, exc.message) from None
        except Throttled as exc:
            raise StatesError(_THROTTLED, exc.message) from None
        except SiloError as exc:
            raise StatesError(TASK_FAILED, f"{exc.code}: {exc.message}") from None
        assert isinstance(outcome, InvokeOutcome)  # a RequestResponse invocation
        if outcome.error is not None:
            error = str(outcome.error.get("errorType") or TASK_FAILED)
            cause = str(outcome.error.get("errorMessage") or "")
            raise StatesError(TIMEOUT if error == _TIMED_OUT else error, cause)
        if not outcome.payload:
            return None
        try:
            return json.loads(outcome.payload)
        except ValueError:
            raise StatesError(TASK_FAILED, f"function {name} returned a result that is not JSON") from None

    def invoke_async(self, name: str, qualifier: str | None, event: Any) -> None:
        try:
            self.functions.invoke(
                name, json.dumps(event).encode(), invocation_type="Event", qualifier=qualifier
            )
        except SiloError as exc:
            raise StatesError(TASK_FAILED, f"{exc.code}: {exc.message}") from None


class WorkflowTasks:
    """The platform's :class:`silo.workflows.engine.TaskRunner`."""

    def __init__(
        self,
        functions_for: Callable[[str], Functions],
        events_for: Callable[[str], Events],
        factory: AccountFactory | None = None,
        *,
        tables_for: Callable[[str], Tables] | None = None,
    ) -> None:
        self._functions_for = functions_for
        self._events_for = events_for
        self._factory = factory
        self._tables_for = tables_for

    def run(self, scope: Workflows, request: TaskRequest) -> TaskOutcome:
        try:
            return self._run(scope, request)
        except StatesError as error:
            return TaskFailed(error.error, error.cause, utcnow())

    def _run(self, scope: Workflows, request: TaskRequest) -> TaskOutcome:
        resource = request.resource.replace("arn:silo:states:::", "arn:aws:states:::", 1)
        base, pattern = _split(resource)
        account = scope.account_id
        if base == LAMBDA_INVOKE and pattern in ("", WAIT_FOR_TASK_TOKEN):
            tasks = FunctionTasks(self._functions_for(account))
            name, qualifier, payload, given = _lambda_invoke(request.input, account)
            if pattern:
                tasks.invoke_async(name, qualifier, payload)
                return Deferred()
            return _done({"Payload": tasks.invoke(name, qualifier, payload, given), "StatusCode": 200})
        if base == PUT_EVENTS and pattern in ("", WAIT_FOR_TASK_TOKEN):
            result = self._put_events(account, request.input)
            return Deferred() if pattern else _done(result)
        if self._factory is not None and self._factory.handles(account, request.resource):
            return _done(self._factory.run(request.resource, request.input))
        if base == START_EXECUTION:
            return self._start_execution(scope, request, pattern)
        if self._tables_for is not None and table_tasks.handles(base):
            return _done(table_tasks.run_table_task(self._tables_for(account), base, pattern, request.input))
        if pattern or base.startswith("arn:aws:states:::"):
            raise StatesError(TASK_FAILED, f"{request.resource}: not a task resource Silo runs")
        name, qualifier = function_of(base, account)
        return _done(FunctionTasks(self._functions_for(account)).invoke(name, qualifier, request.input, True))

    def _put_events(self, account: str, input: Any) -> dict[str, Any]:
        if not isinstance(input, dict) or not isinstance(input.get("Entries"), list):
            raise StatesError(TASK_FAILED, f"{PUT_EVENTS}: the input needs an Entries list")
        # Step Functions takes Detail as a JSON object and sends it as text
        entries = [
            {**e, "Detail": json.dumps(e["Detail"])}
            if isinstance(e, dict) and isinstance(e.get("Detail"), dict)
            else e
            for e in input["Entries"]
        ]
        try:
            result = self._events_for(account).put_events(entries)
        except SiloError as exc:
            raise StatesError(TASK_FAILED, f"{exc.code}: {exc.message}") from None
        if result.failed_entry_count:
            raise StatesError("EventBridge.FailedEntry", json.dumps({"Entries": result.entries}))
        return {"Entries": result.entries, "FailedEntryCount": 0}

    def _start_execution(self, scope: Workflows, request: TaskRequest, pattern: str) -> TaskOutcome:
        input = request.input
        if not isinstance(input, dict) or "StateMachineArn" not in input:
            raise StatesError(TASK_FAILED, f"{START_EXECUTION}: the input needs a StateMachineArn")
        child_input = input.get("Input", {})
        if isinstance(child_input, str):
            try:
                child_input = json.loads(child_input)
            except ValueError:
                raise StatesError(TASK_FAILED, f"{START_EXECUTION}: Input is not JSON") from None
        name = input.get("Name")
        if not pattern:
            started = _start(scope, input["StateMachineArn"], child_input, name, None, None)
            return _done({"ExecutionArn": started, "StartDate": utcnow().isoformat()})
        if pattern == WAIT_FOR_TASK_TOKEN:
            _start(scope, input["StateMachineArn"], child_input, name, None, None)
            return Deferred()
        machine = input["StateMachineArn"]
        try:  # checked now, so that a missing or foreign machine fails the task at once
            scope.describe_state_machine(machine)
        except SiloError as exc:
            raise StatesError(TASK_FAILED, f"{exc.code}: {exc.message}") from None
        callback = {
            "root_id": request.root_id,
            "execution_id": request.execution_id,
            "token": request.token,
            "form": "sync2" if pattern == ".sync:2" else "sync",
        }

        def write(conn: sa.Connection) -> None:
            _start(scope, input["StateMachineArn"], child_input, name, callback, conn)

        return Deferred(write)


def _start(
    scope: Workflows,
    machine: Any,
    input: Any,
    name: Any,
    callback: dict[str, Any] | None,
    conn: sa.Connection | None,
) -> str:
    try:
        return scope.start_execution(machine, input, name=name, callback=callback, conn=conn).arn
    except SiloError as exc:
        raise StatesError(TASK_FAILED, f"{exc.code}: {exc.message}") from None


def _done(output: Any) -> TaskSucceeded:
    return TaskSucceeded(output, utcnow())


def _split(resource: str) -> tuple[str, str]:
    for pattern in _PATTERNS:
        if resource.endswith(pattern):
            return resource[: -len(pattern)], pattern
    return resource, ""


def _lambda_invoke(input: Any, account: str | None = None) -> tuple[str, str | None, Any, bool]:
    if not isinstance(input, dict) or not isinstance(input.get("FunctionName"), str):
        raise StatesError(TASK_FAILED, f"{LAMBDA_INVOKE}: the input needs a FunctionName string")
    name, qualifier = function_of(input["FunctionName"], account)
    return name, input.get("Qualifier", qualifier), input.get("Payload"), "Payload" in input


def function_of(resource: str, account: str | None = None) -> tuple[str, str | None]:
    """(name, qualifier) of a function named by a Task's ``Resource``; an ARN must name a
    function of ``account`` (the execution's own), never another account's."""
    found = _FUNCTION_ARN.match(resource) or _PLAIN_NAME.match(resource)
    foreign = (
        found is not None and account is not None and found.groupdict().get("account", account) != account
    )
    if foreign:
        assert found is not None
        raise StatesError(
            TASK_FAILED,
            f"{resource}: a function of account {found['account']}; tasks call functions of their "
            f"own account ({account}) only",
        )
    if found is None:
        raise StatesError(
            TASK_FAILED,
            f"{resource}: not a function of this account (expected a function name or ARN, "
            f"or {LAMBDA_INVOKE}); function not found",
        )
    return found["name"], found["qualifier"]
