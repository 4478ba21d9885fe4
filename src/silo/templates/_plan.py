"""The part of resolution that does not depend on the account: built once per :class:`Template`.

Checks the ``Mappings``, ``Conditions``, ``Globals``, ``Resources`` and ``Outputs`` sections, applies
SAM ``Globals``, compiles every expression, and orders conditions and resources by their
dependencies (ties keep template order), so :func:`resolve` only evaluates.

It also decides which conditions, resources and outputs can differ between accounts of one stack
(same parameters and stack name): those that read the account id (``AWS::AccountId``,
``AWS::StackId``, an ARN: see :attr:`ResourceType.account_bound`), whose builder may compare a value
with the account's ARNs (:attr:`ResourceType.account_paths`), or that depend on any of those through
a condition, a reference or ``DependsOn``. :func:`~silo.templates.prepare` evaluates the rest once.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, cast

from silo.templates._checks import check_keys, join, mapping, one_of, show, suggest, text
from silo.templates._conditions import compile_condition
from silo.templates._events import check_events
from silo.templates._functions import FUNCTION_TYPES, GLOBALS_ALLOWED, merge_globals
from silo.templates._intrinsics import Compiler, Declared, is_intrinsic
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
DELETION_POLICIES = ("Delete", "Retain", "RetainExceptOnCreate", "Snapshot")
"""``DeletionPolicy`` values (a literal, as CloudFormation requires); tables honour ``Retain``."""
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
    if_conditions: tuple[str, ...]
    """The conditions its properties' ``Fn::If`` read."""
    account: bool
    """Whether the resource (its properties, generated resources, whether it exists) can differ between
    accounts; its ARN always does."""
    deletion_policy: str = "Delete"


@dataclass(frozen=True, slots=True)
class OutputStep:
    name: str
    condition: str | None
    value: Expr
    description: str
    export_name: Expr | None
    refs: tuple[str, ...]
    """The resources its value and export name reference."""
    if_conditions: tuple[str, ...]
    account: bool
    """Whether the output (its value, export name, whether it exists) can differ between accounts."""


@dataclass(frozen=True, slots=True)
class Plan:
    conditions: tuple[tuple[str, Test], ...]
    """In evaluation order: a condition comes after those it references."""
    resources: tuple[Step, ...]
    """In dependency order."""
    outputs: tuple[OutputStep, ...]
    account_conditions: frozenset[str]
    """The conditions whose value can differ between accounts."""
    targets_read: frozenset[str]
    """The resources whose ``Ref``/``Fn::GetAtt`` values (or existence) a resource or output reads."""
    account_targets_read: frozenset[str]
    """The same, read by the resources and outputs that can differ between accounts."""
    reads_stack_id: bool
    """Whether anything reads ``AWS::StackId``."""


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
            account_bound={logical_id: kind.account_bound for logical_id, kind in types.items()},
            conditions=frozenset(conditions),
            mappings=mappings,
        )
    )
    tests, account_conditions = _conditions(conditions, compiler)
    globals_ = _globals(document.get("Globals"), sam)
    position = {logical_id: index for index, logical_id in enumerate(resources)}
    steps = {
        logical_id: _compile_resource(logical_id, resources[logical_id], kind, globals_, compiler, position)
        for logical_id, kind in types.items()
    }
    order = _order({logical_id: step.depends_on for logical_id, step in steps.items()}, "Resources")
    account_resources: set[str] = set()
    for logical_id in order:
        step = steps[logical_id]
        if _differs(step, step.depends_on, account_conditions, account_resources):
            account_resources.add(logical_id)
            steps[logical_id] = replace(step, account=True)
    outputs = [
        replace(output, account=True)
        if _differs(output, output.refs, account_conditions, account_resources)
        else output
        for output in _outputs(document.get("Outputs", {}), compiler)
    ]
    uses = [(step.account, step.depends_on) for step in steps.values()]
    uses += [(output.account, output.refs) for output in outputs]
    return Plan(
        conditions=tests,
        resources=tuple(steps[logical_id] for logical_id in order),
        outputs=tuple(outputs),
        account_conditions=account_conditions,
        targets_read=frozenset(name for _, names in uses for name in names),
        account_targets_read=frozenset(name for account, names in uses if account for name in names),
        reads_stack_id="AWS::StackId" in compiler.pseudo,
    )


