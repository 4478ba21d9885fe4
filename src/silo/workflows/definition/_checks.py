"""Checks specific to each state type, and ``Retry``/``Catch`` parsing."""

from __future__ import annotations

from typing import Any

from silo.workflows import choice, expressions
from silo.workflows.definition import _values as v
from silo.workflows.definition._fields import MAX_DELAY, MAX_SECONDS
from silo.workflows.definition._model import UNSET, Catcher, QueryLanguage, Retrier
from silo.workflows.errors import ALL, InvalidDefinition

_RETRY_FIELDS = {
    "ErrorEquals",
    "IntervalSeconds",
    "MaxAttempts",
    "BackoffRate",
    "MaxDelaySeconds",
    "JitterStrategy",
    "Comment",
}
_DISTRIBUTED = ("ItemReader", "ItemBatcher", "ResultWriter")


def check_task(body: dict[str, Any], where: str, language: QueryLanguage) -> None:
    if not isinstance(body.get("Resource"), str) or not body["Resource"]:
        raise InvalidDefinition(v.at(where, "Resource"), "a Task needs a Resource string")
    for name in ("TimeoutSeconds", "HeartbeatSeconds"):
        v.exclusive(body, where, name, f"{name}Path")
        v.integer(body, name, where, 1, MAX_SECONDS)
        v.path_field(body, f"{name}Path", where, reference=True, nullable=False)
    timeout, heartbeat = body.get("TimeoutSeconds"), body.get("HeartbeatSeconds")
    if isinstance(timeout, int) and isinstance(heartbeat, int) and heartbeat >= timeout:
        raise InvalidDefinition(v.at(where, "HeartbeatSeconds"), "must be smaller than TimeoutSeconds")
    v.template(body, "Arguments", where, language)
    v.template(body, "Credentials", where, language)


def check_choice(body: dict[str, Any], where: str, language: QueryLanguage) -> None:
    """Check ``Choices`` and ``Default``."""
    rules = body.get("Choices")
    if not isinstance(rules, list) or not rules:
        raise InvalidDefinition(v.at(where, "Choices"), "a Choice state needs a non-empty Choices array")
    for index, rule in enumerate(rules):
        rule_at = v.at(v.at(where, "Choices"), index)
        if language is QueryLanguage.JSONATA:
            _check_condition_rule(rule, rule_at)
        else:
            try:
                choice.check_rule(rule, rule_at, top=True)
            except ValueError as error:
                path, _, reason = str(error).partition(": ")
                raise InvalidDefinition(path, reason) from None
            v.assign(rule, rule_at, language)
    if "Default" in body and not isinstance(body["Default"], str):
        raise InvalidDefinition(v.at(where, "Default"), "must be a state name")


def _check_condition_rule(rule: Any, where: str) -> None:
    if not isinstance(rule, dict):
        raise InvalidDefinition(where, "a choice rule must be an object")
    for key in rule:
        if key not in {"Condition", "Next", "Comment", "Output", "Assign"}:
            raise InvalidDefinition(v.at(where, key), "not allowed in a JSONata choice rule (use Condition)")
    if "Condition" not in rule:
        raise InvalidDefinition(v.at(where, "Condition"), "a JSONata choice rule needs a Condition")
    if not (isinstance(rule["Condition"], bool) or expressions.is_expression(rule["Condition"])):
        raise InvalidDefinition(v.at(where, "Condition"), "must be a {% ... %} expression or a boolean")
    if not isinstance(rule.get("Next"), str):
        raise InvalidDefinition(v.at(where, "Next"), "a top-level choice rule needs Next")
    v.template(rule, "Condition", where, QueryLanguage.JSONATA)
    v.template(rule, "Output", where, QueryLanguage.JSONATA)
    v.assign(rule, where, QueryLanguage.JSONATA)


def check_wait(body: dict[str, Any], where: str, language: QueryLanguage) -> None:
    keys = ("Seconds", "Timestamp", "SecondsPath", "TimestampPath")
    v.exclusive(body, where, *keys, required=True)
    v.integer(body, "Seconds", where, 0, MAX_SECONDS)
    stamp = body.get("Timestamp")
    if stamp is not None and not expressions.is_expression(stamp) and choice.parse_timestamp(stamp) is None:
        raise InvalidDefinition(v.at(where, "Timestamp"), f"{stamp!r} is not an RFC 3339 timestamp")
    for key in ("SecondsPath", "TimestampPath"):
        v.path_field(body, key, where, reference=True, nullable=False)
    for key in ("Seconds", "Timestamp"):
        v.template(body, key, where, language)


def check_fail(body: dict[str, Any], where: str, language: QueryLanguage) -> None:
    v.exclusive(body, where, "Error", "ErrorPath")
    v.exclusive(body, where, "Cause", "CausePath")
    for key in ("Error", "Cause"):
        v.string_or_expression(body, key, where)
    for key in ("ErrorPath", "CausePath"):
        v.path_or_call(body, key, where)


