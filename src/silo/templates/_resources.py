"""Resource types, and the state machines, rules and event buses (functions and tables have their own).

Only structural checks here; the engines that run these kinds check the rest when they arrive. Each
type lists the properties it reads, and the properties it accepts and ignores (settings that have no
meaning on Silo, so an AWS template loads unchanged); any other property is an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from silo.templates import _names
from silo.templates._checks import (
    check_keys,
    join,
    json_object,
    json_text,
    mapping,
    matching,
    one_of,
    optional_text,
    sequence,
    show,
    text,
)
from silo.templates._scope import Scope, Target
from silo.templates.model import Resource, ResourceKind, TemplateError


class Built(NamedTuple):
    physical_name: str
    arn: str
    properties: dict[str, Any]
    target: Target
    generated: tuple[Resource, ...] = ()


Builder = Callable[[str, dict[str, Any], Scope, str], Built]
"""(logical id, resolved properties, scope, path of Properties) -> the resource's parts."""


@dataclass(frozen=True, slots=True)
class ResourceType:
    name: str
    kind: ResourceKind
    properties: frozenset[str]
    ignored: frozenset[str]
    attributes: tuple[str, ...]
    build: Builder

    @property
    def sam(self) -> bool:
        return self.name.startswith("AWS::Serverless::")


_SUBSTITUTION = re.compile(r"\$\{([^}]*)\}")
TARGET_ID = re.compile(r"[.\-_A-Za-z0-9]{1,64}")
TARGET_ID_TEXT = "a target Id (at most 64 letters, digits, '.', '-' or '_')"


def _state_machine(sam: bool) -> Builder:
    name_key, type_key = ("Name", "Type") if sam else ("StateMachineName", "StateMachineType")

    def build(logical_id: str, props: dict[str, Any], scope: Scope, path: str) -> Built:
        name = _names.physical_name(props, name_key, scope.stack, logical_id, _names.STATE_MACHINE_NAME, path)
        if ("Definition" in props) == ("DefinitionString" in props):
            raise TemplateError(path, "needs exactly one of Definition and DefinitionString")
        source = "Definition" if "Definition" in props else "DefinitionString"
        definition = json_object(props[source], join(path, source))
        if "DefinitionSubstitutions" in props:
            where = join(path, "DefinitionSubstitutions")
            raw = mapping(props["DefinitionSubstitutions"], where)
            values = {key: text(value, join(where, key)) for key, value in raw.items()}
            definition = _substitute(definition, values, join(path, source))
        if not isinstance(definition.get("StartAt"), str) or not isinstance(definition.get("States"), dict):
            raise TemplateError(join(path, source), "a state machine needs StartAt and States")
        kind = one_of(props.get(type_key, "STANDARD"), ("STANDARD", "EXPRESS"), join(path, type_key))
        arn = _names.arn("states", scope.region, scope.account, f"stateMachine:{name}")
        properties = {"name": name, "definition": definition, "type": kind}
        return Built(name, arn, properties, Target(arn, {"Arn": arn, "Name": name}))

    return build


def _substitute(value: Any, values: dict[str, str], path: str) -> Any:
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            if match.group(1) not in values:
                raise TemplateError(path, f"no DefinitionSubstitutions entry for ${{{match.group(1)}}}")
            return values[match.group(1)]

        return _SUBSTITUTION.sub(replace, value) if "${" in value else value
    if isinstance(value, dict):
        return {key: _substitute(item, values, join(path, key)) for key, item in value.items()}
    if isinstance(value, list):
        return [_substitute(item, values, f"{path}[{index}]") for index, item in enumerate(value)]
    return value


def bus_name(value: object, scope: Scope, path: str) -> str:
    """An event bus given by name or by ARN (which must be in this account and region)."""
    name = text(value, path)
    if name.startswith("arn:"):
        prefix = _names.arn("events", scope.region, scope.account, "event-bus/")
        if not name.startswith(prefix):
            raise TemplateError(path, f"{show(name)} is not an event bus of this account and region")
        name = name[len(prefix) :]
    return matching(name, _names.BUS_NAME[0], "an event bus name", path)


def rule_arn(scope: Scope, bus: str, name: str) -> str:
    resource = f"rule/{name}" if bus == "default" else f"rule/{bus}/{name}"
    return _names.arn("events", scope.region, scope.account, resource)


