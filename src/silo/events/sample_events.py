"""TestEventPattern: whether a pattern matches a sample event, both checked as EventBridge checks them.

    pattern_matches('{"source": ["shop"]}', '{"id": "1", "source": "shop", ...}')   # -> True

The pattern is compiled as PutRule compiles it (:func:`compile_pattern`). The event is JSON text or
an already parsed object, and must be an event envelope with ``id``, ``account``, ``source``,
``time``, ``region`` and ``detail-type``. EventBridge's API reference also lists ``resources``, but
TestEventPattern accepts events without it, and so does Silo. Both the CLI (no server) and the API
call this, so they agree on the answer and on the words of every error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from silo.errors import ValidationError
from silo.events.patterns import compile_pattern

REQUIRED_FIELDS = ("id", "account", "source", "time", "region", "detail-type")


def sample_event(event: Any) -> dict[str, Any]:
    """The event (JSON text or a parsed JSON value) as an object with every required field.

    Raises:
        ValidationError: ``event: Parameter Event is not valid: ...`` saying why (not JSON, not an
            object, or which required fields it lacks).
    """
    parsed = _loads(event) if isinstance(event, str) else event
    if not isinstance(parsed, Mapping):
        raise _invalid_event(f"it must be a JSON object, not {_json_type(parsed)}")
    missing = [field for field in REQUIRED_FIELDS if field not in parsed]
    if missing:
        raise _invalid_event(f"missing {', '.join(missing)} (required: {', '.join(REQUIRED_FIELDS)})")
    return dict(parsed)


def pattern_matches(pattern: Any, event: Any) -> bool:
    """Whether ``pattern`` matches ``event``; each is JSON text or a parsed JSON value.

    Raises:
        InvalidPattern: the pattern does not compile (the pattern is checked first).
        ValidationError: the event is not an event (see :func:`sample_event`).
    """
    # A parsed value that is not an object goes in as its text, for compile_pattern's own words.
    compiled = compile_pattern(pattern if isinstance(pattern, str | Mapping) else json.dumps(pattern))
    return compiled.matches(sample_event(event))


def _loads(text: str) -> Any:
    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not a JSON value")

    try:
        return json.loads(text, parse_constant=no_constants)
    except json.JSONDecodeError as error:
        raise _invalid_event(f"not JSON: {error.msg} (line {error.lineno}, column {error.colno})") from None
    except (ValueError, RecursionError) as error:
        raise _invalid_event(f"not JSON: {error or 'nested too deeply'}") from None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else type(value).__name__


def _invalid_event(reason: str) -> ValidationError:
    return ValidationError(f"event: Parameter Event is not valid: {reason}", field="event")
