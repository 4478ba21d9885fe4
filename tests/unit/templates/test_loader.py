"""Tests for load_template(): the fixture cases, then limits, hashing and the parsed document."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
from typing import Any

import pytest
import yaml

from silo.templates import ParameterSpec, Template, TemplateError, load_template
from tests.unit.templates._fixtures import cases, run_case


@pytest.mark.parametrize("case", cases("loader.yaml"))
def test_loader(case: dict[str, Any]) -> None:
    run_case(case)


_BUS = "{Type: AWS::Events::EventBus, Properties: {Name: b}}"
_YAML = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Description: orders
Parameters:
  Env: {Type: String, Default: dev, AllowedValues: [dev, prod], Description: the stage}
  Secret: {Type: String, NoEcho: true, MinLength: 8}
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      CodeUri: .
      Environment:
        Variables:
          A: !Sub "${Env}-x"
          B: !GetAtt Other.Arn
          C: !Select [0, !Split [",", !Ref Env]]
  Other: {Type: AWS::Serverless::Function, Properties: {Handler: app.handler, CodeUri: .}}
"""

_JSON = """
{"AWSTemplateFormatVersion": "2010-09-09", "Transform": "AWS::Serverless-2016-10-31",
 "Description": "orders",
 "Parameters": {
   "Env": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "prod"], "Description": "the stage"},
   "Secret": {"Type": "String", "NoEcho": true, "MinLength": 8}},
 "Resources": {
   "Fn": {"Type": "AWS::Serverless::Function", "Properties": {
     "Handler": "app.handler", "CodeUri": ".",
     "Environment": {"Variables": {
       "A": {"Fn::Sub": "${Env}-x"},
       "B": {"Fn::GetAtt": ["Other", "Arn"]},
       "C": {"Fn::Select": [0, {"Fn::Split": [",", {"Ref": "Env"}]}]}}}}},
   "Other": {"Type": "AWS::Serverless::Function", "Properties": {"Handler": "app.handler", "CodeUri": "."}}}}
"""


def test_template_fields() -> None:
    template = load_template(_YAML)
    assert template.format_version == "2010-09-09"
    assert template.transform == "AWS::Serverless-2016-10-31"
    assert template.description == "orders"
    assert template.parameters == {
        "Env": ParameterSpec(
            name="Env", type="String", default="dev", allowed_values=("dev", "prod"), description="the stage"
        ),
        "Secret": ParameterSpec(name="Secret", type="String", no_echo=True, min_length=8),
    }
    assert template.parameters["Secret"].required and not template.parameters["Env"].required


def test_short_tags_become_the_long_form() -> None:
    variables = load_template(_YAML).document["Resources"]["Fn"]["Properties"]["Environment"]["Variables"]
    assert variables == {
        "A": {"Fn::Sub": "${Env}-x"},
        "B": {"Fn::GetAtt": ["Other", "Arn"]},
        "C": {"Fn::Select": [0, {"Fn::Split": [",", {"Ref": "Env"}]}]},
    }


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("!Ref X", {"Ref": "X"}),
        ("!Condition C", {"Condition": "C"}),
        ('!Sub "a${B}"', {"Fn::Sub": "a${B}"}),
        ("!Sub [a, {b: c}]", {"Fn::Sub": ["a", {"b": "c"}]}),
        ("!GetAtt A.B.C", {"Fn::GetAtt": ["A", "B.C"]}),
        ("!GetAtt [A, B]", {"Fn::GetAtt": ["A", "B"]}),
        ("!Join [',', [a, b]]", {"Fn::Join": [",", ["a", "b"]]}),
        ("!If [C, 1, 2]", {"Fn::If": ["C", 1, 2]}),
        ("!Select [0, [a]]", {"Fn::Select": [0, ["a"]]}),
        ("!Split [',', a]", {"Fn::Split": [",", "a"]}),
        ("!FindInMap [M, a, b]", {"Fn::FindInMap": ["M", "a", "b"]}),
        ("!Equals [a, b]", {"Fn::Equals": ["a", "b"]}),
        ("!Not [!Condition C]", {"Fn::Not": [{"Condition": "C"}]}),
        ("!And [a, b]", {"Fn::And": ["a", "b"]}),
        ("!Or [a, b]", {"Fn::Or": ["a", "b"]}),
        ("!Base64 abc", {"Fn::Base64": "abc"}),
        ("!Base64 {a: 1}", {"Fn::Base64": {"a": 1}}),
        ('!GetAZs ""', {"Fn::GetAZs": ""}),
    ],
)
def test_each_short_tag(source: str, expected: object) -> None:
    text = f"Metadata: {{Value: {source}}}\nResources: {{B: {_BUS}}}\n"
    assert load_template(text).document["Metadata"]["Value"] == expected


