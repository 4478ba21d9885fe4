"""Template text to plain data: YAML (with CloudFormation short-form tags) or JSON.

Short tags become their long form (``!Sub x`` -> ``{"Fn::Sub": "x"}``, ``!GetAtt A.B`` ->
``{"Fn::GetAtt": ["A", "B"]}``). YAML timestamps stay strings (``AWSTemplateFormatVersion: 2010-09-09``
is a string to CloudFormation). Duplicate keys are an error naming the path and line, in YAML and in
JSON. Aliases are allowed, but the document they expand to is limited like any other, and merge keys
(``<<``) are refused as CloudFormation does.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from silo.templates._checks import join as _join
from silo.templates.model import TemplateError

MAX_TEMPLATE_BYTES = 1_048_576
MAX_DEPTH = 100
MAX_NODES = 1_000_000
"""Values in the expanded document; a 1 MiB text without aliases cannot exceed it."""

_FUNCTIONS = (
    "Sub GetAtt Join If Select Split FindInMap Equals Not And Or Base64 "
    "GetAZs ImportValue Cidr Length ToJsonString Transform"  # unsupported, refused with a clear error later
)
SHORT_TAGS = {
    "!Ref": "Ref",
    "!Condition": "Condition",
    **{f"!{name}": f"Fn::{name}" for name in _FUNCTIONS.split()},
}
_SCALAR_TAGS = {"!Ref", "!Condition"}
_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "seq", "map")
)
_UNRESOLVED = {"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value"}
_MERGE = "tag:yaml.org,2002:merge"
# libyaml's loader when PyYAML has it (about 6x faster on large templates), else the pure-Python one;
# both build only plain data, and the node checks below run on either.
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[valid-type,misc]
    """A private loader: constructors and resolvers added here leave PyYAML's globals untouched."""

    yaml_implicit_resolvers = {
        first: [(tag, regex) for tag, regex in resolvers if tag not in _UNRESOLVED]
        for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
    }


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> dict[str, Any]:
    # Keys are checked (scalar, unique) by _check before construction; use them as written.
    return {key.value: loader.construct_object(value, deep=True) for key, value in node.value}


