"""Intrinsic functions, compiled once per template into closures that a :class:`Scope` evaluates.

Compiling checks everything that does not depend on parameter values (function shapes, names of
parameters, resources, conditions and attributes, ``Fn::Sub`` strings) and records which resources
and conditions each expression references and whether it reads a value that contains the account id,
so the dependency graph, and what differs between accounts, is known before any account is resolved. An
expression is then a plain function of the scope; subtrees without intrinsics are kept as data and
copied on evaluation, so two resolutions never share a mutable container.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from silo.templates._checks import integer, join, show, suggest, text
from silo.templates._names import ACCOUNT_PSEUDO
from silo.templates._scope import NO_VALUE, AccountNeeded, Expr, Scope, constant, copy_data, is_container
from silo.templates.model import TemplateError

PSEUDO = (
    "AWS::AccountId",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
)
UNSUPPORTED = ("Fn::GetAZs", "Fn::ImportValue", "Fn::Cidr", "Fn::Length", "Fn::ToJsonString", "Fn::Transform")
CONDITION_FUNCTIONS = ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Condition")
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


@dataclass(frozen=True, slots=True)
class Declared:
    """The names a template declares, for checking references while compiling."""

    list_parameters: frozenset[str]
    parameters: frozenset[str]
    attributes: Mapping[str, tuple[str, ...]]
    """Logical id -> the attributes ``Fn::GetAtt`` may read."""
    types: Mapping[str, str]
    account_bound: Mapping[str, frozenset[str]]
    """Logical id -> its ``Ref`` (as ``"Ref"``) and attributes whose values contain the account id."""
    conditions: frozenset[str]
    mappings: Mapping[str, Any]


def is_intrinsic(node: object) -> bool:
    """A one-key mapping whose key is ``Ref`` or ``Fn::...`` (elsewhere ``Ref`` is an ordinary key)."""
    if not isinstance(node, dict) or len(node) != 1:
        return False
    key = next(iter(node))
    return isinstance(key, str) and (key == "Ref" or key.startswith("Fn::"))


class Compiler:
    """Compiles the expressions of one template.

    Since :meth:`reset`: ``refs`` collects the resources the compiled expressions reference,
    ``if_conditions`` the conditions their ``Fn::If`` read, and ``reads_account`` whether they read a
    value that contains the account id (``AWS::AccountId``, ``AWS::StackId``, an ARN). ``condition_refs``
    collects the conditions a condition references (see :mod:`silo.templates._conditions`);
    ``in_condition`` is set while compiling the values of ``Fn::Equals``, where resources may not be
    referenced.
    """

    def __init__(self, declared: Declared) -> None:
        self.declared = declared
        self.refs: list[str] = []
        self.if_conditions: list[str] = []
        self.reads_account = False
        self.condition_refs: list[str] = []
        self.in_condition = False
        self.pseudo: set[str] = set()
        """Every pseudo parameter read (never reset)."""

    def reset(self) -> None:
        self.refs = []
        self.if_conditions = []
        self.reads_account = False

    def value(self, node: Any, path: str) -> Expr:
        expr, const = self._compile(node, path)
        return constant(const) if expr is None else expr

    def _compile(self, node: Any, path: str) -> tuple[Expr | None, Any]:
        """``(None, node)`` for data without intrinsics, else ``(expr, None)``."""
        if type(node) is dict:
            if is_intrinsic(node):
                ((key, arg),) = node.items()
                return self._intrinsic(key, arg, join(path, key)), None
            return self._dict(node, path)
        if type(node) is list:
            return self._list(node, path)
        return None, node

    def _dict(self, node: dict[str, Any], path: str) -> tuple[Expr | None, Any]:
        entries = [(key, *self._compile(item, join(path, key))) for key, item in node.items()]
        if all(expr is None for _, expr, _ in entries):
            return None, node
        # A shallow copy of the skeleton gives every scalar in template order; only the rest is evaluated.
        skeleton = {
            key: None if expr is None and is_container(const) else const for key, expr, const in entries
        }
        dynamic = [
            (key, constant(const) if expr is None else expr)
            for key, expr, const in entries
            if expr is not None or is_container(const)
        ]

        def build(scope: Scope) -> dict[str, Any]:
            out = skeleton.copy()
            for key, expr in dynamic:
                item = expr(scope)
                if item is NO_VALUE:
                    del out[key]
                else:
                    out[key] = item
            return out

        return build, None

    def _list(self, node: list[Any], path: str) -> tuple[Expr | None, Any]:
        entries = [self._compile(item, f"{path}[{index}]") for index, item in enumerate(node)]
        if all(expr is None for expr, _ in entries):
            return None, node
        skeleton = [None if expr is None and is_container(const) else const for expr, const in entries]
        dynamic = [
            (index, constant(const) if expr is None else expr)
            for index, (expr, const) in enumerate(entries)
            if expr is not None or is_container(const)
        ]

        def build(scope: Scope) -> list[Any]:
            out = skeleton.copy()
            dropped = False
            for index, expr in dynamic:
                item = out[index] = expr(scope)
                dropped = dropped or item is NO_VALUE
            return [item for item in out if item is not NO_VALUE] if dropped else out

        return build, None

    def _intrinsic(self, key: str, arg: Any, path: str) -> Expr:
        method = self._FUNCTIONS.get(key)
        if method is not None:
            return method(self, arg, path)
        if key in UNSUPPORTED:
            raise TemplateError(path, f"{key} is not supported in Silo")
        if key in CONDITION_FUNCTIONS:
            raise TemplateError(path, f"{key} may only be used in the Conditions section")
        known = [*self._FUNCTIONS, *UNSUPPORTED]
        raise TemplateError(path, f"unknown intrinsic function {key}{suggest(key, known)}")

    def _ref(self, arg: Any, path: str) -> Expr:
        if not isinstance(arg, str):
            raise TemplateError(path, f"Ref takes the name of a parameter or resource, got {show(arg)}")
        return self._name(arg, path)

    def _name(self, name: str, path: str) -> Expr:
        declared = self.declared
        if name.startswith("AWS::"):
            if name == "AWS::NoValue":
                return lambda scope: NO_VALUE
            if name not in PSEUDO:
                supported = ", ".join(PSEUDO)
                raise TemplateError(
                    path, f"unknown pseudo parameter {name}{suggest(name, PSEUDO)} (supported: {supported})"
                )
            self.reads_account = self.reads_account or name in ACCOUNT_PSEUDO
            self.pseudo.add(name)
            return lambda scope: scope.values[name]
        if name in declared.list_parameters:
            return lambda scope: list(scope.values[name])
        if name in declared.parameters:
            return lambda scope: scope.values[name]
        if name in declared.attributes:
            if self.in_condition:
                raise TemplateError(path, f"conditions may not reference resources ({name})")
            self.refs.append(name)
            self.reads_account = self.reads_account or "Ref" in declared.account_bound[name]
            return lambda scope: scope.ref(name, path)
        known = [*declared.parameters, *declared.attributes]
        raise TemplateError(path, f"unresolved reference {name!r}{suggest(name, known)}")

    def _get_att(self, arg: Any, path: str) -> Expr:
        if isinstance(arg, str):
            arg = arg.split(".", 1)
        if not (isinstance(arg, list) and len(arg) == 2 and all(isinstance(part, str) for part in arg)):
            raise TemplateError(
                path, f"expected [LogicalId, Attribute] or 'LogicalId.Attribute', got {show(arg)}"
            )
        return self._attribute(arg[0], arg[1], path)

    def _attribute(self, logical_id: str, name: str, path: str) -> Expr:
        allowed = self.declared.attributes.get(logical_id)
        if allowed is None:
            what = (
                "a parameter, not a resource" if logical_id in self.declared.parameters else "not a resource"
            )
            raise TemplateError(path, f"unresolved reference {logical_id!r}: {what}")
        if name not in allowed:
            kind = self.declared.types[logical_id]
            raise TemplateError(
                path, f"{kind} {logical_id} has no attribute {name!r} (has: {', '.join(allowed) or 'none'})"
            )
        if self.in_condition:
            raise TemplateError(path, f"conditions may not reference resources ({logical_id})")
        self.refs.append(logical_id)
        self.reads_account = self.reads_account or name in self.declared.account_bound[logical_id]

        def get(scope: Scope) -> str:
            found = scope.target(logical_id, path).attributes.get(name)
            if found is None:
                if scope.account is None:
                    raise AccountNeeded(f"{path}: {logical_id}.{name} is an ARN")
                hint = " (the table has no StreamSpecification)" if name == "StreamArn" else ""
                raise TemplateError(path, f"{logical_id}.{name} is not available{hint}")
            return found

        return get

    def _sub(self, arg: Any, path: str) -> Expr:
        variables: dict[str, Expr] = {}
        if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str) and isinstance(arg[1], dict):
            source = arg[0]
            variables = {name: self.value(item, join(f"{path}[1]", name)) for name, item in arg[1].items()}
        elif isinstance(arg, str):
            source = arg
        else:
            raise TemplateError(path, f"expected a string or [string, {{variables}}], got {show(arg)}")
        parts: list[str | Expr] = []
        position = 0
        for match in _SUB_VARIABLE.finditer(source):
            parts.append(source[position : match.start()])
            inner = match.group(1)
            if inner.startswith("!"):
                parts.append("${" + inner[1:] + "}")
            else:
                parts.append(self._sub_variable(inner.strip(), variables, path))
            position = match.end()
        parts.append(source[position:])
        merged: list[str | Expr] = []
        for part in parts:
            if isinstance(part, str) and merged and isinstance(merged[-1], str):
                merged[-1] += part
            elif part != "":
                merged.append(part)
        if all(isinstance(part, str) for part in merged):
            return constant("".join(cast(list[str], merged)))

        def sub(scope: Scope) -> str:
            return "".join([part if isinstance(part, str) else text(part(scope), path) for part in merged])

        return sub

    def _sub_variable(self, name: str, variables: dict[str, Expr], path: str) -> Expr:
        if name in variables:
            return variables[name]
        if not name:
            raise TemplateError(path, "empty variable ${}")
        if "." in name and not name.startswith("AWS::"):
            logical_id, attribute = name.split(".", 1)
            return self._attribute(logical_id, attribute, path)
        return self._name(name, path)

    def _list_argument(self, node: Any, path: str) -> Expr:
        expr = self.value(node, path)

        def items(scope: Scope) -> list[Any]:
            found = expr(scope)
            if not isinstance(found, list):
                raise TemplateError(path, f"expected a list, got {show(found)}")
            return found

        return items

    def arguments(self, arg: Any, count: int, shape: str, path: str) -> list[Any]:
        if not isinstance(arg, list) or len(arg) != count:
            raise TemplateError(path, f"expected {shape}, got {show(arg)}")
        return arg

    def _join(self, arg: Any, path: str) -> Expr:
        delimiter, values = self.arguments(arg, 2, "[delimiter, [values]]", path)
        if not isinstance(delimiter, str):
            raise TemplateError(f"{path}[0]", f"the delimiter must be a string, got {show(delimiter)}")
        items = self._list_argument(values, f"{path}[1]")
        return lambda scope: delimiter.join([text(item, path) for item in items(scope)])

    def _select(self, arg: Any, path: str) -> Expr:
        index_node, values = self.arguments(arg, 2, "[index, [values]]", path)
        index_path = f"{path}[0]"
        index_expr = self.value(index_node, index_path)
        items = self._list_argument(values, f"{path}[1]")

        def select(scope: Scope) -> Any:
            found = items(scope)
            index = integer(index_expr(scope), index_path, 0, 1 << 31)
            if index >= len(found):
                raise TemplateError(path, f"index {index} is out of range for a list of {len(found)}")
            return found[index]

        return select

    def _split(self, arg: Any, path: str) -> Expr:
        delimiter, source = self.arguments(arg, 2, "[delimiter, string]", path)
        if not isinstance(delimiter, str) or not delimiter:
            raise TemplateError(
                f"{path}[0]", f"the delimiter must be a non-empty string, got {show(delimiter)}"
            )
        source_path = f"{path}[1]"
        source_expr = self.value(source, source_path)
        return lambda scope: text(source_expr(scope), source_path).split(delimiter)

    def _find_in_map(self, arg: Any, path: str) -> Expr:
        if not isinstance(arg, list) or len(arg) not in (3, 4):
            raise TemplateError(path, f"expected [MapName, TopLevelKey, SecondLevelKey], got {show(arg)}")
        has_default = len(arg) == 4
        if has_default and not (isinstance(arg[3], dict) and set(arg[3]) == {"DefaultValue"}):
            raise TemplateError(f"{path}[3]", "expected {DefaultValue: value}")
        if isinstance(arg[0], str) and arg[0] not in self.declared.mappings:
            raise TemplateError(
                f"{path}[0]", f"no mapping named {arg[0]!r}{suggest(arg[0], self.declared.mappings)}"
            )
        keys = [self.value(node, f"{path}[{index}]") for index, node in enumerate(arg[:3])]
        default = self.value(arg[3]["DefaultValue"], f"{path}[3].DefaultValue") if has_default else None
        mappings = self.declared.mappings

        def find(scope: Scope) -> Any:
            name, top, second = (text(key(scope), path) for key in keys)
            table = mappings.get(name)
            row = table.get(top) if table is not None else None
            if row is not None and second in row:
                return copy_data(row[second])
            if default is not None:
                return default(scope)
            if table is None:
                raise TemplateError(path, f"no mapping named {name!r}")
            if row is None:
                raise TemplateError(path, f"no key {top!r} in mapping {name!r}")
            raise TemplateError(path, f"no key {second!r} under {top!r} in mapping {name!r}")

        return find

    def _base64(self, arg: Any, path: str) -> Expr:
        source = self.value(arg, path)
        return lambda scope: base64.b64encode(text(source(scope), path).encode()).decode()

    def _if(self, arg: Any, path: str) -> Expr:
        name, when_true, when_false = self.arguments(
            arg, 3, "[condition, value if true, value if false]", path
        )
        if self.in_condition:
            raise TemplateError(path, "Fn::If may not be used in the Conditions section")
        self.condition_name(name, f"{path}[0]")
        self.if_conditions.append(name)
        yes = self.value(when_true, f"{path}[1]")
        no = self.value(when_false, f"{path}[2]")
        return lambda scope: (yes if scope.conditions[name] else no)(scope)

    def condition_name(self, name: object, path: str) -> str:
        if not isinstance(name, str) or name not in self.declared.conditions:
            known = suggest(name, self.declared.conditions) if isinstance(name, str) else ""
            raise TemplateError(path, f"no condition named {show(name)}{known}")
        return name

    _FUNCTIONS: dict[str, Callable[[Compiler, Any, str], Expr]] = {
        "Ref": _ref,
        "Fn::GetAtt": _get_att,
        "Fn::Sub": _sub,
        "Fn::Join": _join,
        "Fn::Select": _select,
        "Fn::Split": _split,
        "Fn::FindInMap": _find_in_map,
        "Fn::Base64": _base64,
        "Fn::If": _if,
    }
