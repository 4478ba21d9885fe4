"""Tests for resolve(): the fixture cases, then what fixtures cannot say well."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import pytest

from silo.templates import ResolvedTemplate, TemplateError, load_template, resolve
from tests.unit.templates._fixtures import cases, run_case


@pytest.mark.parametrize("case", cases("intrinsics.yaml"))
def test_intrinsics(case: dict[str, Any]) -> None:
    run_case(case)


@pytest.mark.parametrize("case", cases("conditions.yaml"))
def test_conditions(case: dict[str, Any]) -> None:
    run_case(case)


@pytest.mark.parametrize("case", cases("functions.yaml"))
def test_functions(case: dict[str, Any]) -> None:
    run_case(case)


@pytest.mark.parametrize("case", cases("events.yaml"))
def test_events(case: dict[str, Any]) -> None:
    run_case(case)


@pytest.mark.parametrize("case", cases("resources.yaml"))
def test_resources(case: dict[str, Any]) -> None:
    run_case(case)


@pytest.mark.parametrize("case", cases("dependencies.yaml"))
def test_dependencies(case: dict[str, Any]) -> None:
    run_case(case)


_BUS = "{Type: AWS::Events::EventBus, Properties: {Name: b}}"
_STACK = """
Transform: AWS::Serverless-2016-10-31
Parameters:
  Zones: {Type: CommaDelimitedList, Default: "a,b"}
Resources:
  Orders: {Type: AWS::Events::EventBus, Properties: {Name: orders}}
  Ingest:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      CodeUri: .
      Environment: {Variables: {BUS: !Ref Orders, FLOW: !Ref Flow}}
      Tags: {team: core}
      Events:
        Placed:
          Type: EventBridgeRule
          Properties: {EventBusName: !Ref Orders, Pattern: {source: [shop]}}
  Flow:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      Definition: {StartAt: A, States: {A: {Type: Pass, Result: {zones: !Ref Zones}, End: true}}}