def check_map(body: dict[str, Any], where: str, language: QueryLanguage) -> None:
    for key in _DISTRIBUTED:
        if key in body:
            raise InvalidDefinition(v.at(where, key), "the distributed Map is not supported")
    v.exclusive(body, where, "ItemProcessor", "Iterator", required=True)
    v.exclusive(body, where, "ItemSelector", "Parameters")
    v.path_field(body, "ItemsPath", where, reference=True, nullable=False)
    v.template(body, "ItemSelector", where, language)
    v.template(body, "Items", where, language)
    items = body.get("Items")
    if items is not None and not (isinstance(items, list) or expressions.is_expression(items)):
        raise InvalidDefinition(v.at(where, "Items"), "must be an array or a {% ... %} expression")
    v.exclusive(body, where, "MaxConcurrency", "MaxConcurrencyPath")
    v.integer(body, "MaxConcurrency", where, 0, MAX_SECONDS)
    v.exclusive(body, where, "ToleratedFailurePercentage", "ToleratedFailurePercentagePath")
    v.exclusive(body, where, "ToleratedFailureCount", "ToleratedFailureCountPath")
    v.integer(body, "ToleratedFailureCount", where, 0, MAX_SECONDS)
    percentage = body.get("ToleratedFailurePercentage")
    if percentage is not None and not expressions.is_expression(percentage):
        _percentage(percentage, v.at(where, "ToleratedFailurePercentage"))
    for key in ("MaxConcurrencyPath", "ToleratedFailurePercentagePath", "ToleratedFailureCountPath"):
        v.path_field(body, key, where, reference=True, nullable=False)


def _percentage(value: Any, where: str) -> None:
    if not v.is_number(value) or not 0 <= value <= 100:
        raise InvalidDefinition(where, "must be a number from 0 to 100")


def parse_retry(body: dict[str, Any], where: str) -> tuple[Retrier, ...]:
    entries = _entries(body, "Retry", where)
    retriers: list[Retrier] = []
    for index, entry in enumerate(entries):
        entry_at = v.at(v.at(where, "Retry"), index)
        _only(entry, _RETRY_FIELDS, entry_at)
        names = _error_equals(entry, entry_at, last=index == len(entries) - 1)
        v.integer(entry, "IntervalSeconds", entry_at, 1, MAX_SECONDS)
        v.integer(entry, "MaxAttempts", entry_at, 0, MAX_SECONDS)
        v.integer(entry, "MaxDelaySeconds", entry_at, 1, MAX_DELAY)
        rate = entry.get("BackoffRate", 2.0)
        if not v.is_number(rate) or rate < 1.0:
            raise InvalidDefinition(v.at(entry_at, "BackoffRate"), "must be a number >= 1.0")
        jitter = entry.get("JitterStrategy", "NONE")
        if jitter not in ("FULL", "NONE"):
            raise InvalidDefinition(v.at(entry_at, "JitterStrategy"), "must be FULL or NONE")
        retriers.append(
            Retrier(
                names,
                entry.get("IntervalSeconds", 1),
                entry.get("MaxAttempts", 3),
                float(rate),
                entry.get("MaxDelaySeconds"),
                jitter,
            )
        )
    return tuple(retriers)


def parse_catch(body: dict[str, Any], where: str, language: QueryLanguage) -> tuple[Catcher, ...]:
    entries = _entries(body, "Catch", where)
    fields = {"ErrorEquals", "Next", "Comment", "Assign"}
    fields |= {"Output"} if language is QueryLanguage.JSONATA else {"ResultPath"}
    catchers: list[Catcher] = []
    for index, entry in enumerate(entries):
        entry_at = v.at(v.at(where, "Catch"), index)
        _only(entry, fields, entry_at)
        names = _error_equals(entry, entry_at, last=index == len(entries) - 1)
        if not isinstance(entry.get("Next"), str):
            raise InvalidDefinition(v.at(entry_at, "Next"), "a catcher needs Next")
        v.path_field(entry, "ResultPath", entry_at, reference=True, nullable=True)
        v.template(entry, "Output", entry_at, language)
        v.assign(entry, entry_at, language)
        catchers.append(
            Catcher(
                names,
                entry["Next"],
                entry.get("ResultPath", "$"),
                entry.get("Output", UNSET),
                entry.get("Assign", UNSET),
            )
        )
    return tuple(catchers)


def _entries(body: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    entries = body.get(key, [])
    if not isinstance(entries, list):
        raise InvalidDefinition(v.at(where, key), "must be an array")
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise InvalidDefinition(v.at(v.at(where, key), index), "must be an object")
    return entries


def _only(entry: dict[str, Any], fields: set[str], where: str) -> None:
    for key in entry:
        if key not in fields:
            raise InvalidDefinition(v.at(where, key), "unknown field")


def _error_equals(entry: dict[str, Any], where: str, *, last: bool) -> tuple[str, ...]:
    names = entry.get("ErrorEquals")
    at = v.at(where, "ErrorEquals")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
        raise InvalidDefinition(at, "must be a non-empty array of error names")
    if ALL in names and len(names) > 1:
        raise InvalidDefinition(at, "States.ALL must appear alone")
    if ALL in names and not last:
        raise InvalidDefinition(at, "States.ALL must be in the last entry")
    return tuple(names)
