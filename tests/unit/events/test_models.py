"""PutRule/PutTargets input checks: names, target ARNs (same account only), retry policies."""

from __future__ import annotations

import pytest

from silo.errors import ValidationError
from silo.events.models import (
    RetryPolicy,
    TargetKind,
    TargetRef,
    bus_from,
    check_rule_name,
    retry_policy_from,
    rule_arn,
    target_ref,
)
from silo.events.throttle import InvocationRate
from silo.events.timer import rule_key, split_key

OWN = "123456789012"
OTHER = "210987654321"

GOOD_ARNS = [
    (f"arn:silo:lambda:local:{OWN}:function:scan", TargetRef(TargetKind.FUNCTION, "scan")),
    (f"arn:aws:lambda:us-east-1:{OWN}:function:scan:live", TargetRef(TargetKind.FUNCTION, "scan", "live")),
    (f"arn:silo:lambda:local:{OWN}:function:scan:$LATEST", TargetRef(TargetKind.FUNCTION, "scan", "$LATEST")),
    (f"arn:silo:events:local:{OWN}:event-bus/orders", TargetRef(TargetKind.BUS, "orders")),
    (f"arn:silo:events:local:{OWN}:event-bus/a/b.c", TargetRef(TargetKind.BUS, "a/b.c")),
    (f"arn:silo:states:local:{OWN}:stateMachine:flow", TargetRef(TargetKind.WORKFLOW, "flow")),
    (f"arn:aws:states:us-east-1:{OWN}:stateMachine:on-board_2", TargetRef(TargetKind.WORKFLOW, "on-board_2")),
]

BAD_ARNS = [
    ("scan", "not a function, event bus or state machine ARN"),
    (f"arn:silo:lambda:local:{OTHER}:function:scan", "targets must be in the rule's own account"),
    (f"arn:silo:lambda:local:{OWN}:layer:x", "not a function ARN"),
    (f"arn:silo:lambda:local:{OWN}:function:bad name", "not a function ARN"),
    (f"arn:silo:events:local:{OWN}:rule/x", "not an event bus ARN"),
    (f"arn:silo:states:local:{OTHER}:stateMachine:flow", "targets must be in the rule's own account"),
    (f"arn:silo:states:local:{OWN}:execution:flow:run", "not a state machine ARN"),
    (f"arn:silo:states:local:{OWN}:stateMachine:bad name", "not a state machine ARN"),
    (f"arn:silo:sqs:local:{OWN}:queue", "not a function, event bus or state machine ARN"),
    (42, "an ARN"),
]


@pytest.mark.parametrize(("arn", "expected"), GOOD_ARNS)
def test_target_arns_in_the_own_account(arn: str, expected: TargetRef) -> None:
    assert target_ref(arn, OWN) == expected


@pytest.mark.parametrize(("arn", "message"), BAD_ARNS)
def test_bad_target_arns_say_why(arn: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("'", ".")) as caught:
        target_ref(arn, OWN, "Targets[0].Arn")
    assert caught.value.message.startswith("Targets[0].Arn")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, RetryPolicy(185, 86400)),
        ({"MaximumRetryAttempts": 0}, RetryPolicy(0, 86400)),
        ({"MaximumEventAgeInSeconds": 60}, RetryPolicy(185, 60)),
    ],
)
def test_retry_policies(given: object, expected: RetryPolicy) -> None:
    assert retry_policy_from(given) == expected


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"MaximumRetryAttempts": 186}, "MaximumRetryAttempts"),
        ({"MaximumRetryAttempts": True}, "MaximumRetryAttempts"),
        ({"MaximumEventAgeInSeconds": 59}, "MaximumEventAgeInSeconds"),
        ({"MaximumEventAgeInSeconds": 86401}, "MaximumEventAgeInSeconds"),
        ({"Retries": 1}, "Retries"),
        ([], "RetryPolicy"),
    ],
)
def test_bad_retry_policies_name_the_field(given: object, field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        retry_policy_from(given)


def test_buses_by_name_or_own_arn_only() -> None:
    assert bus_from("orders", OWN) == "orders"
    assert bus_from(f"arn:silo:events:local:{OWN}:event-bus/orders", OWN) == "orders"
    with pytest.raises(ValidationError, match="another account"):
        bus_from(f"arn:silo:events:local:{OTHER}:event-bus/orders", OWN)
    for bad in ("", "has space", "x" * 257, "schedules:default", None):
        with pytest.raises(ValidationError):
            bus_from(bad, OWN)


def test_rule_names_and_arns() -> None:
    assert check_rule_name("a.b-c_1") == "a.b-c_1"
    for bad in ("", "a/b", "x" * 65, 7):
        with pytest.raises(ValidationError, match="Name"):
            check_rule_name(bad)
    assert rule_arn(OWN, "default", "r") == f"arn:silo:events:local:{OWN}:rule/r"
    assert rule_arn(OWN, "orders", "r") == f"arn:silo:events:local:{OWN}:rule/orders/r"
    assert rule_arn(OWN, "schedules:default", "r") == f"arn:silo:scheduler:local:{OWN}:schedule/default/r"


def test_timer_keys_round_trip_bus_names_with_slashes() -> None:
    assert split_key(rule_key(OWN, "a/b", "r")) == (OWN, "a/b", "r")
    assert split_key(rule_key(OWN, "schedules:default", "r")) == (OWN, "schedules:default", "r")


def test_invocation_rate_is_a_token_bucket_per_account() -> None:
    rate = InvocationRate(0.01, burst=3)
    assert rate.take(OWN, 5) == 3
    assert rate.take(OWN, 5) == 0
    assert rate.take(OTHER, 2) == 2  # another account has its own bucket
