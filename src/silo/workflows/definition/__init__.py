"""ASL definitions: :func:`parse_definition` checks one and builds its immutable model.

Every problem raises :class:`~silo.workflows.errors.InvalidDefinition`, whose message starts with
the JSON path of the problem: ``$.States.Check.Next: state "Nope" does not exist``.
"""

from silo.workflows.definition._model import (
    Catcher,
    QueryLanguage,
    Retrier,
    State,
    StateMachine,
)
from silo.workflows.definition._parse import parse_definition

__all__ = ["Catcher", "QueryLanguage", "Retrier", "State", "StateMachine", "parse_definition"]
