"""Tests for prepare(): for every account, for_account() is resolve(), and what cannot differ is shared."""

from __future__ import annotations

import functools
import json
import random
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from silo.bench.fleet import service_template
from silo.templates import ResolvedTemplate, TemplateError, load_template, prepare, resolve
from tests.unit.templates._fixtures import FIXTURES
from tests.unit.templates.test_fuzz import VALUES, loaded_documents, mutate

SCANNER = Path(__file__).parents[3] / "examples" / "scanner-service" / "template.yaml"
_ACCOUNTS = ("123456789012", "000000000000", "999999999999", "111111111111", "222222222222")
_CASES = [
    pytest.param(case, id=f"{path.stem}: {case['name']}")
    for path in sorted(FIXTURES.glob("*.yaml"))
    for case in yaml.safe_load(path.read_text())
]


def _outcome(run: Any) -> ResolvedTemplate | tuple[str, str]:
    """The resolved template, or the (path, message) of the TemplateError."""
    try:
        resolved: ResolvedTemplate = run()
    except TemplateError as exc:
        return exc.path, exc.message
    return resolved


def _accounts(text: str, *extra: str) -> list[str]:
    """A few accounts, with every 12-digit number the template mentions (it may compare with one)."""
    return sorted({*_ACCOUNTS, *extra, *re.findall(r"(?<![0-9])[0-9]{12}(?![0-9])", text)})


def _check_equal(text: str, parameters: Any, stack: str, region: str, accounts: list[str]) -> int:
    """for_account() against resolve() in each account; returns how many resolved without error."""
    template = load_template(text)
    prepared = _outcome(lambda: prepare(template, parameters, stack_name=stack, region=region))
    resolved = 0
    for account in accounts:
        expected = _outcome(
            functools.partial(
                resolve, template, parameters, account_id=account, stack_name=stack, region=region
            )
        )
        got = prepared
        if not isinstance(prepared, tuple):
            got = _outcome(functools.partial(prepared.for_account, account))
        assert got == expected, account
        resolved += isinstance(expected, ResolvedTemplate)
    return resolved


@pytest.mark.parametrize("case", _CASES)
def test_every_fixture_case_in_several_accounts(case: dict[str, Any]) -> None:
    try:
        load_template(case["template"])
    except TemplateError:
        return  # a loader error: nothing to prepare
    accounts = _accounts(case["template"], case.get("account", "123456789012"))
    resolved = _check_equal(
        case["template"],
        case.get("parameters"),
        case.get("stack", "shop"),
        case.get("region", "local"),
        accounts,
    )
    if "error" not in case:
        assert resolved == len(accounts)


def test_most_fixture_cases_resolve() -> None:
    resolving = [case for case in _CASES if "error" not in case.values[0]]
    assert len(resolving) > 50


def _template(text: str, parameters: dict[str, Any] | None = None) -> tuple[Any, list[ResolvedTemplate]]:
    prepared = prepare(load_template(text), parameters, stack_name="shop")
    return prepared, [prepared.for_account(account) for account in ("111111111111", "222222222222")]


def test_independent_properties_are_shared_and_dependent_ones_are_not() -> None:
    text = (FIXTURES / "conditions.yaml").read_text()
    case = next(
        c for c in yaml.safe_load(text) if c["name"] == "a condition on the account id, in that account"
    )
    prepared, (main, other) = _template(case["template"])
    assert prepared.shared == {"Bus", "Plain"}
    for logical_id in ("Bus", "Plain"):
        assert main.resources[logical_id].properties is other.resources[logical_id].properties
        assert main.resources[logical_id].arn != other.resources[logical_id].arn
    assert main.resources["Fn"].properties["memory_size"] == 1024
    assert other.resources["Fn"].properties["memory_size"] == 128
    assert main.resources["Worker"].properties is not other.resources["Worker"].properties
    assert main.resources["Worker"].properties == other.resources["Worker"].properties  # DependsOn: Audit
    assert main.outputs["BusName"] is other.outputs["BusName"]
    assert "Audit" in main.resources and "Audit" not in other.resources


def test_a_fleet_service_shares_every_function() -> None:
    template = load_template(service_template(15))
    prepared = prepare(template, {"Version": "v2", "Memory": "256"}, stack_name="bench")
    assert len(prepared.shared) == 15
    accounts = [f"{n:012d}" for n in range(1, 6)]
    results = [prepared.for_account(account) for account in accounts]
    for account, result in zip(accounts, results, strict=True):
        assert result == resolve(
            template, {"Version": "v2", "Memory": "256"}, account_id=account, stack_name="bench"
        )
        assert result.resources["Fn000"].arn == f"arn:silo:lambda:local:{account}:function:bench-Fn000"
    first = results[0]
    for result in results[1:]:
        for logical_id, resource in result.resources.items():
            assert resource.properties is first.resources[logical_id].properties
    assert first.resources["Fn003"].properties["environment"] == {"SERVICE_VERSION": "v2", "STACK": "bench"}