def _construct_short(loader: _Loader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    long = SHORT_TAGS[f"!{suffix}"]
    if isinstance(node, yaml.ScalarNode):
        value: Any = node.value
        if long == "Fn::GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = [loader.construct_object(child, deep=True) for child in node.value]
    else:
        value = _construct_map(loader, node)  # type: ignore[arg-type]
    return {long: value}


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_multi_constructor("!", _construct_short)


def parse(text: str | bytes, source: str) -> Any:
    """Parse template text; JSON when the first non-space character is ``{``, else YAML."""
    if isinstance(text, bytes):
        if len(text) > MAX_TEMPLATE_BYTES:
            raise TemplateError(source, f"larger than {MAX_TEMPLATE_BYTES} bytes")
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise TemplateError(source, f"not UTF-8 text (byte {exc.start})") from None
    elif len(text) > MAX_TEMPLATE_BYTES // 4 and len(text.encode()) > MAX_TEMPLATE_BYTES:
        raise TemplateError(source, f"larger than {MAX_TEMPLATE_BYTES} bytes")
    text = text.removeprefix("\ufeff")
    try:
        if text.lstrip()[:1] == "{":
            return _parse_json(text, source)
        return _parse_yaml(text, source)
    except RecursionError:
        raise TemplateError(source, f"nested more than {MAX_DEPTH} levels deep") from None


def _parse_yaml(text: str, source: str) -> Any:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise TemplateError(source, "empty template")
        _check(node, "", 0, {}, set())
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise TemplateError(source, f"YAML syntax error{where}: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise TemplateError(source, f"YAML error: {exc}") from None
    finally:
        loader.dispose()


def _check(node: yaml.Node, path: str, depth: int, sizes: dict[int, int], open_: set[int]) -> int:
    """Check keys, tags and depth before construction; return the node's expanded size."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    if id(node) in open_:
        raise TemplateError(path, f"recursive YAML alias at line {node.start_mark.line + 1}")
    if depth > MAX_DEPTH:
        raise TemplateError(path, f"nested more than {MAX_DEPTH} levels deep")
    tag = node.tag
    if tag not in _PLAIN_TAGS and tag not in SHORT_TAGS:
        raise TemplateError(path, f"unsupported YAML tag {tag} at line {node.start_mark.line + 1}")
    if tag in SHORT_TAGS:
        path = _join(path, SHORT_TAGS[tag])
        if tag in _SCALAR_TAGS and not isinstance(node, yaml.ScalarNode):
            raise TemplateError(path, f"{tag} takes a name, at line {node.start_mark.line + 1}")
    size = 1
    open_.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            line = key.start_mark.line + 1
            if key.tag == _MERGE:
                raise TemplateError(path, f"YAML merge keys (<<) are not supported, at line {line}")
            if not isinstance(key, yaml.ScalarNode) or key.tag not in _PLAIN_TAGS:
                raise TemplateError(path, f"keys must be plain strings, at line {line}")
            if key.value in seen:
                raise TemplateError(
                    _join(path, key.value),
                    f"duplicate key {key.value!r} at line {line} (first at line {seen[key.value]})",
                )
            seen[key.value] = line
            size += _check(value, _join(path, key.value), depth + 1, sizes, open_)
    elif isinstance(node, yaml.SequenceNode):
        for index, child in enumerate(node.value):
            size += _check(child, f"{path}[{index}]", depth + 1, sizes, open_)
    open_.discard(id(node))
    sizes[id(node)] = size
    if size > MAX_NODES:
        raise TemplateError(path, f"expands to more than {MAX_NODES} values (YAML aliases)")
    return size


class _Duplicate(Exception):
    pass


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _Duplicate
    return out


def _parse_json(text: str, source: str) -> Any:
    try:
        document = json.loads(text, object_pairs_hook=_unique_pairs)
    except json.JSONDecodeError as exc:
        raise TemplateError(
            source, f"JSON syntax error at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except _Duplicate:
        _JsonDuplicates(text).find()
        raise AssertionError("unreachable: the scan finds the duplicate json.loads found") from None
    _check_depth(document, source)
    return document


def _check_depth(document: Any, source: str) -> None:
    stack = [(document, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise TemplateError(source, f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(value, dict):
            stack.extend((child, depth + 1) for child in value.values())
        elif isinstance(value, list):
            stack.extend((child, depth + 1) for child in value)


class _JsonDuplicates:
    """Re-scan JSON text already known to be valid to name the first duplicate key's path and line.

    Only runs when ``json.loads`` found a duplicate, which it cannot locate itself.
    """

    _STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
    _SCALAR = re.compile(r"-?[0-9][0-9.eE+-]*|true|false|null|NaN|-?Infinity")
    _SPACE = re.compile(r"[ \t\r\n]*")

    def __init__(self, text: str) -> None:
        self.text = text

    def find(self) -> None:
        self._value(0, "")

    def _string(self, at: int) -> tuple[str, int]:
        match = self._STRING.match(self.text, at)
        assert match is not None
        return json.loads(match.group()), match.end()

    def _skip(self, at: int) -> int:
        return self._SPACE.match(self.text, at).end()  # type: ignore[union-attr]

    def _line(self, at: int) -> int:
        return self.text.count("\n", 0, at) + 1

    def _value(self, at: int, path: str) -> int:
        at = self._skip(at)
        char = self.text[at]
        if char == '"':
            return self._string(at)[1]
        if char == "[":
            at, index = self._skip(at + 1), 0
            while self.text[at] != "]":
                at = self._skip(self._value(at, f"{path}[{index}]"))
                at, index = (at + 1 if self.text[at] == "," else at), index + 1
            return at + 1
        if char == "{":
            at, seen = self._skip(at + 1), dict[str, int]()
            while self.text[at] != "}":
                key, end = self._string(at)
                if key in seen:
                    first = self._line(seen[key])
                    raise TemplateError(
                        _join(path, key),
                        f"duplicate key {key!r} at line {self._line(at)} (first at line {first})",
                    )
                seen[key] = at
                at = self._skip(self._value(self._skip(end) + 1, _join(path, key)))
                at = at + 1 if self.text[at] == "," else at
                at = self._skip(at)
            return at + 1
        return self._SCALAR.match(self.text, at).end()  # type: ignore[union-attr]
