"""Seeded fuzzing: mutated fixture templates must fail only with TemplateError, never a crash."""

from __future__ import annotations

import contextlib
import copy
import json
import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml

from silo.templates import TemplateError, load_template, resolve
from tests.unit.templates._fixtures import FIXTURES

_TEXTS = [
    case["template"] for path in sorted(FIXTURES.glob("*.yaml")) for case in yaml.safe_load(path.read_text())
]
VALUES: list[Any] = [
    None, 0, -1, 1.5, True, "", "x", "AWS::NoValue", "${AWS::Region}", [], {}, [[[]]], ["a", 1], {"a": 1},
    {"Ref": "AWS::NoValue"}, {"Ref": "x"}, {"Ref": []}, {"Ref": "Bus"}, {"Fn::If": ["c", 1, 2]},
    {"Fn::If": [[], 1, 2]}, {"Fn::Sub": "${x}"}, {"Fn::Sub": ["${a}", {"a": []}]},
    {"Fn::Join": [",", [[1]]]}, {"Fn::Select": [[0], [1]]}, {"Fn::GetAtt": ["x", "y"]},
    {"Fn::GetAtt": [[], {}]}, {"Fn::GetAtt": "Fn.Arn"}, {"Fn::FindInMap": [[], {}, 1]}, {"Condition": []},
    {"Fn::Equals": [[], {}]}, {"Fn::Split": [",", []]}, {"Fn::Base64": []},
]  # fmt: skip
_SNIPPETS = [*"{}[]:,-!&*|>'\"\n #%@`?<=~\t\\", "!Ref ", "!Sub ", "&a ", "*a", "<<: ", "---\n", "\ufeff", "é"]


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        yield from _paths(child, (*path, key))


def _document(text: str) -> Any:
    try:
        return load_template(text).document
    except TemplateError:
        return None


def _attempt(text: str) -> None:
    with contextlib.suppress(TemplateError):
        resolve(load_template(text), account_id="123456789012", stack_name="shop")


def loaded_documents() -> list[Any]:
    """The fixture templates that load, as documents."""
    documents = [_document(text) for text in _TEXTS]
    return [document for document in documents if document is not None]


def mutate(
    rng: random.Random,
    documents: list[Any],
    values: list[Any] = VALUES,
    where: Callable[[tuple[Any, ...]], bool] = bool,
) -> Any:
    """A copy of one of ``documents`` with one to three nodes (at paths ``where`` accepts) replaced by one
    of ``values``."""
    document = copy.deepcopy(rng.choice(documents))
    paths = [path for path in _paths(document) if where(path)]
    for path in rng.sample(paths, min(len(paths), rng.randint(1, 3))):
        parent = document
        try:
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = copy.deepcopy(rng.choice(values))
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation replaced an ancestor
    return document


@pytest.mark.parametrize("seed", range(3))
def test_mutated_structure(seed: int) -> None:
    rng = random.Random(seed)
    documents = loaded_documents()
    for _ in range(1000):
        _attempt(json.dumps(mutate(rng, documents)))


@pytest.mark.parametrize("seed", range(3))
def test_mutated_text(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(1000):
        text = rng.choice(_TEXTS)
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(text) + 1)
            choice = rng.random()
            if choice < 0.4:
                text = text[:at] + rng.choice(_SNIPPETS) + text[at:]
            elif choice < 0.8:
                text = text[:at] + text[at + rng.randint(1, 5) :]
            else:
                start = rng.randrange(len(text) + 1)
                text = text[:at] + text[start : start + 10] + text[at:]
        _attempt(text)
