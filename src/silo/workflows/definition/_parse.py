"""Parse and check a definition into a :class:`StateMachine`, raising :class:`InvalidDefinition`."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from silo.workflows.definition import _checks
from silo.workflows.definition import _values as v
from silo.workflows.definition._fields import (
    MAX_NAME,
    MAX_SECONDS,
    STATE_TYPES,
    TERMINAL,
    allowed_fields,
    other_language_fields,
)
from silo.workflows.definition._model import QueryLanguage, State, StateMachine
from silo.workflows.errors import InvalidDefinition

_TOP = {"Comment", "StartAt", "States", "TimeoutSeconds", "Version", "QueryLanguage"}
_NESTED = {"Comment", "StartAt", "States", "QueryLanguage"}
_PROCESSOR_MODES = ("INLINE",)


def parse_definition(source: str | Mapping[str, Any]) -> StateMachine:
    """Check an ASL definition (JSON text or an object) and build its immutable model.

    Raises:
        InvalidDefinition: the first problem found, its message starting with the JSON path.
    """
    if isinstance(source, str):
        try:
            data = json.loads(source)
        except json.JSONDecodeError as error:
            raise InvalidDefinition("$", f"not valid JSON: {error}") from None
    elif isinstance(source, Mapping):
        data = copy.deepcopy(dict(source))
    else:
        data = source
    return _machine(data, "$", None, _TOP)


def _language(body: dict[str, Any], where: str, inherited: QueryLanguage | None) -> QueryLanguage:
    value = body.get("QueryLanguage")
    if value is None:
        return inherited or QueryLanguage.JSONPATH
    if value not in ("JSONPath", "JSONata"):
        raise InvalidDefinition(v.at(where, "QueryLanguage"), "must be JSONPath or JSONata")
    language = QueryLanguage(value)
    if inherited is QueryLanguage.JSONATA and language is QueryLanguage.JSONPATH:
        raise InvalidDefinition(
            v.at(where, "QueryLanguage"), "cannot be JSONPath inside a JSONata state machine"
        )
    return language


def _machine(data: Any, where: str, inherited: QueryLanguage | None, fields: set[str]) -> StateMachine:
    if not isinstance(data, dict):
        raise InvalidDefinition(where, "a state machine must be a JSON object")
    for key in data:
        if key not in fields:
            raise InvalidDefinition(v.at(where, key), "unknown field")
    language = _language(data, where, inherited)
    start = data.get("StartAt")
    if not isinstance(start, str) or not start:
        raise InvalidDefinition(v.at(where, "StartAt"), "required: the name of the first state")
    body = data.get("States")
    if not isinstance(body, dict) or not body:
        raise InvalidDefinition(v.at(where, "States"), "required: a non-empty object of states")
    v.integer(data, "TimeoutSeconds", where, 1, MAX_SECONDS)
    states_at = v.at(where, "States")
    states: dict[str, State] = {}
    edges: dict[str, list[str]] = {}
    for name, state_body in body.items():
        state, targets = _state(name, state_body, v.at(states_at, name), language)
        for key, target in targets:
            if target not in body:
                raise InvalidDefinition(key, f'state "{target}" does not exist')
        states[name] = state
        edges[name] = [target for _, target in targets]
    if start not in body:
        raise InvalidDefinition(v.at(where, "StartAt"), f'state "{start}" does not exist')
    _reachable(start, edges, states_at)
    return StateMachine(
        start,
        MappingProxyType(states),
        language,
        data.get("TimeoutSeconds"),
        data.get("Comment", ""),
        MappingProxyType(data),
    )


def _reachable(start: str, edges: dict[str, list[str]], states_at: str) -> None:
    seen = {start}
    todo = [start]
    while todo:
        for target in edges[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    for name in edges:
        if name not in seen:
            raise InvalidDefinition(v.at(states_at, name), f'state "{name}" is not reachable from StartAt')


def _state(name: str, body: Any, where: str, inherited: QueryLanguage) -> tuple[State, list[tuple[str, str]]]:
    """The state and its transitions as (JSON path of the field, target state name)."""
    if len(name) > MAX_NAME or not name:
        raise InvalidDefinition(where, f"a state name has 1 to {MAX_NAME} characters")
    if not isinstance(body, dict):
        raise InvalidDefinition(where, "a state must be a JSON object")
    kind = body.get("Type")
    if kind not in STATE_TYPES:
        raise InvalidDefinition(v.at(where, "Type"), f"unknown state type {kind!r}")
    language = _language(body, where, inherited)
    allowed = allowed_fields(kind, language)
    for key in body:
        if key in allowed:
            continue
        if key in other_language_fields(kind, language):
            raise InvalidDefinition(v.at(where, key), f"not allowed in a {language.value} state")
        if key in ("Next", "End"):
            raise InvalidDefinition(v.at(where, key), f"a {kind} state cannot have {key}")
        raise InvalidDefinition(v.at(where, key), f"unknown field in a {kind} state")
    targets = _transitions(body, kind, where)
    _common(body, where, language)
    branches: tuple[StateMachine, ...] = ()
    if kind == "Task":
        _checks.check_task(body, where, language)
    elif kind == "Choice":
        _checks.check_choice(body, where, language)
        rules_at = v.at(where, "Choices")
        for index, rule in enumerate(body["Choices"]):
            targets.append((v.at(v.at(rules_at, index), "Next"), rule["Next"]))
        if "Default" in body:
            targets.append((v.at(where, "Default"), body["Default"]))
    elif kind == "Wait":
        _checks.check_wait(body, where, language)
    elif kind == "Fail":
        _checks.check_fail(body, where, language)
    elif kind == "Parallel":
        branches = _branches(body, where, language)
    elif kind == "Map":
        _checks.check_map(body, where, language)
        key = "ItemProcessor" if "ItemProcessor" in body else "Iterator"
        branches = (_processor(body[key], v.at(where, key), language),)
    retry = _checks.parse_retry(body, where)
    catch = _checks.parse_catch(body, where, language)
    for index, catcher in enumerate(catch):
        targets.append((v.at(v.at(v.at(where, "Catch"), index), "Next"), catcher.next))
    state = State(
        name,
        kind,
        language,
        MappingProxyType(body),
        body.get("Next"),
        body.get("End") is True,
        retry,
        catch,
        branches,
    )
    return state, targets


def _transitions(body: dict[str, Any], kind: str, where: str) -> list[tuple[str, str]]:
    if kind in TERMINAL:
        return []
    if "Next" in body and "End" in body:
        raise InvalidDefinition(v.at(where, "End"), "a state has either Next or End, not both")
    if "Next" in body:
        if not isinstance(body["Next"], str):
            raise InvalidDefinition(v.at(where, "Next"), "must be a state name")
        return [(v.at(where, "Next"), body["Next"])]
    if body.get("End") is not True:
        raise InvalidDefinition(v.at(where, "Next"), f"a {kind} state needs Next or End: true")
    return []


def _common(body: dict[str, Any], where: str, language: QueryLanguage) -> None:
    for key in ("InputPath", "OutputPath"):
        v.path_field(body, key, where, reference=False, nullable=True)
    v.path_field(body, "ResultPath", where, reference=True, nullable=True)
    for key in ("Parameters", "ResultSelector", "Output"):
        v.template(body, key, where, language)
    v.assign(body, where, language)


def _branches(body: dict[str, Any], where: str, language: QueryLanguage) -> tuple[StateMachine, ...]:
    branches = body.get("Branches")
    at = v.at(where, "Branches")
    if not isinstance(branches, list) or not branches:
        raise InvalidDefinition(at, "a Parallel state needs a non-empty Branches array")
    return tuple(
        _machine(branch, v.at(at, index), language, _NESTED) for index, branch in enumerate(branches)
    )


def _processor(body: Any, where: str, language: QueryLanguage) -> StateMachine:
    if isinstance(body, dict) and "ProcessorConfig" in body:
        config = body["ProcessorConfig"]
        if not isinstance(config, dict) or config.get("Mode", "INLINE") not in _PROCESSOR_MODES:
            raise InvalidDefinition(v.at(where, "ProcessorConfig"), "only the INLINE Mode is supported")
    return _machine(body, where, language, _NESTED | {"ProcessorConfig"})