"""


def _resolve(text: str = _STACK, account: str = "123456789012", stack: str = "shop") -> ResolvedTemplate:
    return resolve(load_template(text), account_id=account, stack_name=stack)


def test_resolution_is_deterministic() -> None:
    template = load_template(_STACK)
    first = resolve(template, account_id="123456789012", stack_name="shop")
    assert first == resolve(template, account_id="123456789012", stack_name="shop")
    assert first == _resolve()
    assert list(first.resources) == ["Orders", "Flow", "Ingest", "IngestPlaced"]


def test_accounts_differ_in_arns_not_in_names() -> None:
    one, two = _resolve(account="111111111111"), _resolve(account="222222222222")
    for logical_id, resource in one.resources.items():
        other = two.resources[logical_id]
        assert resource.physical_name == other.physical_name
        assert resource.arn.replace("111111111111", "222222222222") == other.arn
        assert resource.arn != other.arn
    assert two.resources["IngestPlaced"].properties["targets"][0]["arn"] == (
        "arn:silo:lambda:local:222222222222:function:shop-Ingest"
    )


def test_resolutions_share_no_mutable_state() -> None:
    template = load_template(_STACK)
    document = copy.deepcopy(template.document)
    first = resolve(template, account_id="123456789012", stack_name="shop")
    ingest, flow = first.resources["Ingest"].properties, first.resources["Flow"].properties
    ingest["environment"]["BUS"] = "changed"
    ingest["tags"]["team"] = "changed"
    flow["definition"]["States"]["A"]["Result"]["zones"].append("z")
    flow["definition"]["StartAt"] = "changed"
    first.resources["IngestPlaced"].properties["pattern"]["source"].append("changed")
    first.parameters["Zones"].append("changed")
    second = resolve(template, account_id="123456789012", stack_name="shop")
    assert second == _resolve()
    assert second.resources["Flow"].properties["definition"]["States"]["A"]["Result"] == {"zones": ["a", "b"]}
    assert template.document == document


def test_long_default_names_are_cut_and_hashed() -> None:
    stack = "s" * 60
    full = f"{stack}-Ingest"
    expected = f"{full[:55]}-{hashlib.sha256(full.encode()).hexdigest()[:8]}"
    resolved = _resolve(stack=stack)
    function = resolved.resources["Ingest"]
    assert len(expected) == 64
    assert function.physical_name == expected
    assert function.arn == f"arn:silo:lambda:local:123456789012:function:{expected}"
    assert resolved.resources["Flow"].physical_name == f"{stack}-Flow"  # state machines allow 80
    assert resolved.resources["Orders"].physical_name == "orders"  # given names are kept


def test_long_names_of_different_resources_stay_distinct() -> None:
    text = """
    Resources:
      {a}: {{Type: AWS::Lambda::Function, Properties: {{Handler: app.handler, Code: {{ZipFile: x}}}}}}
      {b}: {{Type: AWS::Lambda::Function, Properties: {{Handler: app.handler, Code: {{ZipFile: x}}}}}}
    """.format(a="Function" * 10 + "A", b="Function" * 10 + "B")
    names = [resource.physical_name for resource in _resolve(text).resources.values()]
    assert len(set(names)) == 2
    assert all(len(name) == 64 and name.startswith("shop-FunctionFunction") for name in names)


@pytest.mark.parametrize(
    ("account", "stack", "region", "path"),
    [
        ("12345", "shop", "local", "account_id"),
        ("123456789012", "9shop", "local", "stack_name"),
        ("123456789012", "shop_1", "local", "stack_name"),
        ("123456789012", "s" * 129, "local", "stack_name"),
        ("123456789012", "shop", "EU-West", "region"),
    ],
)
def test_identity_is_checked(account: str, stack: str, region: str, path: str) -> None:
    with pytest.raises(TemplateError) as caught:
        resolve(load_template(_STACK), account_id=account, stack_name=stack, region=region)
    assert caught.value.path == path


def test_stack_id_depends_on_account_and_stack_only() -> None:
    template = load_template(f"Resources: {{B: {_BUS}}}\nOutputs: {{Id: {{Value: !Ref AWS::StackId}}}}")

    def stack_id(account: str, stack: str, region: str = "local") -> str:
        value = resolve(template, account_id=account, stack_name=stack, region=region).outputs["Id"].value
        return str(value).rsplit("/", 1)[1]

    assert stack_id("111111111111", "a") == stack_id("111111111111", "a", region="eu-west-1")
    ids = {stack_id("111111111111", "a"), stack_id("111111111111", "b"), stack_id("222222222222", "a")}
    assert len(ids) == 3


def _graph(edges: dict[int, list[int]], count: int) -> str:
    lines = ["Resources:"]
    for index in range(count):
        depends = [f"B{target}" for target in edges.get(index, [])]
        bus = f"{{Type: AWS::Events::EventBus, DependsOn: {depends}, Properties: {{Name: b{index}}}}}"
        lines.append(f"  B{index}: {bus}")
    return "\n".join(lines).replace("'", "")


def test_topological_order_in_a_larger_graph() -> None:
    count = 60
    # Resources not divisible by 3 depend on up to two others, often declared later: edges go to a
    # multiple of 3 (which has none) or to a higher index, so there is no cycle but there are chains.
    pairs = {index: [(index * 7 + 3) % count, (index * 11 + 5) % count] for index in range(count)}
    edges = {i: [t for t in pairs[i] if t % 3 == 0 or t > i] for i in range(count) if i % 3}
    resolved = _resolve(_graph(edges, count))
    order = list(resolved.resources)
    assert sorted(order) == sorted(f"B{index}" for index in range(count))
    position = {name: index for index, name in enumerate(order)}
    for index, targets in edges.items():
        for target in targets:
            assert position[f"B{target}"] < position[f"B{index}"]
    # Ties keep template order: each step takes the earliest declared resource whose dependencies are placed.
    expected: list[str] = []
    while len(expected) < count:
        ready = next(
            index
            for index in range(count)
            if f"B{index}" not in expected and all(f"B{t}" in expected for t in edges.get(index, []))
        )
        expected.append(f"B{ready}")
    assert order == expected


def test_cycle_in_a_larger_graph() -> None:
    edges = {5: [9], 9: [12], 12: [5], 3: [5], 20: [3]}
    with pytest.raises(TemplateError, match=r"^Resources: circular dependency: B5 -> B9 -> B12 -> B5$"):
        load_template(_graph(edges, 25))


def test_one_template_many_accounts() -> None:
    template = load_template(_STACK)
    arns = {
        resolve(template, account_id=f"{account:012d}", stack_name="shop").resources["Ingest"].arn
        for account in range(200)
    }
    assert len(arns) == 200
