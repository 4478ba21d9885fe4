"""A stack's rule, schedule and bus resources as event rows: where they live, what is checked."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from silo.errors import ValidationError
from silo.events.models import RuleState, TargetKind
from silo.events.stack_rows import (
    SCHEDULE_GROUP,
    SCHEDULER_TYPE,
    recorded_rule,
    rule_location,
    rule_row,
    schedule_target_id,
    stack_rule,
    target_rows,
)

ACCOUNT = "123456789012"
FUNCTION = f"arn:silo:lambda:local:{ACCOUNT}:function:shop-Recorder"
NOW = datetime(2025, 1, 1, tzinfo=UTC)


def rule(**changed: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "shop-Big",
        "event_bus": "default",
        "pattern": {"source": ["shop"]},
        "schedule": None,
        "enabled": True,
        "targets": [{"id": "rec", "arn": FUNCTION, "input": '{"big": true}'}],
    }
    return base | changed


def schedule(**changed: Any) -> dict[str, Any]:
    base = {"name": "shop-Nightly", "expression": "rate(1 day)", "input": None, "enabled": False}
    return base | {"target": "shop-Recorder"} | changed


def test_rows_of_a_rule() -> None:
    checked = stack_rule(ACCOUNT, "Big", "AWS::Events::Rule", "rule", rule())
    row = rule_row(ACCOUNT, "shop", checked, NOW)
    assert (row["bus_name"], row["name"], row["managed_by"], row["state"]) == (
        "default",
        "shop-Big",
        "shop",
        "ENABLED",
    )
    assert row["pattern"] == '{"source":["shop"]}' and row["schedule_expression"] is None
    [target] = target_rows(ACCOUNT, checked, NOW)
    assert target["input"] == {"Input": '{"big": true}'}
    assert target["retry_policy"] == {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400}


def test_schedules_live_on_the_default_bus_or_in_the_scheduler_group() -> None:
    assert rule_location("AWS::Events::Rule", "schedule", schedule()) == ("default", "shop-Nightly")
    assert rule_location(SCHEDULER_TYPE, "schedule", schedule()) == (SCHEDULE_GROUP, "shop-Nightly")
    checked = stack_rule(ACCOUNT, "RecorderNightly", SCHEDULER_TYPE, "schedule", schedule(input='{"a": 1}'))
    assert checked.bus == "schedules:default" and checked.state is RuleState.DISABLED
    assert checked.schedule is not None and checked.schedule.expression == "rate(1 day)"
    [target] = checked.targets
    assert (target.target_id, target.arn, target.input) == (
        "RecorderNightlyLambdaTarget",
        FUNCTION,
        {"Input": '{"a": 1}'},
    )
    removed = recorded_rule(SCHEDULER_TYPE, "schedule", schedule())
    assert removed.key == (SCHEDULE_GROUP, "shop-Nightly") and removed.schedule is not None


def test_long_target_ids_are_shortened() -> None:
    assert schedule_target_id("Fn") == "FnLambdaTarget"
    long = schedule_target_id("F" * 80)
    assert len(long) == 64 and long != schedule_target_id("F" * 81)


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        (rule(pattern={"source": "shop"}), r"^Resources\.Big\.Properties\.EventPattern: source: "),
        (
            rule(pattern=None, schedule="rate(0 minutes)"),
            r"^Resources\.Big\.Properties\.ScheduleExpression: ",
        ),
        (rule(targets=[{"id": "rec", "arn": FUNCTION}] * 6), r"at most 5 targets, got 6"),
        (
            rule(targets=[{"id": "x", "arn": FUNCTION.replace(ACCOUNT, "000000000000")}]),
            r"^Resources\.Big\.Properties\.Targets\[0\]\.Arn: .*rule's own account",
        ),
        (
            rule(targets=[{"id": "x", "arn": f"arn:silo:events:local:{ACCOUNT}:event-bus/default"}]),
            r"Targets\[0\]\.Arn: a rule cannot target its own bus",
        ),
        (
            rule(targets=[{"id": "x", "arn": f"arn:silo:events:local:{ACCOUNT}:event-bus/b", "input": "{}"}]),
            r"Targets\[0\]: an event bus target receives the event as it is",
        ),
    ],
)
def test_what_is_refused_names_the_resource(properties: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        stack_rule(ACCOUNT, "Big", "AWS::Events::Rule", "rule", properties)


def test_a_rule_may_start_a_state_machine_of_its_account() -> None:
    arn = f"arn:silo:states:local:{ACCOUNT}:stateMachine:onboarding"
    checked = stack_rule(ACCOUNT, "Big", "AWS::Events::Rule", "rule", rule(targets=[{"id": "m", "arn": arn}]))
    assert [(t.ref.kind, t.ref.name) for t in checked.targets] == [(TargetKind.WORKFLOW, "onboarding")]
    other = rule(targets=[{"id": "m", "arn": arn.replace(ACCOUNT, "210987654321")}])
    with pytest.raises(ValidationError, match=r"Targets\[0\]\.Arn: .* targets must be in the rule's own"):
        stack_rule(ACCOUNT, "Big", "AWS::Events::Rule", "rule", other)
