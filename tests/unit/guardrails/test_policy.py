"""Tests for the guardrail policy engine, mostly driven by the JSON fixtures next to this file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from silo.errors import GuardrailDenied, InvalidPolicy
from silo.guardrails.policy import (
    MAX_DOCUMENT_CHARS,
    MAX_STATEMENTS,
    AttachedPolicy,
    Denial,
    Policy,
    action_matches,
    check,
    evaluate,
    parse_policy,
    validate_action_name,
)

FIXTURES = Path(__file__).parent / "fixtures"


def _cases(name: str) -> list[Any]:
    cases: list[dict[str, Any]] = json.loads((FIXTURES / name).read_text())
    names = [case["name"] for case in cases]
    assert len(names) == len(set(names)), f"duplicate case names in {name}"
    return [pytest.param(case, id=case["name"]) for case in cases]


def _attach(
    document: object, policy_id: str = "gr-1", name: str = "test", target: str = "r-root"
) -> AttachedPolicy:
    return AttachedPolicy(policy_id=policy_id, name=name, target=target, policy=parse_policy(document))


@pytest.mark.parametrize("case", _cases("evaluate.json"))
def test_evaluate(case: dict[str, Any]) -> None:
    denial = evaluate([_attach(case["policy"])], case["action"], case["facts"])
    assert (denial is not None) == case["denied"]
    if denial is not None:
        assert denial.action == case["action"]
        if "sid" in case:
            assert denial.sid == case["sid"]


@pytest.mark.parametrize("case", _cases("invalid.json"))
def test_invalid(case: dict[str, Any]) -> None:
    with pytest.raises(InvalidPolicy) as caught:
        parse_policy(case["policy"])
    error = caught.value
    assert error.code == "InvalidPolicy"
    assert error.http_status == 400
    if "path" in case:
        assert error.details["path"] == case["path"]
        assert error.message.startswith(f"{case['path'] or 'policy document'}: ")
    if "path_contains" in case:
        assert case["path_contains"] in error.details["path"]
    assert case["message_contains"] in error.message


@pytest.mark.parametrize("case", _cases("parse.json"))
def test_parse_normalises(case: dict[str, Any]) -> None:
    policy = parse_policy(case["policy"])
    assert policy.document == case["document"]
    assert parse_policy(policy.document) == policy  # the normalised form parses to the same policy


def test_fixture_counts() -> None:
    assert len(_cases("evaluate.json")) >= 40
    assert len(_cases("invalid.json")) >= 20


def _deny_all(sid: str) -> dict[str, Any]:
    return {"Statement": [{"Sid": sid, "Effect": "Deny", "Action": "functions:*"}]}


def test_first_denial_follows_root_then_ous_then_account() -> None:
    path = [
        _attach({"Statement": [{"Effect": "Deny", "Action": "tables:*"}]}, "gr-root", "root", "r-root"),
        _attach(_deny_all("TopOu"), "gr-top", "top", "ou-top00001"),
        _attach(_deny_all("LeafOu"), "gr-leaf", "leaf", "ou-leaf0001"),
        _attach(_deny_all("Account"), "gr-acct", "acct", "123456789012"),
    ]
    assert evaluate(path, "functions:Create", {}) == Denial(
        "gr-top", "top", "ou-top00001", "TopOu", "functions:Create"
    )
    denial = evaluate(path[2:], "functions:Create", {})
    assert denial is not None
    assert (denial.target, denial.sid) == ("ou-leaf0001", "LeafOu")
    assert evaluate(path[:1], "functions:Create", {}) is None
    assert evaluate([], "functions:Create", {}) is None


def test_denial_message() -> None:
    denial = Denial("gr-123", "max-memory", "ou-abc12345", "NoBigFunctions", "functions:Create")
    assert denial.message == (
        "Action functions:Create is denied by guardrail 'max-memory' (gr-123) "
        "statement 'NoBigFunctions' attached to ou-abc12345"
    )


def test_check_raises_guardrail_denied_with_details() -> None:
    attached = _attach(
        {
            "Statement": [
                {
                    "Sid": "NoBigFunctions",
                    "Effect": "Deny",
                    "Action": "functions:Create",
                    "Condition": {"NumericGreaterThan": {"MemorySize": 1024}},
                }
            ]
        },
        "gr-123",
        "max-memory",
        "ou-abc12345",
    )
    check([attached], "functions:Create", {"MemorySize": 512})
    with pytest.raises(GuardrailDenied) as caught:
        check([attached], "functions:Create", {"MemorySize": 2048})
    assert caught.value.http_status == 403
    assert caught.value.message.startswith("Action functions:Create is denied by guardrail 'max-memory'")
    assert caught.value.details == {
        "policy_id": "gr-123",
        "policy_name": "max-memory",
        "sid": "NoBigFunctions",
        "target": "ou-abc12345",
        "action": "functions:Create",
    }


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        ("*", "functions:Create", True),
        ("functions:*", "functions:Create", True),
        ("functions:*", "tables:Create", False),
        ("functions:Create", "functions:create", True),
        ("functions:Get?", "functions:GetX", True),
        ("functions:Get?", "functions:Get", False),
        ("functions:Create", "functions:CreateAlias", False),
        ("tables:Put*", "tables:PutItem", True),
    ],
)
def test_action_matches(pattern: str, action: str, expected: bool) -> None:
    assert action_matches(pattern, action) is expected


def test_action_matches_rejects_bad_patterns() -> None:
    with pytest.raises(InvalidPolicy):
        action_matches("functions", "functions:Create")


@pytest.mark.parametrize("name", ["functions:Create", "event-rules:PutRule", "s3:GetObject", "tables:Query2"])
def test_validate_action_name_accepts(name: str) -> None:
    validate_action_name(name)


@pytest.mark.parametrize(
    "name",
    ["functions:*", "functions:Get?", "*", "Functions:Create", "functions:", ":Create", "functions:2Go"],
)
def test_validate_action_name_rejects(name: str) -> None:
    with pytest.raises(ValueError, match="invalid action name"):
        validate_action_name(name)


def test_document_size_limit() -> None:
    patterns = ["functions:" + "A" * 90 for _ in range(50)]
    big = {"Statement": [{"Effect": "Deny", "Action": patterns}]}
    size = len(json.dumps(big, separators=(",", ":")))
    assert size > MAX_DOCUMENT_CHARS
    with pytest.raises(InvalidPolicy, match=f"limit is {MAX_DOCUMENT_CHARS}") as caught:
        parse_policy(big)
    assert caught.value.details["path"] == ""
    # Shorten the last pattern so the document is exactly at the limit: still accepted.
    patterns[-1] = patterns[-1][: len(patterns[-1]) - (size - MAX_DOCUMENT_CHARS)]
    assert len(json.dumps(big, separators=(",", ":"))) == MAX_DOCUMENT_CHARS
    assert len(parse_policy(big).statements[0].actions) == 50


def test_statement_count_limit() -> None:
    statements = [{"Effect": "Deny", "Action": "*"} for _ in range(MAX_STATEMENTS + 1)]
    with pytest.raises(InvalidPolicy, match="the limit is 50") as caught:
        parse_policy({"Statement": statements})
    assert caught.value.details["path"] == "Statement"
    assert len(parse_policy({"Statement": statements[:MAX_STATEMENTS]}).statements) == MAX_STATEMENTS


def test_document_that_is_not_json() -> None:
    with pytest.raises(InvalidPolicy, match="not representable as JSON"):
        parse_policy({"Statement": [{"Effect": "Deny", "Action": {"functions:Create"}}]})


def test_policy_is_frozen_comparable_and_hashable() -> None:
    document = {"Statement": [{"Effect": "Deny", "Action": "*", "Condition": {"StringLike": {"A": "x*"}}}]}
    first, second = parse_policy(document), parse_policy(document)
    assert first == second
    assert hash(first) == hash(second)
    assert isinstance(first, Policy)
    with pytest.raises(AttributeError):
        first.statements = ()  # type: ignore[misc]


def test_parse_does_not_mutate_the_input() -> None:
    document = {"Statement": {"Effect": "Deny", "Action": "*"}}
    snapshot = json.dumps(document)
    parse_policy(document)
    assert json.dumps(document) == snapshot


def test_facts_may_be_tuples_and_sets() -> None:
    attached = _attach(
        {"Statement": [{"Effect": "Deny", "Action": "*", "Condition": {"StringEquals": {"T": "b"}}}]}
    )
    assert evaluate([attached], "x:Y", {"T": ("a", "b")}) is not None
    assert evaluate([attached], "x:Y", {"T": frozenset({"a"})}) is None


@pytest.mark.parametrize("facts", [{"T": {"nested": 1}}, {"T": ["a", None]}, {"T": object()}])
def test_unsupported_fact_values_are_a_programming_error(facts: dict[str, object]) -> None:
    with pytest.raises(TypeError, match="guardrail fact 'T'"):
        evaluate([_attach({"Statement": [{"Effect": "Deny", "Action": "*"}]})], "x:Y", facts)


def test_fact_keys_differing_only_in_case_are_refused() -> None:
    with pytest.raises(ValueError, match="differ only in case"):
        evaluate(
            [_attach({"Statement": [{"Effect": "Deny", "Action": "*"}]})], "x:Y", {"Stage": "a", "stage": "b"}
        )