def _differs(
    step: Step | OutputStep, uses: tuple[str, ...], conditions: frozenset[str], resources: set[str]
) -> bool:
    """Whether ``step`` can differ between accounts, given the conditions and the resources (before it
    in dependency order) that can; ``step.account`` says whether it reads the account itself."""
    return (
        step.account
        or step.condition in conditions
        or any(name in conditions for name in step.if_conditions)
        or any(name in resources for name in uses)
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
    refused = dict(kind.refused)
    for key in props:
        if key in refused:
            raise TemplateError(join(path, f"Properties.{key}"), f"{key} {refused[key]}")
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
    compiler.reset()
    expr = compiler.value(props, join(path, "Properties"))
    reads_account = compiler.reads_account or any(
        _may_be_arn_at(props, where, compiler.declared) for where in kind.account_paths
    )
    if_conditions = tuple(dict.fromkeys(compiler.if_conditions))
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
    policy = one_of(entry.get("DeletionPolicy", "Delete"), DELETION_POLICIES, join(path, "DeletionPolicy"))
    return Step(
        logical_id,
        kind,
        condition,
        expr,
        depends_on,
        join(path, "Properties"),
        if_conditions,
        reads_account,
        policy,
    )


def _may_be_arn_at(node: object, where: tuple[str, ...], declared: Declared) -> bool:
    """Whether the value at ``where`` in the raw ``Properties`` (``*``: any key) may be an ARN, so that
    the builder compares it with the account's ARNs. Static and conservative: an intrinsic function on
    the way may give anything; a value that is not a mapping on the way is refused by the builder
    before it reads the account."""
    if not where:
        return _may_be_arn(node, declared)
    if is_intrinsic(node):
        return True
    if type(node) is not dict:
        return False
    key, rest = where[0], where[1:]
    if key == "*":
        return any(_may_be_arn_at(item, rest, declared) for item in node.values())
    return key in node and _may_be_arn_at(node[key], rest, declared)


_NOT_ARNS = frozenset({"AWS::NoValue", "AWS::Partition", "AWS::Region", "AWS::StackName", "AWS::URLSuffix"})


def _may_be_arn(node: object, declared: Declared) -> bool:
    """Whether a value may be text starting with ``arn:``. Physical names, which a ``Ref`` or
    ``Fn::GetAtt Name`` that is not account-bound gives, never contain ':' (see ``_names``)."""
    if isinstance(node, str):
        return node.startswith("arn:")
    if not is_intrinsic(node):
        return False  # a number or boolean is written as digits or true/false; anything else is refused
    ((key, arg),) = cast(dict[str, Any], node).items()
    if key == "Fn::GetAtt" and isinstance(arg, str):
        arg = arg.split(".", 1)
    if key == "Ref" and isinstance(arg, str):
        bound = declared.account_bound.get(arg)
        return "Ref" in bound if bound is not None else arg not in _NOT_ARNS  # a parameter may be anything
    if key == "Fn::GetAtt" and isinstance(arg, list) and len(arg) == 2:
        bound = declared.account_bound.get(arg[0]) if isinstance(arg[0], str) else None
        return bound is None or arg[1] in bound
    return True


def _condition(entry: dict[str, Any], compiler: Compiler, path: str) -> str | None:
    """The ``Condition`` attribute of a resource or output: a declared condition's name."""
    name = entry.get("Condition")
    return None if name is None else compiler.condition_name(name, join(path, "Condition"))


def _conditions(
    section: dict[str, Any], compiler: Compiler
) -> tuple[tuple[tuple[str, Test], ...], frozenset[str]]:
    """The conditions in evaluation order, and those whose value can differ between accounts."""
    tests: dict[str, Test] = {}
    references: dict[str, tuple[str, ...]] = {}
    reads_account: set[str] = set()
    for name, body in section.items():
        if not _LOGICAL_ID.fullmatch(name):
            raise TemplateError(join("Conditions", name), "condition names are letters and digits")
        compiler.condition_refs = []
        compiler.reset()
        tests[name] = compile_condition(compiler, body, join("Conditions", name))
        references[name] = tuple(compiler.condition_refs)
        if compiler.reads_account:
            reads_account.add(name)
    order = _order(references, "Conditions")
    account: set[str] = set()
    for name in order:
        if name in reads_account or any(other in account for other in references[name]):
            account.add(name)
    return tuple((name, tests[name]) for name in order), frozenset(account)


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
        compiler.reset()
        condition = _condition(body, compiler, path)
        export = None
        if "Export" in body:
            check_keys(mapping(body["Export"], join(path, "Export")), ("Name",), join(path, "Export"))
            if "Name" not in body["Export"]:
                raise TemplateError(join(path, "Export.Name"), "required")
            export = compiler.value(body["Export"]["Name"], join(path, "Export.Name"))
        description = text(body.get("Description", ""), join(path, "Description"))
        value = compiler.value(body["Value"], join(path, "Value"))
        steps.append(
            OutputStep(
                name,
                condition,
                value,
                description,
                export,
                tuple(dict.fromkeys(compiler.refs)),
                tuple(dict.fromkeys(compiler.if_conditions)),
                compiler.reads_account,
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
