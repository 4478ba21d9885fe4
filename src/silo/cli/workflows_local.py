"""Task states against real functions, in a throwaway embedded platform: ``silo workflows run-local``.

This module does I/O for :mod:`silo.workflows` (a temporary ``SILO_HOME``, a SQLite
store, execution environments), so it lives with the CLI, not in that pure package. :func:`local_functions`
deploys every subdirectory of a folder as a function of a fresh account and yields the
``task_handler`` that :func:`silo.workflows.run_local` calls for each Task:

* ``Resource`` names a function of that account: ``arn:silo:lambda:local:ACCOUNT:function:NAME``,
  ``arn:aws:lambda:REGION:ACCOUNT:function:NAME`` (either with ``:QUALIFIER``), or the plain name;
* ``arn:aws:states:::lambda:invoke`` is the Step Functions Lambda integration: the function is
  ``input["FunctionName"]`` (``Qualifier`` optional), the event ``input["Payload"]``, and the result
  ``{"Payload": <result>, "StatusCode": 200}``.

A function's error becomes a :class:`StatesError` named after its ``errorType`` (so ``Retry`` and
``Catch`` match the function's own exception class, as on Step Functions); its timeout is
``States.Timeout``; an unknown function, or any other refusal, ``States.TaskFailed``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from silo.accounts import AccountSpec
from silo.bench.stats import scratch_settings
from silo.errors import NotFound, SiloError, Throttled, ValidationError
from silo.functions import FunctionSettings, InvokeOutcome, zip_directory
from silo.platform import AccountHandle, Platform
from silo.workflows.errors import TASK_FAILED, TIMEOUT, StatesError
from silo.workflows.local import TaskHandler

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
DEFAULT_HANDLER = "app.handler"
FUNCTION_CONFIG = "function.json"
_CONFIG_KEYS = {"handler", "timeout", "memory_size", "environment"}
_TIMED_OUT = "Sandbox.Timedout"
_THROTTLED = "Lambda.TooManyRequestsException"
_FUNCTION_ARN = re.compile(
    r"^arn:(?:silo|aws):lambda:[a-z0-9-]+:\d{12}:function:"
    r"(?P<name>[A-Za-z0-9_-]{1,64})(?::(?P<qualifier>\$LATEST|[A-Za-z0-9_-]{1,128}))?$"
)
_PLAIN_NAME = re.compile(r"^(?P<name>[A-Za-z0-9_-]{1,64})(?::(?P<qualifier>\$LATEST|[A-Za-z0-9_-]{1,128}))?$")


def no_functions(resource: str, input: Any) -> Any:
    """The task handler when no functions were given: every Task fails with ``States.TaskFailed``."""
    del input
    raise StatesError(
        TASK_FAILED, f"{resource}: no functions were given to run this Task (use --functions-dir DIR)"
    )


@contextmanager
def local_functions(functions_dir: Path) -> Iterator[TaskHandler]:
    """Deploy each subdirectory of ``functions_dir`` in a throwaway platform; yield the task handler.

    The platform is closed and its temporary home removed on the way out, whatever happens.

    Raises:
        ValidationError: a function directory or its ``function.json`` is not valid.
    """
    with scratch_settings() as settings:
        platform = Platform.open(settings)
        try:
            handle = _account(platform)
            for directory in sorted(functions_dir.iterdir()):
                if directory.is_dir() and not directory.name.startswith((".", "__")):
                    handle.functions.create(directory.name, zip_directory(directory), _settings(directory))
            yield FunctionTasks(handle)
        finally:
            platform.close()


class FunctionTasks:
    """A ``task_handler`` that invokes the functions of one account synchronously."""

    def __init__(self, handle: AccountHandle) -> None:
        self.handle = handle

    def __call__(self, resource: str, input: Any) -> Any:
        if resource == LAMBDA_INVOKE:
            if not isinstance(input, dict) or not isinstance(input.get("FunctionName"), str):
                raise StatesError(TASK_FAILED, f"{LAMBDA_INVOKE}: the input needs a FunctionName string")
            name, qualifier = _function(input["FunctionName"])
            qualifier = input.get("Qualifier", qualifier)
            payload = self.invoke(name, qualifier, input.get("Payload"), "Payload" in input)
            return {"Payload": payload, "StatusCode": 200}
        name, qualifier = _function(resource)
        return self.invoke(name, qualifier, input, True)

    def invoke(self, name: str, qualifier: str | None, event: Any, given: bool) -> Any:
        """``name``'s result on ``event`` (an empty event when not ``given``), decoded from JSON."""
        body = json.dumps(event).encode() if given else None
        try:
            outcome = self.handle.functions.invoke(name, body, qualifier=qualifier)
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


def _function(resource: str) -> tuple[str, str | None]:
    found = _FUNCTION_ARN.match(resource) or _PLAIN_NAME.match(resource)
    if found is None:
        raise StatesError(
            TASK_FAILED,
            f"{resource}: not a function of this account (expected a function name or ARN, "
            f"or {LAMBDA_INVOKE}); function not found",
        )
    return found["name"], found["qualifier"]


def _account(platform: Platform) -> AccountHandle:
    init = platform.initialise()
    assert init is not None  # a fresh home
    management = platform.management(platform.authenticate(init.root_key.token))
    account = management.create_account(AccountSpec("run-local", "run-local@silo.invalid"))
    token = management.issue_account_key(account.account_id, "run-local").token
    return platform.account(platform.authenticate(token))


def _settings(directory: Path) -> FunctionSettings:
    """The directory's ``function.json`` (handler, timeout, memory_size, environment), if any."""
    path = directory / FUNCTION_CONFIG
    if not path.is_file():
        return FunctionSettings(handler=DEFAULT_HANDLER)
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValidationError(f"{path}: not a readable JSON file ({exc})", field=str(path)) from None
    if not isinstance(config, dict):
        raise ValidationError(f"{path}: expected a JSON object", field=str(path))
    unknown = sorted(set(config) - _CONFIG_KEYS)
    if unknown:
        raise ValidationError(
            f"{path}: unknown keys {', '.join(unknown)} (known: {', '.join(sorted(_CONFIG_KEYS))})",
            field=str(path),
        )
    return FunctionSettings(
        handler=config.get("handler", DEFAULT_HANDLER),
        timeout=config.get("timeout"),
        memory_size=config.get("memory_size"),
        environment=config.get("environment"),
    )
