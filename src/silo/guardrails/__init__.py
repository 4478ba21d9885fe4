"""Guardrails: deny policies attached to the root, OUs and accounts, inherited down the tree."""

from silo.guardrails.policy import (
    AttachedPolicy,
    Denial,
    Policy,
    Statement,
    action_matches,
    check,
    evaluate,
    parse_policy,
    validate_action_name,
)
from silo.guardrails.service import Guardrail, Guardrails, check_policy_id

__all__ = [
    "AttachedPolicy",
    "Denial",
    "Guardrail",
    "Guardrails",
    "Policy",
    "Statement",
    "action_matches",
    "check",
    "check_policy_id",
    "evaluate",
    "parse_policy",
    "validate_action_name",
]