def test_the_scanner_example_in_production() -> None:
    text = SCANNER.read_text()
    assert _check_equal(text, {"Stage": "prod"}, "scanner", "local", _accounts(text)) == len(_accounts(text))
    prepared, (one, two) = _template(text, {"Stage": "prod"})
    # A function's ARN, a state machine's Ref or a rule target's ARN makes a resource per account.
    per_account = {
        "LowBatteryRule",  # a target is NotifyFunction.Arn
        "OnboardingRequestedRule",  # a target is the state machine's Ref: its ARN
        "IngestScanFunction",  # its on-failure destination is QuarantineFunction.Arn
        "EnrichScanFunction",
        "AggregateScansFunction",
        "DeviceOnboardingStateMachine",  # its definition names the functions' ARNs
    }
    assert prepared.shared == {step.logical_id for step in prepared.template.plan.resources} - per_account
    for logical_id, resource in one.resources.items():
        # What a shared function's Events generate is shared too, but for a rule, which targets its ARN.
        function = resource.generated_by
        expected = logical_id in prepared.shared or (function in prepared.shared and resource.kind != "rule")
        assert (resource.properties is two.resources[logical_id].properties) == expected, logical_id
    # A shared function's EventBridge rule targets the function by ARN: its own properties per account.
    rule = two.resources["DeviceHeartbeatFunctionHeartbeat"]
    assert rule.properties["targets"][0]["arn"] == two.resources["DeviceHeartbeatFunction"].arn
    assert one.resources["DailyReportFunctionNightly"].properties["target"] == "shop-DailyReportFunction"
    assert one.outputs["ApiVersion"] is two.outputs["ApiVersion"]
    assert one.outputs["IngestScanFunctionArn"] != two.outputs["IngestScanFunctionArn"]


_DESTINATION = "EventInvokeConfig: {DestinationConfig: {OnFailure: {Destination: %s}}}"
_EVENT = "Events: {E: {Type: EventBridgeRule, Properties: {Pattern: {a: [b]}, EventBusName: %s}}}"


@pytest.mark.parametrize(
    ("properties", "shared"),
    [
        (_DESTINATION % "other", True),
        (_DESTINATION % "!Ref Other", True),
        (_DESTINATION % "!GetAtt Other.Arn", False),
        (_DESTINATION % "!Ref Given", False),
        (_DESTINATION % "arn:silo:lambda:local:111111111111:function:x", False),
        (_EVENT % "!Ref Bus", True),
        (_EVENT % "!Ref Given", False),
        (_EVENT % "!GetAtt Bus.Name", True),
        (_EVENT % "!GetAtt Bus.Arn", False),
        ("Environment: {Variables: {FLOW: !GetAtt Flow.Name, STACK: !Ref AWS::StackName}}", True),
        ("Environment: {Variables: {FLOW: !Ref Flow}}", False),
        ("Environment: {Variables: {ID: !Sub '${AWS::StackName}-${AWS::StackId}'}}", False),
        ("Environment: {Variables: {ID: !Sub '${!AWS::AccountId}'}}", True),
        ("Environment: {Variables: {TABLE: !GetAtt Table.Arn}}", False),
        ("Environment: {Variables: {TABLE: !Ref Table}}", True),
    ],
)
def test_what_makes_a_function_differ_between_accounts(properties: str, shared: bool) -> None:
    text = f"""
Transform: AWS::Serverless-2016-10-31
Parameters: {{Given: {{Type: String, Default: arn:silo:events:local:111111111111:event-bus/b}}}}
Resources:
  Bus: {{Type: AWS::Events::EventBus, Properties: {{Name: b}}}}
  Table: {{Type: AWS::Serverless::SimpleTable}}
  Flow:
    Type: AWS::Serverless::StateMachine
    Properties: {{Definition: {{StartAt: A, States: {{A: {{Type: Pass, End: true}}}}}}}}
  Other: {{Type: AWS::Serverless::Function, Properties: {{Handler: app.handler, InlineCode: x}}}}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      InlineCode: x
      {properties}
"""
    assert ("Fn" in prepare(load_template(text), stack_name="shop").shared) == shared
    _check_equal(text, None, "shop", "local", _accounts(text))


