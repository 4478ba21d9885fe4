"""The guardrail actions a resource change takes, and the facts guardrails see about it: the same
actions and facts as the API calls that would make the change by hand."""

from __future__ import annotations

from silo.events.stack_rows import RULE_KINDS, SCHEDULER_TYPE, given_targets, rule_location
from silo.stacks.models import Change
from silo.stacks.planning import Desired

_ACTIONS = {
    "function": ("functions:Create", "functions:Update", "functions:Delete"),
    "state_machine": ("states:CreateStateMachine", "states:UpdateStateMachine", "states:DeleteStateMachine"),
    "rule": ("events:PutRule", "events:PutRule", "events:DeleteRule"),
    "schedule": ("events:PutRule", "events:PutRule", "events:DeleteRule"),
    "event_bus": ("events:CreateEventBus", "events:UpdateEventBus", "events:DeleteEventBus"),
    "table": ("dynamodb:CreateTable", "dynamodb:UpdateTable", "dynamodb:DeleteTable"),
    "event_source": (
        "lambda:CreateEventSourceMapping",
        "lambda:UpdateEventSourceMapping",
        "lambda:DeleteEventSourceMapping",
    ),
}
_SCHEDULER = ("scheduler:CreateSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule")


def actions(change: Change) -> list[str]:
    """A rule put by hand is PutRule then PutTargets; a Scheduler schedule is one call."""
    index = ("Add", "Modify", "Remove").index(change.action)
    if change.type == SCHEDULER_TYPE:
        return [_SCHEDULER[index]]
    found = [_ACTIONS[change.kind][index]]
    if change.kind in RULE_KINDS and change.action != "Remove":
        found.append("events:PutTargets")
    return found


def facts(account: str, change: Change, want: Desired | None) -> dict[str, object]:
    """``want``: what the resource becomes (``None`` for a removal)."""
    found: dict[str, object] = {"ResourceType": change.type, "Name": change.physical_name}
    if change.kind == "event_bus":
        found["EventBusName"] = change.physical_name
    elif change.kind == "state_machine":
        found["StateMachineName"] = change.physical_name
    elif change.kind == "table":
        found["TableName"] = change.physical_name
    elif change.kind == "event_source" and want is not None:
        found.update(FunctionName=want.properties["function"], TableName=want.properties["table"])
    elif change.kind in RULE_KINDS:
        scheduler = change.type == SCHEDULER_TYPE
        found["ScheduleName" if scheduler else "RuleName"] = change.physical_name
        if want is not None:
            bus = rule_location(want.type, want.kind, want.properties)[0]
            found.update({"GroupName": "default"} if scheduler else {"EventBusName": bus})
            targets = given_targets(account, want.logical_id, want.kind, want.properties)
            found["TargetArns"] = [str(t["arn"]) for t in targets]
    elif change.kind == "function":
        found["FunctionName"] = change.physical_name
        if want is not None:
            p = want.properties
            found.update(
                MemorySize=p["memory_size"], Timeout=p["timeout"], Runtime=p["runtime"], Handler=p["handler"]
            )
            if p.get("reserved_concurrency") is not None:
                found["ReservedConcurrency"] = p["reserved_concurrency"]
    return found