def test_yaml_and_json_spellings_have_the_same_document_and_hash() -> None:
    from_yaml, from_json = load_template(_YAML), load_template(_JSON)
    assert from_yaml.document == from_json.document
    assert from_yaml.sha256 == from_json.sha256
    canonical = json.dumps(from_json.document, sort_keys=True, separators=(",", ":")).encode()
    assert from_yaml.sha256 == hashlib.sha256(canonical).hexdigest()
    assert load_template(_YAML.replace("orders", "order")).sha256 != from_yaml.sha256


def test_global_yaml_state_is_untouched() -> None:
    load_template(_YAML)
    with pytest.raises(yaml.constructor.ConstructorError):
        yaml.safe_load("a: !Ref x")
    assert yaml.safe_load("d: 2010-09-09")["d"] == datetime.date(2010, 9, 9)


def test_bytes_with_a_byte_order_mark() -> None:
    template = load_template(b"\xef\xbb\xbf" + _YAML.encode())
    assert template.sha256 == load_template(_YAML).sha256


def test_bytes_that_are_not_utf8() -> None:
    with pytest.raises(TemplateError, match=r"^doc.yaml: not UTF-8 text \(byte 13\)$"):
        load_template(b"Description: \xff\n", source="doc.yaml")


def _padded(size: int) -> str:
    head = "Resources: {B: {Type: AWS::Events::EventBus, Properties: {Name: b}}}\nMetadata: {Pad: "
    return head + "x" * (size - len(head) - 2) + "}\n"


def test_size_limit() -> None:
    assert len(_padded(1_048_576).encode()) == 1_048_576
    load_template(_padded(1_048_576))
    with pytest.raises(TemplateError, match=r"^template: larger than 1048576 bytes$"):
        load_template(_padded(1_048_577))
    with pytest.raises(TemplateError, match="larger than 1048576 bytes"):
        load_template(_padded(1_048_577).encode())


def _buses(count: int) -> str:
    return "Resources:\n" + "".join(f"  B{index}: {_BUS}\n" for index in range(count))


def test_resource_limit() -> None:
    assert len(load_template(_buses(500)).plan.resources) == 500
    with pytest.raises(TemplateError, match=r"^Resources: at most 500 resources, got 501$"):
        load_template(_buses(501))


def test_alias_expansion_is_limited() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for index, name in enumerate("bcdefg"):
        previous = "abcdefg"[index]
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 10)}]")
    with pytest.raises(TemplateError, match=r"expands to more than 1000000 values \(YAML aliases\)"):
        load_template("\n".join(["Metadata:", *(f"  {line}" for line in lines)]))


def test_recursive_alias() -> None:
    with pytest.raises(TemplateError, match=r"^Metadata\.a\[0\]: recursive YAML alias at line 2$"):
        load_template("Metadata:\n  a: &a [*a]\n")


@pytest.mark.parametrize("spelling", ["yaml", "json"])
def test_nesting_limit(spelling: str) -> None:
    deep = "[" * 150 + "]" * 150
    text = f"Metadata: {{x: {deep}}}" if spelling == "yaml" else f'{{"Metadata": {{"x": {deep}}}}}'
    with pytest.raises(TemplateError, match="nested more than 100 levels deep"):
        load_template(text)


def test_templates_are_immutable() -> None:
    template = load_template(_YAML)
    with pytest.raises(dataclasses.FrozenInstanceError):
        template.description = "changed"  # type: ignore[misc]
    assert isinstance(template, Template)
