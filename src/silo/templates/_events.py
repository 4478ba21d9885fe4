"""SAM function ``Events``: the schedule, rule and event source resources they generate.

``Schedule``/``ScheduleV2`` become a ``schedule`` resource and ``EventBridgeRule``/``CloudWatchEvent`` a
``rule`` targeting the function; ``DynamoDB`` an ``event_source`` (``AWS::Lambda::EventSourceMapping``)
that sends a table's stream to the function. Each is named ``{Function}{Event}`` and depends on the
function (which itself depends on whatever its events reference, so the order stays right).
"""

from __future__ import annotations

import re
from typing import Any

from silo.templates import _names
from silo.templates._checks import (
    boolean,
    check_keys,
    integer,
    join,
    json_object,
    json_text,
    mapping,
    matching,
    one_of,
    show,
    text,
)
from silo.templates._resources import (
    TARGET_ID,
    TARGET_ID_TEXT,
    Generated,
    bus_name,
    enabled_from_state,
    rule_arn,
)
from silo.templates._scope import Scope
from silo.templates.model import TemplateError

_SCHEDULE = re.compile(r"(rate|cron)\(.+\)")
_SCHEDULE_V2 = re.compile(r"(rate|cron|at)\(.+\)")
EVENT_TYPES = {
    "Schedule": ("Schedule", "Input", "Enabled", "State", "Name", "Description"),
    "ScheduleV2": ("ScheduleExpression", "Input", "State", "Name", "Description"),
    "EventBridgeRule": ("Pattern", "EventBusName", "Input", "RuleName", "State", "Target"),
    "CloudWatchEvent": ("Pattern", "EventBusName", "Input", "RuleName", "State", "Target"),
    # MaximumBatchingWindowInSeconds and ParallelizationFactor are accepted and ignored (tuning only)
    "DynamoDB": (
        "Stream",
        "StartingPosition",
        "BatchSize",
        "MaximumRetryAttempts",
        "MaximumBatchingWindowInSeconds",
        "ParallelizationFactor",
    ),
}
_LOGICAL_ID = re.compile(r"[A-Za-z0-9]+")
_MAX_ATTEMPTS = 10


def check_events(events: object, path: str) -> dict[str, Any]:
    """Static checks on a SAM function's ``Events``: names, types and property names."""
    found = mapping(events, path)
    for name, event in found.items():
        where = join(path, name)
        if not _LOGICAL_ID.fullmatch(name):
            raise TemplateError(where, "event names are letters and digits (they name a generated resource)")
        check_keys(mapping(event, where), ("Type", "Properties"), where)
        kind = event.get("Type")
        if not isinstance(kind, str) or kind not in EVENT_TYPES:
            raise TemplateError(
                join(where, "Type"),
                f"event type {show(kind)} is not supported in Silo (supported: {', '.join(EVENT_TYPES)})",
            )
        check_keys(
            mapping(event.get("Properties", {}), join(where, "Properties")),
            EVENT_TYPES[kind],
            join(where, "Properties"),
        )
    return found


def expand_events(
    value: object, function_id: str, function_name: str, scope: Scope, path: str
) -> tuple[Generated, ...]:
    """The resources a function's resolved ``Events`` generate, in the order they are written."""
    generated = []
    for event_name, event in mapping(value, path).items():
        where = join(path, f"{event_name}.Properties")
        props = mapping(event.get("Properties", {}), where)
        logical_id = f"{function_id}{event_name}"
        if event["Type"] in ("Schedule", "ScheduleV2"):
            generated.append(_schedule(event["Type"], logical_id, props, function_name, scope, where))
        elif event["Type"] == "DynamoDB":
            generated.append(_table_stream(logical_id, props, function_name, scope, where))
        else:
            generated.append(_rule(logical_id, props, scope, where))
    return tuple(generated)


