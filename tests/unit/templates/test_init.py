"""Tests for the package surface and validate()."""

from __future__ import annotations

import pytest

import silo.templates
from silo.errors import ValidationError
from silo.templates import (
    NO_ECHO_MASK,
    TemplateError,
    load_template,
    mask_parameters,
    prepare,
    resolve,
    validate,
)


def test_public_surface() -> None:
    assert set(silo.templates.__all__) == {
        "NO_ECHO_MASK",
        "RUNNABLE_KINDS",
        "CodeRef",
        "Output",
        "ParameterSpec",
        "Resolutions",
        "ResolvedTemplate",
        "Resource",
        "ResourceKind",
        "Template",
        "TemplateError",
        "default_name",
        "load_template",
        "mask_parameters",
        "prepare",
        "resolve",
        "validate",
    }
    assert issubclass(TemplateError, ValidationError)


_PARAMETERS = """
Parameters:
  Name: {Type: String, AllowedPattern: "[a-z]+", MinLength: 5}
  Env: {Type: String, AllowedValues: [staging, prod]}
  Size: {Type: Number, MinValue: 5, MaxValue: 10}
  Zones: {Type: CommaDelimitedList}
  Pin: {Type: String, AllowedPattern: "[0-9]+", MinLength: 4, MaxLength: 4}
  Given: {Type: String, Default: kept}
Resources:
  Bus: {Type: AWS::Events::EventBus, Properties: {Name: !Sub "${Name}-${Env}"}}
"""


def test_validate_fills_required_parameters_with_placeholders() -> None:
    resolved = validate(_PARAMETERS)
    assert resolved.parameters == {
        "Name": "placeholder",
        "Env": "staging",
        "Size": "5",
        "Zones": ["placeholder"],
        "Pin": "0000",
        "Given": "kept",
    }
    assert resolved.resources["Bus"].arn == "arn:silo:events:local:000000000000:event-bus/placeholder-staging"


def test_validate_keeps_given_values_and_checks_them() -> None:
    assert validate(_PARAMETERS, {"Env": "prod"}).parameters["Env"] == "prod"
    with pytest.raises(TemplateError, match=r"^Parameters\.Env: 'dev' is not one of AllowedValues"):
        validate(_PARAMETERS, {"Env": "dev"})


def test_validate_reports_a_parameter_no_placeholder_satisfies() -> None:
    text = _PARAMETERS.replace('"[0-9]+", MinLength: 4, MaxLength: 4', '"[0-9]{4}-[0-9]{2}"')
    with pytest.raises(TemplateError, match=r"^Parameters\.Pin: required: no value given and no Default$"):
        validate(text)


def test_validate_takes_a_loaded_template_and_reports_its_errors() -> None:
    template = load_template(_PARAMETERS)
    assert validate(template) == validate(_PARAMETERS)
    with pytest.raises(TemplateError, match=r"^Resources\.Bus\.Properties\.Name\.Fn::Sub: unresolved ref"):
        validate(_PARAMETERS.replace("${Name}", "${Nme}"))
    syntax = r"^stack\.yaml: YAML syntax error at line 1, column 5: mapping values are not allowed"
    with pytest.raises(TemplateError, match=syntax):
        validate("a: b: c\n", source="stack.yaml")


_SECRET = """
Parameters:
  Token: {Type: String, NoEcho: true}
  Keys: {Type: CommaDelimitedList, NoEcho: "true"}
  Stage: {Type: String, Default: prod}
Resources:
  Bus: {Type: AWS::Events::EventBus, Properties: {Name: !Sub "${Stage}-${Token}"}}
"""


def test_no_echo_values_resolve_in_clear_and_show_masked() -> None:
    template = load_template(_SECRET)
    assert template.no_echo == {"Token", "Keys"}
    resolved = resolve(
        template, {"Token": "s3cret", "Keys": "a,b"}, account_id="123456789012", stack_name="shop"
    )
    assert resolved.resources["Bus"].physical_name == "prod-s3cret"  # resolution uses the real value
    assert resolved.parameters == {"Token": "s3cret", "Keys": ["a", "b"], "Stage": "prod"}
    assert resolved.shown_parameters() == {"Token": NO_ECHO_MASK, "Keys": NO_ECHO_MASK, "Stage": "prod"}
    assert NO_ECHO_MASK == "****"
    shared = prepare(template, {"Token": "s3cret", "Keys": "a"}, stack_name="shop")
    assert shared.for_account("123456789012").no_echo == {"Token", "Keys"}
    assert validate(_SECRET).shown_parameters()["Token"] == "****"


def test_mask_parameters_masks_only_what_is_named() -> None:
    assert mask_parameters({"A": "1", "B": ["x"]}, {"B", "Missing"}) == {"A": "1", "B": "****"}
    assert mask_parameters({}, {"B"}) == {}
