"""Errors of the workflow engines.

    ValidationError (400)
    └── InvalidDefinition (400 InvalidDefinition)   an ASL definition that does not validate

    StatesError                                     a failure inside an execution (not a SiloError)

:class:`InvalidDefinition` names the JSON path of the problem and its message starts with it:
``$.States.Check.Next: state "Nope" does not exist``.

:class:`StatesError` is what a running state raises: it carries an ASL error name
(``States.Runtime``, ``States.IntrinsicFailure``, a function's own error name) and a cause. It is
the outcome of an execution, recorded in its history and matched by ``Retry``/``Catch``; it never
reaches an API client as such, hence not a :class:`silo.errors.SiloError`.
"""

from __future__ import annotations

from silo.errors import ValidationError

RUNTIME = "States.Runtime"
INTRINSIC_FAILURE = "States.IntrinsicFailure"
QUERY_EVALUATION = "States.QueryEvaluationError"
RESULT_PATH_MATCH = "States.ResultPathMatchFailure"
NO_CHOICE_MATCHED = "States.NoChoiceMatched"
TIMEOUT = "States.Timeout"
TASK_FAILED = "States.TaskFailed"
ALL = "States.ALL"
TOLERATED_FAILURE = "States.ExceedToleratedFailureThreshold"


class InvalidDefinition(ValidationError):
    """An ASL definition that does not validate; ``path`` is the JSON path of the problem."""

    code = "InvalidDefinition"

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}", path=path)
        self.path = path
        self.reason = reason


class StatesError(Exception):
    """A failure inside an execution: ``error`` is the ASL error name, ``cause`` says why."""

    def __init__(self, error: str, cause: str = "") -> None:
        super().__init__(f"{error}: {cause}" if cause else error)
        self.error = error
        self.cause = cause


def error_matches(names: tuple[str, ...], error: str) -> bool:
    """Whether a retrier's or catcher's ``ErrorEquals`` covers ``error``.

    ``States.ALL`` matches every error but ``States.Runtime`` (which is never retried or caught);
    ``States.TaskFailed`` matches every error but ``States.Timeout``.
    """
    if error == RUNTIME:
        return False
    return any(name in (error, ALL) or (name == TASK_FAILED and error != TIMEOUT) for name in names)
