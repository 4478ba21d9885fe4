"""The guardrail policy engine: deny-only policies attached to the root, OUs and accounts.

Pure (standard library only, no I/O). :func:`parse_policy` validates a JSON document and compiles its
action globs and conditions once; :func:`evaluate` and :func:`check` then test an action and its facts
against the policies on an account's path (root first, then each OU down to the account).

A document::

    {
      "Version": "2026-11-01",
      "Statement": [{
        "Sid": "NoBigFunctions",
        "Effect": "Deny",
        "Action": ["functions:Create", "functions:Update*"],
        "Condition": {"NumericGreaterThan": {"MemorySize": 1024}}
      }]
    }

Guardrails only restrict: ``Effect`` must be ``Deny`` and an action no statement denies stays allowed (by
the account's own permissions). A statement applies to an action that matches one of its ``Action``
patterns (or none of its ``NotAction`` patterns) when all of its conditions hold; condition semantics are
IAM's and are described in :mod:`silo.guardrails._conditions`. Action patterns are ``"*"`` or
``"service:Operation"`` with ``*``/``?`` wildcards in the operation, matched case-insensitively.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from silo.errors import GuardrailDenied, InvalidPolicy
from silo.guardrails._conditions import (
    Condition,
    glob_to_regex,
    invalid,
    normalise_facts,
    parse_conditions,
    show,
    suggest,
)

__all__ = [
    "MAX_DOCUMENT_CHARS",
    "MAX_STATEMENTS",
    "POLICY_VERSION",
    "AttachedPolicy",
    "Condition",
    "Denial",
    "Policy",
    "Statement",
    "action_matches",
    "check",
    "evaluate",
    "parse_policy",
    "validate_action_name",
]

POLICY_VERSION = "2026-11-01"
MAX_STATEMENTS = 50
MAX_DOCUMENT_CHARS = 5120

_TOP_KEYS = ["Statement", "Version"]
_STATEMENT_KEYS = ["Action", "Condition", "Effect", "NotAction", "Resource", "Sid"]
_SID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_PATTERN_RE = re.compile(r"\*|[a-z][a-z0-9-]*:[A-Za-z0-9*?]+")
_ACTION_NAME_RE = re.compile(r"[a-z][a-z0-9-]*:[A-Za-z][A-Za-z0-9]*")


@dataclass(frozen=True, slots=True)
class Statement:
    """One compiled deny statement.

    Exactly one of ``actions`` / ``not_actions`` is non-empty; ``conditions`` must all hold.
    """

    sid: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    conditions: tuple[Condition, ...]
    action_regex: re.Pattern[str] = field(repr=False, compare=False)

    def applies(self, action: str, facts: Mapping[str, tuple[Any, ...]]) -> bool:
        """Whether this statement denies ``action`` given facts normalised by ``normalise_facts``."""
        listed = self.action_regex.fullmatch(action) is not None
        if listed != bool(self.actions):
            return False
        return all(condition.holds(facts) for condition in self.conditions)


@dataclass(frozen=True, slots=True)
class Policy:
    """A parsed guardrail policy: compiled ``statements`` and the normalised ``document``.

    The document has ``Version`` set, ``Statement`` as a list, every ``Sid`` filled in,
    ``Action``/``NotAction`` as lists and every condition value as a list. Treat it as read-only.
    """

    statements: tuple[Statement, ...]
    document: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class AttachedPolicy:
    """A policy as attached to a ``target``: ``"r-root"``, an OU id or a 12-digit account id."""

    policy_id: str
    name: str
    target: str
    policy: Policy


@dataclass(frozen=True, slots=True)
class Denial:
    """Which attached policy and statement denied an action."""

    policy_id: str
    policy_name: str
    target: str
    sid: str
    action: str

    @property
    def message(self) -> str:
        """A sentence for the caller naming the action, guardrail, statement and attachment point."""
        return (
            f"Action {self.action} is denied by guardrail {self.policy_name!r} ({self.policy_id}) "
            f"statement {self.sid!r} attached to {self.target}"
        )


def _check_keys(raw: dict[Any, Any], allowed: list[str], path: str) -> None:
    for key in raw:
        if key not in allowed:
            where = f"{path}.{key}" if path else str(key)
            hint = suggest(str(key), allowed) or f"; expected one of {', '.join(allowed)}"
            raise invalid(where, f"unknown key {show(key)}{hint}")


def _compile_patterns(patterns: Sequence[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{glob_to_regex(p)})" for p in patterns), re.IGNORECASE | re.DOTALL)


def _parse_actions(raw: object, path: str) -> tuple[str, ...]:
    if isinstance(raw, str):
        items, paths = [raw], [path]
    elif isinstance(raw, list) and raw:
        items, paths = raw, [f"{path}[{i}]" for i in range(len(raw))]
    else:
        raise invalid(path, f"expected an action pattern or a non-empty list of them, got {show(raw)}")
    for item, item_path in zip(items, paths, strict=True):
        if not isinstance(item, str) or not _PATTERN_RE.fullmatch(item):
            raise invalid(
                item_path,
                f"invalid action pattern {show(item)}; expected '*', 'service:*' or 'service:Operation' "
                "(service in lower case; * and ? allowed in the operation)",
            )
    return tuple(items)


def _parse_statement(raw: object, index: int, seen: dict[str, int]) -> tuple[Statement, dict[str, Any]]:
    path = f"Statement[{index}]"
    if not isinstance(raw, dict):
        raise invalid(path, f"expected an object, got {show(raw)}")
    _check_keys(raw, _STATEMENT_KEYS, path)
    sid = raw.get("Sid", f"Statement{index}")
    if not isinstance(sid, str) or not _SID_RE.fullmatch(sid):
        raise invalid(f"{path}.Sid", f"expected 1-64 characters of A-Z, a-z, 0-9, _ or -, got {show(sid)}")
    if sid in seen:
        raise invalid(f"{path}.Sid", f"duplicate Sid {sid!r} (also used by Statement[{seen[sid]}])")
    seen[sid] = index
    effect = raw.get("Effect")
    if effect is None:
        raise invalid(f"{path}.Effect", 'missing; guardrail statements need "Effect": "Deny"')
    if effect == "Allow":
        raise invalid(
            f"{path}.Effect",
            "only 'Deny' is supported: guardrails only restrict, and whatever no guardrail denies is "
            "already allowed (subject to the account's own permissions)",
        )
    if effect != "Deny":
        raise invalid(f"{path}.Effect", f"expected 'Deny', got {show(effect)}")
    if ("Action" in raw) == ("NotAction" in raw):
        raise invalid(path, "needs exactly one of Action or NotAction")
    kind = "Action" if "Action" in raw else "NotAction"
    patterns = _parse_actions(raw[kind], f"{path}.{kind}")
    normalised: dict[str, Any] = {"Sid": sid, "Effect": "Deny", kind: list(patterns)}
    if "Resource" in raw:
        if raw["Resource"] not in ("*", ["*"]):
            raise invalid(f"{path}.Resource", f"only '*' is supported, got {show(raw['Resource'])}")
        normalised["Resource"] = "*"
    conditions: tuple[Condition, ...] = ()
    if "Condition" in raw:
        conditions, normalised["Condition"] = parse_conditions(raw["Condition"], f"{path}.Condition")
    actions, not_actions = (patterns, ()) if kind == "Action" else ((), patterns)
    statement = Statement(sid, actions, not_actions, conditions, _compile_patterns(patterns))
    return statement, normalised


def parse_policy(document: object) -> Policy:
    """Validate a guardrail policy document and compile it.

    Args:
        document: The decoded JSON document.

    Returns:
        The compiled policy, with its normalised document.

    Raises:
        InvalidPolicy: The document is not valid; the message starts with the path of the offending
            element (``Statement[1].Condition.NumericGreaterThan.MemorySize: ...``) and
            ``details["path"]`` holds that path (``""`` for the whole document).
    """
    if not isinstance(document, dict):
        raise invalid("", f"expected a JSON object, got {show(document)}")
    try:
        size = len(json.dumps(document, separators=(",", ":")))
    except (TypeError, ValueError) as exc:
        raise invalid("", f"not representable as JSON: {exc}") from None
    if size > MAX_DOCUMENT_CHARS:
        raise invalid("", f"the document is {size} characters; the limit is {MAX_DOCUMENT_CHARS}")
    _check_keys(document, _TOP_KEYS, "")
    if "Version" in document and document["Version"] != POLICY_VERSION:
        raise invalid("Version", f"expected {POLICY_VERSION!r}, got {show(document['Version'])}")
    if "Statement" not in document:
        raise invalid("Statement", "missing; a policy needs at least one statement")
    raw = document["Statement"]
    raw_statements = [raw] if isinstance(raw, dict) else raw
    if not isinstance(raw_statements, list) or not raw_statements:
        raise invalid("Statement", f"expected a statement or a non-empty list of them, got {show(raw)}")
    if len(raw_statements) > MAX_STATEMENTS:
        raise invalid("Statement", f"{len(raw_statements)} statements; the limit is {MAX_STATEMENTS}")
    seen: dict[str, int] = {}
    parsed = [_parse_statement(item, i, seen) for i, item in enumerate(raw_statements)]
    return Policy(
        statements=tuple(statement for statement, _ in parsed),
        document={"Version": POLICY_VERSION, "Statement": [doc for _, doc in parsed]},
    )


def evaluate(policies: Sequence[AttachedPolicy], action: str, facts: Mapping[str, object]) -> Denial | None:
    """Find the first statement that denies ``action``.

    Args:
        policies: The policies on the account's path, in order: root first, then each OU from the top
            down, then the account's own.
        action: The action being attempted, ``"service:Operation"``.
        facts: The condition keys of the request (``{"MemorySize": 2048, "Runtime": "python3.12"}``);
            a value may be a str, int, float, bool or a list of those (a multi-valued key).

    Returns:
        The first denial (in policy order, then statement order), or None if the action is allowed.
    """
    normalised = normalise_facts(facts)
    for attached in policies:
        for statement in attached.policy.statements:
            if statement.applies(action, normalised):
                return Denial(attached.policy_id, attached.name, attached.target, statement.sid, action)
    return None


def check(policies: Sequence[AttachedPolicy], action: str, facts: Mapping[str, object]) -> None:
    """Raise if any guardrail denies ``action``; see :func:`evaluate` for the arguments.

    Raises:
        GuardrailDenied: With the denial's message and ``policy_id``, ``policy_name``, ``sid``,
            ``target`` and ``action`` details.
    """
    denial = evaluate(policies, action, facts)
    if denial is not None:
        raise GuardrailDenied(
            denial.message,
            policy_id=denial.policy_id,
            policy_name=denial.policy_name,
            sid=denial.sid,
            target=denial.target,
            action=denial.action,
        )


@functools.lru_cache(maxsize=1024)
def _pattern_regex(pattern: str) -> re.Pattern[str]:
    if not _PATTERN_RE.fullmatch(pattern):
        raise InvalidPolicy(f"invalid action pattern {show(pattern)}", path="Action")
    return _compile_patterns([pattern])


def action_matches(pattern: str, action: str) -> bool:
    """Whether an action pattern (``"*"``, ``"functions:*"``, ``"functions:Get?"``) matches ``action``.

    Matching is case-insensitive, as in IAM.

    Raises:
        InvalidPolicy: ``pattern`` is not a valid action pattern.
    """
    return _pattern_regex(pattern).fullmatch(action) is not None


def validate_action_name(action: str) -> None:
    """Check an action name a service declares: ``"service:Operation"``, no wildcards.

    The service is lower case (``[a-z][a-z0-9-]*``), the operation alphanumeric and starting with a letter.

    Raises:
        ValueError: The name is not of that form.
    """
    if not isinstance(action, str) or not _ACTION_NAME_RE.fullmatch(action):
        raise ValueError(f"invalid action name {show(action)}; expected 'service:Operation'")
