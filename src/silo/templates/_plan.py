"""The part of resolution that does not depend on the account: built once per :class:`Template`.

Checks the ``Mappings``, ``Conditions``, ``Globals``, ``Resources`` and ``Outputs`` sections, applies
SAM ``Globals``, compiles every expression, and orders conditions and resources by their
dependencies (ties keep template order), so :func:`resolve` only evaluates.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from silo.templates._checks import check_keys, join, mapping, show, suggest, text
from silo.templates._conditions import compile_condition
from silo.templates._events import check_events
from silo.templates._functions import FUNCTION_TYPES, GLOBALS_ALLOWED, merge_globals
from silo.templates._intrinsics import Compiler, Declared
from silo.templates._parameters import ParameterSpec
from silo.templates._resources import OTHER_TYPES, ResourceType
from silo.templates._scope import Expr, Test
from silo.templates._tables import TABLE_TYPES
from silo.templates.model import TemplateError

RESOURCE_TYPES: dict[str, ResourceType] = {
    kind.name: kind for kind in (*FUNCTION_TYPES, *OTHER_TYPES, *TABLE_TYPES)
}
MAX_RESOURCES = 500
MAX_OUTPUTS = 200
MAX_MAPPINGS = 200
_LOGICAL_ID = re.compile(r"[A-Za-z0-9]{1,255}")
_RESOURCE_KEYS = (
    "Type",
    "Properties",
    "DependsOn",
    "Condition",
    "Metadata",
    "DeletionPolicy",
    "UpdateReplacePolicy",
)


@dataclass(frozen=True, slots=True)
class Step:
    """One template resource, compiled."""

    logical_id: str
    type: ResourceType
    condition: str | None
    properties: Expr
    depends_on: tuple[str, ...]
    path: str


@dataclass(frozen=True, slots=True)
class OutputStep:
    name: str
    condition: str | None
    value: Expr
    description: str
    export_name: Expr | None


@dataclass(frozen=True, slots=True)
class Plan:
    conditions: tuple[tuple[str, Test], ...]
    """In evaluation order: a condition comes after those it references."""
    resources: tuple[Step, ...]
    """In dependency order."""
    outputs: tuple[OutputStep, ...]


def build_plan(document: dict[str, Any], parameters: Mapping[str, ParameterSpec], sam: bool) -> Plan:
    mappings = _mappings(document.get("Mappings", {}))
    resources = mapping(document.get("Resources"), "Resources")
    if not resources:
        raise TemplateError("Resources", "required: at least one resource")
    if len(resources) > MAX_RESOURCES:
        raise TemplateError("Resources", f"at most {MAX_RESOURCES} resources, got {len(resources)}")
    types = {
        logical_id: _resource_type(logical_id, entry, parameters, sam)
        for logical_id, entry in resources.items()
    }
    conditions = mapping(document.get("Conditions", {}), "Conditions")
    compiler = Compiler(
        Declared(
            list_parameters=frozenset(name for name, spec in parameters.items() if spec.is_list),
            parameters=frozenset(parameters),
            attributes={logical_id: kind.attributes for logical_id, kind in types.items()},
            types={logical_id: kind.name for logical_id, kind in types.items()},
            conditions=frozenset(conditions),
            mappings=mappings,
        )
    )
    tests = _conditions(conditions, compiler)
    globals_ = _globals(document.get("Globals"), sam)
    position = {logical_id: index for index, logical_id in enumerate(resources)}
    steps = {
        logical_id: _compile_resource(logical_id, resources[logical_id], kind, globals_, compiler, position)
        for logical_id, kind in types.items()
    }
    order = _order({logical_id: step.depends_on for logical_id, step in steps.items()}, "Resources")
    return Plan(
        conditions=tests,
        resources=tuple(steps[logical_id] for logical_id in order),
        outputs=_outputs(document.get("Outputs", {}), compiler),
    )


def _mappings(section: object) -> dict[str, Any]:
    found = mapping(section, "Mappings")
    if len(found) > MAX_MAPPINGS:
        raise TemplateError("Mappings", f"at most {MAX_MAPPINGS} mappings, got {len(found)}")
    for name, table in found.items():
        if not _LOGICAL_ID.fullmatch(name):
            raise TemplateError(join("Mappings", name), "mapping names are letters and digits")
        for key, row in mapping(table, join("Mappings", name)).items():
            mapping(row, join(join("Mappings", name), key))
    return found


def _resource_type(
    logical_id: str, entry: object, parameters: Mapping[str, ParameterSpec], sam: bool
) -> ResourceType:
    path = join("Resources", logical_id)
    if not _LOGICAL_ID.fullmatch(logical_id):
        raise TemplateError(path, "logical ids are 1-255 letters and digits")
    if logical_id in parameters:
        raise TemplateError(path, f"{logical_id} is also the name of a parameter")
    body = mapping(entry, path)
    check_keys(body, _RESOURCE_KEYS, path)
    name = body.get("Type")
    kind = RESOURCE_TYPES.get(name) if isinstance(name, str) else None
    if kind is None:
        # Types differ in one segment only, so a loose match suggests the wrong service.
        hint = suggest(name, RESOURCE_TYPES, cutoff=0.85) if isinstance(name, str) else ""
        raise TemplateError(
            join(path, "Type"),
            f"unknown resource type {show(name)}{hint} (supported: {', '.join(RESOURCE_TYPES)})",
        )
    if kind.sam and not sam:
        raise TemplateError(join(path, "Type"), f"{name} needs 'Transform: AWS::Serverless-2016-10-31'")
    return kind


def _globals(section: object, sam: bool) -> dict[str, Any]:
    if section is None:
        return {}
    if not sam:
        raise TemplateError("Globals", "needs 'Transform: AWS::Serverless-2016-10-31'")
    found = mapping(section, "Globals")
    for key in found:
        if key != "Function":
            raise TemplateError(join("Globals", key), "only Globals.Function is supported in Silo")
    defaults = mapping(found.get("Function", {}), "Globals.Function")
    for key in defaults:
        if key not in GLOBALS_ALLOWED:
            allowed = ", ".join(sorted(GLOBALS_ALLOWED))
            raise TemplateError(
                join("Globals.Function", key),
                f"not allowed in Globals{suggest(key, GLOBALS_ALLOWED)} (allowed: {allowed})",
            )
    return defaults


def _compile_resource(
    logical_id: str,
    entry: dict[str, Any],
    kind: ResourceType,
    globals_: dict[str, Any],
    compiler: Compiler,
    resources: Mapping[str, int],
) -> Step:
    """Compile one resource; ``resources`` maps every logical id to its position in the template."""
    path = join("Resources", logical_id)
    props = mapping(entry.get("Properties", {}), join(path, "Properties"))
    if kind.name == "AWS::Serverless::Function" and globals_:
        props = merge_globals(globals_, props)
    for key in props:
        if key not in kind.properties and key not in kind.ignored:
            ignored = f"; accepted and ignored: {', '.join(sorted(kind.ignored))}" if kind.ignored else ""
            raise TemplateError(
                join(path, f"Properties.{key}"),
                f"unknown property for {kind.name}{suggest(key, kind.properties)} "
                f"(supported: {', '.join(sorted(kind.properties))}{ignored})",
            )
    props = {key: value for key, value in props.items() if key not in kind.ignored}
    if "Events" in props:
        events = check_events(props["Events"], join(path, "Properties.Events"))
        for name in events:
            if f"{logical_id}{name}" in resources:
                raise TemplateError(
                    join(path, f"Properties.Events.{name}"),
                    f"generates resource {logical_id}{name}, which the template also declares",
                )
    compiler.refs = []
    expr = compiler.value(props, join(path, "Properties"))
    depends = entry.get("DependsOn", [])
    for index, name in enumerate(
        [depends] if isinstance(depends, str) else depends if isinstance(depends, list) else [None]
    ):
        where = join(path, "DependsOn") + ("" if isinstance(depends, str) else f"[{index}]")
        if not isinstance(name, str) or name not in resources:
            raise TemplateError(where, f"unresolved reference {show(name)}: not a resource of this template")
        compiler.refs.append(name)
    depends_on = tuple(sorted(set(compiler.refs), key=resources.__getitem__))
    condition = _condition(entry, compiler, path)
    return Step(logical_id, kind, condition, expr, depends_on, join(path, "Properties"))


def _condition(entry: dict[str, Any], compiler: Compiler, path: str) -> str | None:
    """The ``Condition`` attribute of a resource or output: a declared condition's name."""
    name = entry.get("Condition")
    return None if name is None else compiler.condition_name(name, join(path, "Condition"))


