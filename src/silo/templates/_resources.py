"""Resource types, and the state machines, rules and event buses (functions and tables have their own).

Only structural checks here; the engines that run these kinds check the rest when they arrive. Each
type lists the properties it reads, and the properties it accepts and ignores (settings that have no
meaning on Silo, so an AWS template loads unchanged); any other property is an error.
"""

from __future__ import annotations

import functools
import json
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
from silo.templates._names import Arn
from silo.templates._scope import Scope, Target
from silo.templates.model import Resource, ResourceKind, TemplateError
from silo.workflows import InvalidDefinition, parse_definition


class Generated(NamedTuple):
    """A resource SAM generates from a function's ``Events``, less its account."""

    logical_id: str
    type: str
    kind: ResourceKind
    physical_name: str
    arn: Arn
    properties: dict[str, Any]
    function_target: tuple[str, str | None] | None = None
    """For a rule: the ``Id`` and ``Input`` of its one target, the function, whose ARN contains the
    account; the resource's ``targets`` is that target alone."""

    def resource(self, function_id: str, function_arn: str, region: str, account: str) -> Resource:
        properties = self.properties
        if self.function_target is not None:
            target_id, given = self.function_target
            target = {"id": target_id, "arn": function_arn}
            if given is not None:
                target["input"] = given
            properties = {**properties, "targets": [target]}
        arn = self.arn.render(region, account)
        return Resource(
            self.logical_id,
            self.type,
            self.kind,
            self.physical_name,
            arn,
            properties,
            (function_id,),
            function_id,
        )


class Built(NamedTuple):
    """A built resource, less its account: everything in it is the same in every account."""

    physical_name: str
    arn: Arn
    properties: dict[str, Any]
    arn_attributes: tuple[tuple[str, str], ...] = ()
    """``Fn::GetAtt`` attributes derived from the ARN besides ``Arn``: (attribute, suffix of the ARN)."""
    generated: tuple[Generated, ...] = ()


Builder = Callable[[str, dict[str, Any], Scope, str], Built]
"""(logical id, resolved properties, scope, path of Properties) -> the resource's parts.

A builder reads the account only through :meth:`Scope.arn`, and only for a property in one of its
type's ``account_paths`` whose value is an ARN."""


@dataclass(frozen=True, slots=True)
class ResourceType:
    name: str
    kind: ResourceKind
    properties: frozenset[str]
    ignored: frozenset[str]
    attributes: tuple[str, ...]
    """``Fn::GetAtt`` attributes: ``Name`` is the physical name, the others are ARNs."""
    build: Builder
    ref_is_arn: bool = False
    """``Ref`` gives the ARN (else the physical name)."""
    account_paths: tuple[tuple[str, ...], ...] = ()
    """Paths in ``Properties`` (``*``: every key) whose value the builder compares with the account's
    ARNs when it is one (a bus or function named by ARN)."""
    refused: tuple[tuple[str, str], ...] = ()
    """(property, why): properties of the AWS type that Silo refuses with a reason when the template
    loads (instead of calling them unknown)."""

    @property
    def sam(self) -> bool:
        return self.name.startswith("AWS::Serverless::")

    @property
    def account_bound(self) -> frozenset[str]:
        """``Ref`` (when it is the ARN) and the attributes whose values contain the account id."""
        return frozenset(
            [*(a for a in self.attributes if a != "Name"), *(["Ref"] if self.ref_is_arn else [])]
        )

    def target(self, built: Built, arn: str | None) -> Target:
        """What other resources read of ``built``; without the ARN (``None``), only what is not one."""
        name = built.physical_name
        attributes = {"Name": name} if "Name" in self.attributes else {}
        if arn is not None:
            attributes["Arn"] = arn
            for attribute, suffix in built.arn_attributes:
                attributes[attribute] = arn + suffix
        return Target(arn if self.ref_is_arn else name, attributes)


_SUBSTITUTION = re.compile(r"\$\{([^}]*)\}")
TARGET_ID = re.compile(r"[.\-_A-Za-z0-9]{1,64}")
TARGET_ID_TEXT = "a target Id (at most 64 letters, digits, '.', '-' or '_')"


def _state_machine(sam: bool) -> Builder:
    name_key, type_key = ("Name", "Type") if sam else ("StateMachineName", "StateMachineType")

    def build(logical_id: str, props: dict[str, Any], scope: Scope, path: str) -> Built:
        name = _names.physical_name(props, name_key, scope.stack, logical_id, _names.STATE_MACHINE_NAME, path)
        if ("Definition" in props) == ("DefinitionString" in props):
            raise TemplateError(
                path, "needs Definition" if sam else "needs exactly one of Definition and DefinitionString"
            )
        source = "Definition" if "Definition" in props else "DefinitionString"
        definition = json_object(props[source], join(path, source))
        if "DefinitionSubstitutions" in props:
            where = join(path, "DefinitionSubstitutions")
            raw = mapping(props["DefinitionSubstitutions"], where)
            values = {key: text(value, join(where, key)) for key, value in raw.items()}
            definition = _substitute(definition, values, join(path, source))
        if not isinstance(definition.get("StartAt"), str) or not isinstance(definition.get("States"), dict):
            raise TemplateError(join(path, source), "a state machine needs StartAt and States")
        _check_definition(definition, join(path, source))
        kind = one_of(props.get(type_key, "STANDARD"), ("STANDARD", "EXPRESS"), join(path, type_key))
        properties = {"name": name, "definition": definition, "type": kind}
        return Built(name, Arn("states", f"stateMachine:{name}"), properties)

    return build