def _schedule(
    kind: str, logical_id: str, props: dict[str, Any], function_name: str, scope: Scope, path: str
) -> Generated:
    if kind == "Schedule":
        key, pattern, what = "Schedule", _SCHEDULE, "rate(...) or cron(...)"
    else:
        key, pattern, what = "ScheduleExpression", _SCHEDULE_V2, "rate(...), cron(...) or at(...)"
    expression = matching(props.get(key), pattern, what, join(path, key))
    name = _names.physical_name(props, "Name", scope.stack, logical_id, _names.RULE_NAME, path)
    if "Enabled" in props and "State" in props:
        raise TemplateError(path, "give Enabled or State, not both")
    if "Enabled" in props:
        enabled = boolean(props["Enabled"], join(path, "Enabled"))
    else:
        enabled = enabled_from_state(props, path)
    if kind == "Schedule":
        resource_type, arn = "AWS::Events::Rule", rule_arn("default", name)
    else:
        resource_type, arn = "AWS::Scheduler::Schedule", _names.Arn("scheduler", f"schedule/default/{name}")
    properties = {
        "name": name,
        "expression": expression,
        "input": json_text(props["Input"], join(path, "Input")) if "Input" in props else None,
        "enabled": enabled,
        "target": function_name,
    }
    return Generated(logical_id, resource_type, "schedule", name, arn, properties)


def _rule(logical_id: str, props: dict[str, Any], scope: Scope, path: str) -> Generated:
    if "Pattern" not in props:
        raise TemplateError(join(path, "Pattern"), "required")
    name = _names.physical_name(props, "RuleName", scope.stack, logical_id, _names.RULE_NAME, path)
    bus = bus_name(props.get("EventBusName", "default"), scope, join(path, "EventBusName"))
    target_props = mapping(props.get("Target", {}), join(path, "Target"))
    check_keys(target_props, ("Id",), join(path, "Target"))
    target_id = f"{logical_id}LambdaTarget"
    if "Id" in target_props:
        target_id = matching(target_props["Id"], TARGET_ID, TARGET_ID_TEXT, join(path, "Target.Id"))
    given = json_text(props["Input"], join(path, "Input")) if "Input" in props else None
    properties = {
        "name": name,
        "event_bus": bus,
        "pattern": json_object(props["Pattern"], join(path, "Pattern")),
        "schedule": None,
        "enabled": enabled_from_state(props, path),
    }
    return Generated(
        logical_id, "AWS::Events::Rule", "rule", name, rule_arn(bus, name), properties, (target_id, given)
    )


def _table_stream(
    logical_id: str, props: dict[str, Any], function_name: str, scope: Scope, path: str
) -> Generated:
    """A table's stream to the function. ``max_attempts`` counts every delivery of a batch: the
    retries (``MaximumRetryAttempts``, 0 to 9, default 2) and the first one; -1 (AWS: until the
    records expire) is the most Silo makes, 10."""
    if "Stream" not in props:
        raise TemplateError(join(path, "Stream"), "required: the table's stream (!GetAtt Table.StreamArn)")
    stream = text(props["Stream"], join(path, "Stream"))
    # only an ARN is compared with the account's (a builder reads the account for nothing else)
    prefix = scope.arn("dynamodb", "table/") if stream.startswith("arn:") else "arn:"
    table, found, _ = stream.removeprefix(prefix).partition("/stream/")
    if not stream.startswith(prefix) or not found or not _names.TABLE_NAME[0].fullmatch(table):
        raise TemplateError(
            join(path, "Stream"), f"{show(stream)} is not the stream of a table of this account and region"
        )
    properties = {
        "table": table,
        "function": function_name,
        "starting_position": one_of(
            props.get("StartingPosition"), ("TRIM_HORIZON", "LATEST"), join(path, "StartingPosition")
        ),
        "batch_size": integer(props.get("BatchSize", 100), join(path, "BatchSize"), 1, 1000),
        "max_attempts": 3,
    }
    if "MaximumRetryAttempts" in props:
        retries = integer(props["MaximumRetryAttempts"], join(path, "MaximumRetryAttempts"), -1, 9)
        properties["max_attempts"] = _MAX_ATTEMPTS if retries == -1 else retries + 1
    name = _names.default_name(scope.stack, logical_id, 128)
    arn = _names.Arn("lambda", f"event-source-mapping:{name}")
    return Generated(logical_id, "AWS::Lambda::EventSourceMapping", "event_source", name, arn, properties)