def _conditions(section: dict[str, Any], compiler: Compiler) -> tuple[tuple[str, Test], ...]:
    tests: dict[str, Test] = {}
    references: dict[str, tuple[str, ...]] = {}
    for name, body in section.items():
        if not _LOGICAL_ID.fullmatch(name):
            raise TemplateError(join("Conditions", name), "condition names are letters and digits")
        compiler.condition_refs = []
        tests[name] = compile_condition(compiler, body, join("Conditions", name))
        references[name] = tuple(compiler.condition_refs)
    return tuple((name, tests[name]) for name in _order(references, "Conditions"))


def _outputs(section: object, compiler: Compiler) -> tuple[OutputStep, ...]:
    outputs = mapping(section, "Outputs")
    if len(outputs) > MAX_OUTPUTS:
        raise TemplateError("Outputs", f"at most {MAX_OUTPUTS} outputs, got {len(outputs)}")
    steps = []
    for name, body in outputs.items():
        path = join("Outputs", name)
        if not _LOGICAL_ID.fullmatch(name):
            raise TemplateError(path, "output names are letters and digits")
        check_keys(mapping(body, path), ("Value", "Description", "Export", "Condition"), path)
        if "Value" not in body:
            raise TemplateError(join(path, "Value"), "required")
        condition = _condition(body, compiler, path)
        export = None
        if "Export" in body:
            check_keys(mapping(body["Export"], join(path, "Export")), ("Name",), join(path, "Export"))
            if "Name" not in body["Export"]:
                raise TemplateError(join(path, "Export.Name"), "required")
            export = compiler.value(body["Export"]["Name"], join(path, "Export.Name"))
        description = text(body.get("Description", ""), join(path, "Description"))
        steps.append(
            OutputStep(
                name, condition, compiler.value(body["Value"], join(path, "Value")), description, export
            )
        )
    return tuple(steps)


def _order(dependencies: Mapping[str, tuple[str, ...]], section: str) -> list[str]:
    """Kahn's algorithm, always taking the earliest ready node in template order; cycles are errors."""
    names = list(dependencies)
    position = {name: index for index, name in enumerate(names)}
    waiting = {name: len(set(dependencies[name])) for name in names}
    dependents: dict[str, list[str]] = {name: [] for name in names}
    for name in names:
        for dependency in set(dependencies[name]):
            dependents[dependency].append(name)
    ready = [position[name] for name in names if waiting[name] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        name = names[heapq.heappop(ready)]
        order.append(name)
        for dependent in dependents[name]:
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                heapq.heappush(ready, position[dependent])
    if len(order) < len(names):
        left = {name for name in names if waiting[name] > 0}
        chain: list[str] = []
        current = next(name for name in names if name in left)
        while current not in chain:
            chain.append(current)
            current = next(dependency for dependency in dependencies[current] if dependency in left)
        cycle = [*chain[chain.index(current) :], current]
        raise TemplateError(section, f"circular dependency: {' -> '.join(cycle)}")
    return order
