"""Workflows: the pure engines behind Step Functions-style state machines (no database, no I/O).

* :func:`parse_definition` / :class:`StateMachine`: an Amazon States Language definition, checked
  (every problem an :class:`InvalidDefinition` naming its JSON path) and made immutable;
* :func:`step` / :func:`new_execution`: the interpreter, a deterministic step machine that turns
  (definition, execution state, event) into the next state, the commands to carry out (invoke a
  task, start a timer, start Map/Parallel children, finish) and the history events to append;
* :func:`run_local`: a synchronous in-memory driver that runs an execution to completion.

The engines under them are modules of their own: :mod:`silo.workflows.paths` (JSONPath input and
output processing), :mod:`silo.workflows.intrinsics` (``States.Format`` and friends),
:mod:`silo.workflows.choice` (Choice rules), :mod:`silo.workflows.expressions` (JSONata).
Failures inside an execution are :class:`StatesError` values carrying an ASL error name.
"""

from silo.workflows.definition import QueryLanguage, State, StateMachine, parse_definition
from silo.workflows.errors import InvalidDefinition, StatesError
from silo.workflows.interpreter import Execution, ExecutionInfo, Step, new_execution, step
from silo.workflows.local import run_local

__all__ = [
    "Execution",
    "ExecutionInfo",
    "InvalidDefinition",
    "QueryLanguage",
    "State",
    "StateMachine",
    "StatesError",
    "Step",
    "new_execution",
    "parse_definition",
    "run_local",
    "step",
]
