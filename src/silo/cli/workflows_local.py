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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from silo.accounts import AccountSpec
from silo.bench.stats import scratch_settings
from silo.errors import ValidationError
from silo.functions import FunctionSettings, zip_directory
from silo.platform import AccountHandle, Platform
from silo.platform.workflow_tasks import FunctionTasks
from silo.workflows.errors import TASK_FAILED, StatesError
from silo.workflows.local import TaskHandler

DEFAULT_HANDLER = "app.handler"
FUNCTION_CONFIG = "function.json"
_CONFIG_KEYS = {"handler", "timeout", "memory_size", "environment"}


def no_functions(resource: str, input: Any) -> Any:
    """The task handler when no functions were given: every Task fails with ``States.TaskFailed``."""
    del input
    raise StatesError(
        TASK_FAILED, f"{resource}: no functions were given to run this Task (use --functions-dir DIR)"
    )


@contextmanager
def local_functions(functions_dir: Path) -> Iterator[TaskHandler]:
    """Deploy each subdirectory of ``functions_dir`` in a throwaway platform; yield the task handler.

    The platform is closed and its temporary home removed on the way out, whatever happens. The
    functions run in the sandbox ``SILO_SANDBOX`` and ``SILO_SANDBOX_SHARED_DIRS`` describe, as a
    server's would (``scratch_settings`` reads them).

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
            yield FunctionTasks(handle.functions)
        finally:
            platform.close()


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