def _check_definition(definition: dict[str, Any], path: str) -> None:
    """The Amazon States Language checks of the workflows engine, with the template path in front
    (``Resources.Flow.Properties.Definition.States.Check.Next: ...``)."""
    try:
        _checked_definition(json.dumps(definition, sort_keys=True, separators=(",", ":")))
    except InvalidDefinition as exc:
        where = exc.path[1:].lstrip(".") if exc.path.startswith("$") else exc.path
        raise TemplateError(join(path, where) if where else path, exc.reason) from None


@functools.lru_cache(maxsize=256)  # a fleet resolves the same definition for every account
def _checked_definition(text: str) -> None:
    parse_definition(text)


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
        prefix = scope.arn("events", "event-bus/")
        if not name.startswith(prefix):
            raise TemplateError(path, f"{show(name)} is not an event bus of this account and region")
        name = name[len(prefix) :]
    return matching(name, _names.BUS_NAME[0], "an event bus name", path)


def rule_arn(bus: str, name: str) -> Arn:
    return Arn("events", f"rule/{name}" if bus == "default" else f"rule/{bus}/{name}")


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
        check_keys(
            entry,
            ("Id", "Arn", "Input", "InputPath", "InputTransformer", "RetryPolicy", "RoleArn"),
            f"{where}[{index}]",
        )
        target_id = matching(entry.get("Id"), TARGET_ID, TARGET_ID_TEXT, f"{where}[{index}].Id")
        if target_id in ids:
            raise TemplateError(f"{where}[{index}].Id", f"duplicate target Id {target_id!r}")
        ids.add(target_id)
        target: dict[str, Any] = {"id": target_id, "arn": text(entry.get("Arn"), f"{where}[{index}].Arn")}
        if "Input" in entry:
            target["input"] = json_text(entry["Input"], f"{where}[{index}].Input")
        if "InputPath" in entry:
            target["input_path"] = text(entry["InputPath"], f"{where}[{index}].InputPath")
        for key, field in (("InputTransformer", "input_transformer"), ("RetryPolicy", "retry_policy")):
            if key in entry:
                target[field] = mapping(entry[key], f"{where}[{index}].{key}")
        targets.append(target)
    if len(targets) > 5:
        raise TemplateError(where, f"at most 5 targets, got {len(targets)}")
    properties = {
        "name": name,
        "event_bus": bus,
        "pattern": pattern,
        "schedule": schedule,
        "enabled": enabled_from_state(props, path),
        "targets": targets,
    }
    return Built(name, rule_arn(bus, name), properties)


def _event_bus(logical_id: str, props: dict[str, Any], scope: Scope, path: str) -> Built:
    if "Name" not in props:
        raise TemplateError(join(path, "Name"), "required")
    name = _names.physical_name(props, "Name", scope.stack, logical_id, _names.BUS_NAME, path)
    if name == "default":
        raise TemplateError(join(path, "Name"), "the default event bus always exists; choose another name")
    return Built(name, Arn("events", f"event-bus/{name}"), {"name": name})


def resource_type(
    name: str,
    kind: ResourceKind,
    used: str,
    ignored: str,
    attributes: tuple[str, ...],
    build: Builder,
    *,
    ref_is_arn: bool = False,
    account_paths: tuple[tuple[str, ...], ...] = (),
    refused: tuple[tuple[str, str], ...] = (),
) -> ResourceType:
    return ResourceType(
        name,
        kind,
        frozenset(used.split()),
        frozenset(ignored.split()),
        attributes,
        build,
        ref_is_arn,
        account_paths,
        refused,
    )


_SFN_IGNORED = (
    "Role RoleArn Policies Tracing TracingConfiguration Logging LoggingConfiguration Tags PermissionsBoundary"
)
_NO_DEFINITION_FILES = (
    "is not supported: Silo reads no files or S3 objects when it deploys a template; put the "
    "definition in the template with {inline}"
)
OTHER_TYPES = (
    resource_type(
        "AWS::Serverless::StateMachine",
        "state_machine",
        "Definition DefinitionSubstitutions Name Type",
        _SFN_IGNORED,
        ("Arn", "Name"),
        _state_machine(sam=True),
        ref_is_arn=True,
        refused=(("DefinitionUri", _NO_DEFINITION_FILES.format(inline="Definition")),),
    ),
    resource_type(
        "AWS::StepFunctions::StateMachine",
        "state_machine",
        "Definition DefinitionString DefinitionSubstitutions StateMachineName StateMachineType",
        _SFN_IGNORED,
        ("Arn", "Name"),
        _state_machine(sam=False),
        ref_is_arn=True,
        refused=(
            ("DefinitionS3Location", _NO_DEFINITION_FILES.format(inline="Definition or DefinitionString")),
        ),
    ),
    resource_type(
        "AWS::Events::Rule",
        "rule",
        "Name EventPattern ScheduleExpression EventBusName State Targets",
        "Description RoleArn",
        ("Arn",),
        _rule,
        account_paths=(("EventBusName",),),
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