def test_an_error_in_the_shared_part_comes_after_an_earlier_error_of_one_account() -> None:
    text = """
Parameters: {Timeout: {Type: Number, Default: 1000}}
Conditions: {IsMain: !Equals [!Ref AWS::AccountId, "111111111111"]}
Resources:
  First:
    Type: AWS::Lambda::Function
    Properties: {Handler: app.handler, Code: {ZipFile: x}, MemorySize: !If [IsMain, 1, 128]}
  Second:
    Type: AWS::Lambda::Function
    Properties: {Handler: app.handler, Code: {ZipFile: x}, Timeout: !Ref Timeout}
"""
    template = load_template(text)
    prepared = prepare(template, stack_name="shop")
    assert prepared.shared == frozenset()
    with pytest.raises(TemplateError, match=r"^Resources\.First\.Properties\.MemorySize: "):
        prepared.for_account("111111111111")
    with pytest.raises(TemplateError, match=r"^Resources\.Second\.Properties\.Timeout: "):
        prepared.for_account("222222222222")
    assert prepare(template, {"Timeout": "3"}, stack_name="shop").shared == {"Second"}
    assert _check_equal(text, None, "shop", "local", _accounts(text)) == 0


def test_identity_and_parameters_are_checked_as_resolve_checks_them() -> None:
    template = load_template(SCANNER.read_text())
    for stack, region, parameters, path in [
        ("9shop", "local", None, "stack_name"),
        ("shop", "EU", None, "region"),
        ("shop", "local", {"Stage": "qa"}, "Parameters.Stage"),
        ("shop", "local", {"Nope": "x"}, "Parameters.Nope"),
    ]:
        with pytest.raises(TemplateError) as caught:
            prepare(template, parameters, stack_name=stack, region=region)
        with pytest.raises(TemplateError) as expected:
            resolve(template, parameters, account_id="123456789012", stack_name=stack, region=region)
        assert (caught.value.path, caught.value.message) == (path, expected.value.message)
    with pytest.raises(TemplateError) as bad_account:
        prepare(template, stack_name="shop").for_account("12345")
    assert bad_account.value.path == "account_id"


def test_results_of_one_account_share_nothing_mutable_with_resolve() -> None:
    template = load_template(SCANNER.read_text())
    prepared = prepare(template, {"Stage": "prod"}, stack_name="shop")
    resolved = resolve(template, {"Stage": "prod"}, account_id="123456789012", stack_name="shop")
    got = prepared.for_account("123456789012")
    assert got.parameters is not prepared.parameters
    for logical_id, resource in got.resources.items():
        assert resource.properties is not resolved.resources[logical_id].properties


# Values that keep most templates loading, many of them about the account.
_ACCOUNT_VALUES: list[Any] = [
    *VALUES[:12],
    "arn:silo:lambda:local:111111111111:function:x",
    "arn:silo:events:local:111111111111:event-bus/b",
    "111111111111",
    {"Ref": "AWS::AccountId"},
    {"Ref": "AWS::StackId"},
    {"Ref": "AWS::StackName"},
    {"Ref": "Bus"},
    {"Ref": "Fn"},
    {"Ref": "Flow"},
    {"Fn::Sub": "x-${AWS::AccountId}"},
    {"Fn::Sub": "arn:silo:events:local:${AWS::AccountId}:event-bus/b"},
    {"Fn::Sub": "${Fn.Arn}"},
    {"Fn::GetAtt": ["Fn", "Arn"]},
    {"Fn::GetAtt": "Bus.Name"},
    {"Fn::GetAtt": "Bus.Arn"},
    {"Fn::GetAtt": "Flow.Arn"},
    {"Fn::If": ["IsMain", "111111111111", {"Ref": "AWS::NoValue"}]},
    {"Fn::If": ["IsMain", {"Ref": "Bus"}, "arn:silo:events:local:111111111111:event-bus/b"]},
    {"Fn::If": ["IsMain", 5, 100000]},
    {"Fn::If": ["Other", "a", "b"]},
    {"Fn::Select": [{"Fn::If": ["IsMain", 0, 5]}, ["a"]]},
]


def _inside(path: tuple[Any, ...]) -> bool:
    """A value inside a resource's properties, an output or a condition's ``Fn::Equals``."""
    if path[:1] == ("Conditions",):
        return len(path) >= 4 and path[-2] == "Fn::Equals"
    depth = {"Resources": 4, "Outputs": 3}.get(str(path[0]) if path else "", 99)
    return len(path) >= depth and path[-1] not in ("Ref", "Condition", "Type")


@pytest.mark.parametrize("seed", range(2))
def test_mutated_templates_resolve_alike(seed: int) -> None:
    rng = random.Random(seed)
    documents = loaded_documents()
    for document in documents:
        conditions = document.setdefault("Conditions", {})
        conditions.setdefault("IsMain", {"Fn::Equals": [{"Ref": "AWS::AccountId"}, "111111111111"]})
        conditions.setdefault("Other", {"Fn::Not": [{"Condition": "IsMain"}]})
    loaded = resolved = 0
    for _ in range(1000):
        text = json.dumps(mutate(rng, documents, _ACCOUNT_VALUES, _inside))
        try:
            load_template(text)
        except TemplateError:
            continue
        loaded += 1
        resolved += _check_equal(text, None, "shop", "local", ["111111111111", "222222222222"])
    assert loaded > 400 and resolved > 150  # of 2000 account resolutions: many end in an error