def enabled_from_state(props: dict[str, Any], path: str) -> bool:
    state = props.get("State", "ENABLED")
    allowed = ("ENABLED", "DISABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")
    return one_of(state, allowed, join(path, "State")) != "DISABLED"


def _rule(logical_id: str, props: dict[str, Any], scope: Scope, path: str) -> Built:
    name = _names.physical_name(props, "Name", scope.stack, logical_id, _names.RULE_NAME, path)
    bus = bus_name(props.get("EventBusName", "default"), scope, join(path, "EventBusName"))
    pattern = None
    if "EventPattern" in props:
        pattern = json_object(props["EventPattern"], join(path, "EventPattern"))
    schedule = optional_text(props, "ScheduleExpression", path)
    if pattern is None and schedule is None:
        raise TemplateError(path, "a rule needs EventPattern or ScheduleExpression")
    if schedule is not None and bus != "default":
        raise TemplateError(join(path, "ScheduleExpression"), "scheduled rules run on the default event bus")
    targets = []
    ids: set[str] = set()
    where = join(path, "Targets")
    for index, item in enumerate(sequence(props.get("Targets", []), where)):
        entry = mapping(item, f"{where}[{index}]")
        check_keys(entry, ("Id", "Arn", "Input", "RoleArn"), f"{where}[{index}]")
        target_id = matching(entry.get("Id"), TARGET_ID, TARGET_ID_TEXT, f"{where}[{index}].Id")
        if target_id in ids:
            raise TemplateError(f"{where}[{index}].Id", f"duplicate target Id {target_id!r}")
        ids.add(target_id)
        target = {"id": target_id, "arn": text(entry.get("Arn"), f"{where}[{index}].Arn")}
        if "Input" in entry:
            target["input"] = json_text(entry["Input"], f"{where}[{index}].Input")
        targets.append(target)
    if len(targets) > 5:
        raise TemplateError(where, f"at most 5 targets, got {len(targets)}")
    arn = rule_arn(scope, bus, name)
    properties = {
        "name": name,
        "event_bus": bus,
        "pattern": pattern,
        "schedule": schedule,
        "enabled": enabled_from_state(props, path),
        "targets": targets,
    }
    return Built(name, arn, properties, Target(name, {"Arn": arn}))


def _event_bus(logical_id: str, props: dict[str, Any], scope: Scope, path: str) -> Built:
    if "Name" not in props:
        raise TemplateError(join(path, "Name"), "required")
    name = _names.physical_name(props, "Name", scope.stack, logical_id, _names.BUS_NAME, path)
    if name == "default":
        raise TemplateError(join(path, "Name"), "the default event bus always exists; choose another name")
    arn = _names.arn("events", scope.region, scope.account, f"event-bus/{name}")
    return Built(name, arn, {"name": name}, Target(name, {"Arn": arn, "Name": name}))


def resource_type(
    name: str, kind: ResourceKind, used: str, ignored: str, attributes: tuple[str, ...], build: Builder
) -> ResourceType:
    return ResourceType(name, kind, frozenset(used.split()), frozenset(ignored.split()), attributes, build)


_SFN_IGNORED = (
    "Role RoleArn Policies Tracing TracingConfiguration Logging LoggingConfiguration Tags PermissionsBoundary"
)
OTHER_TYPES = (
    resource_type(
        "AWS::Serverless::StateMachine",
        "state_machine",
        "Definition DefinitionSubstitutions Name Type",
        _SFN_IGNORED,
        ("Arn", "Name"),
        _state_machine(sam=True),
    ),
    resource_type(
        "AWS::StepFunctions::StateMachine",
        "state_machine",
        "Definition DefinitionString DefinitionSubstitutions StateMachineName StateMachineType",
        _SFN_IGNORED,
        ("Arn", "Name"),
        _state_machine(sam=False),
    ),
    resource_type(
        "AWS::Events::Rule",
        "rule",
        "Name EventPattern ScheduleExpression EventBusName State Targets",
        "Description RoleArn",
        ("Arn",),
        _rule,
    ),
    resource_type(
        "AWS::Events::EventBus",
        "event_bus",
        "Name",
        "Description Tags Policy KmsKeyIdentifier",
        ("Arn", "Name"),
        _event_bus,
    ),
)
