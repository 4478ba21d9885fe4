"""``/v1/account/templates`` and ``/v1/account/stacks``: validate, deploy, change sets, reads, drift,
delete, and bad input (a clear 4xx naming the template path, never a 500, nothing written)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from silo.api import create_app
from silo.platform import Initialised, Platform
from silo.settings import Settings

from .conftest import Api, TestClient
from .functions_helpers import FUNCTIONS, Tenant
from .stacks_helpers import STACKS, TEMPLATE, VALIDATE, bundle, deploy_body

Code = Callable[[str], bytes]


@pytest.fixture
def member(api: Api) -> Tenant:
    return Tenant.make(api, "member")


def test_validate_resolves_for_the_callers_account(member: Tenant) -> None:
    summary = member.api.post(VALIDATE, {"template": TEMPLATE, "parameters": {"Memory": 512}})
    assert summary["description"] == "an echo service"
    assert summary["parameters"] == {"Memory": "512", "Greeting": "hello"}
    resources = {r["logical_id"]: r for r in summary["resources"]}
    assert resources["Echo"]["physical_name"] == "validate-Echo" and resources["Echo"]["runnable"]
    assert resources["Echo"]["arn"] == f"arn:silo:lambda:local:{member.account_id}:function:validate-Echo"
    assert resources["Nightly"]["runnable"] is True and resources["Nightly"]["depends_on"] == ["Echo"]
    assert summary["not_runnable"] == []
    assert summary["code_paths"] == ["src"]
    assert summary["outputs"]["EchoName"] == {
        "value": "validate-Echo",
        "description": "the function",
        "export_name": None,
    }
    named = member.api.post(VALIDATE, {"template": TEMPLATE, "stack_name": "shop"})
    assert named["outputs"]["EchoName"]["value"] == "shop-Echo"
    assert member.api.get(STACKS)["items"] == []


def test_deploy_get_list_resources_events_template(member: Tenant, code: Code) -> None:
    zipped = code("echo")
    deployed = member.api.put(f"{STACKS}/shop", deploy_body(zipped, parameters={"Greeting": "hi"}))
    stack = deployed["stack"]
    assert (stack["name"], stack["status"], stack["stack_set"]) == ("shop", "CREATE_COMPLETE", None)
    assert stack["parameters"] == {"Memory": "256", "Greeting": "hi"}
    assert stack["outputs"]["EchoName"]["value"] == "shop-Echo"
    assert [(c["action"], c["logical_id"]) for c in deployed["changes"]] == [
        ("Add", "Echo"),
        ("Add", "Nightly"),
    ]
    assert member.api.get(f"{STACKS}/shop") == stack
    assert [s["name"] for s in member.api.get(STACKS)["items"]] == ["shop"]

    resources = {r["logical_id"]: r for r in member.api.get(f"{STACKS}/shop/resources")["items"]}
    assert (resources["Echo"]["status"], resources["Echo"]["runnable"]) == ("CREATE_COMPLETE", True)
    assert (resources["Nightly"]["status"], resources["Nightly"]["runnable"]) == ("CREATE_COMPLETE", True)
    events = member.api.get(f"{STACKS}/shop/events")["items"]
    assert (events[0]["logical_id"], events[0]["status"]) == ("shop", "CREATE_COMPLETE")
    first = member.api.get(f"{STACKS}/shop/events", params={"limit": 1})
    assert first["items"] == events[:1] and first["next_token"]
    assert member.api.get(f"{STACKS}/shop/template") == {"template": TEMPLATE}

    function = member.api.get(f"{FUNCTIONS}/shop-Echo")
    assert (function["memory_size"], function["environment"]) == (256, {"GREETING": "hi"})
    assert member.invoke("shop-Echo", b'{"n": 1}').json() == {"n": 1}

    again = member.api.put(f"{STACKS}/shop", deploy_body(zipped, parameters={"Greeting": "hi"}))
    assert again["changes"] == []


def test_change_set_previews_then_executes_exactly_that(member: Tenant, code: Code) -> None:
    zipped = code("echo")
    member.api.put(f"{STACKS}/shop", deploy_body(zipped))
    made = member.api.post(
        f"{STACKS}/shop/change-sets",
        {"name": "bigger", **deploy_body(zipped, parameters={"Memory": "512"})},
        201,
    )
    assert (made["name"], made["stack_name"], made["status"]) == ("bigger", "shop", "CREATE_COMPLETE")
    assert [(c["action"], c["logical_id"], c["properties"]) for c in made["changes"]] == [
        ("Modify", "Echo", ["memory_size"])
    ]
    assert member.api.get(f"{FUNCTIONS}/shop-Echo")["memory_size"] == 256  # nothing applied yet
    assert member.api.get(f"{STACKS}/shop/change-sets/bigger") == made
    assert [c["name"] for c in member.api.get(f"{STACKS}/shop/change-sets")["items"]] == ["bigger"]

    executed = member.api.post(f"{STACKS}/shop/change-sets/bigger/execute")
    assert executed["changes"] == made["changes"]
    assert executed["stack"]["status"] == "UPDATE_COMPLETE"
    assert member.api.get(f"{FUNCTIONS}/shop-Echo")["memory_size"] == 512
    assert member.api.get(f"{STACKS}/shop/change-sets/bigger")["status"] == "EXECUTE_COMPLETE"
    again = member.api.post(f"{STACKS}/shop/change-sets/bigger/execute", expect=409)
    assert again["code"] == "Conflict"


def test_a_change_set_for_a_new_stack_creates_it(member: Tenant, code: Code) -> None:
    made = member.api.post(f"{STACKS}/fresh/change-sets", {"name": "first", **deploy_body(code("echo"))}, 201)
    assert {c["action"] for c in made["changes"]} == {"Add"}
    member.api.get(f"{STACKS}/fresh", 404)
    assert (
        member.api.post(f"{STACKS}/fresh/change-sets/first/execute")["stack"]["status"] == "CREATE_COMPLETE"
    )


def test_drift_then_delete(member: Tenant, code: Code) -> None:
    member.api.put(f"{STACKS}/shop", deploy_body(code("echo")))
    assert member.api.get(f"{STACKS}/shop/drift") == {"drifted": False, "items": []}
    member.api.patch(f"{FUNCTIONS}/shop-Echo", {"memory_size": 1024})
    drift = member.api.get(f"{STACKS}/shop/drift")
    assert drift["drifted"] is True
    assert drift["items"] == [
        {
            "logical_id": "Echo",
            "physical_name": "shop-Echo",
            "status": "MODIFIED",
            "properties": ["memory_size"],
        }
    ]
    assert member.api.delete(f"{STACKS}/shop") is None
    member.api.get(f"{STACKS}/shop", 404)
    member.api.get(f"{FUNCTIONS}/shop-Echo", 404)
    assert member.api.get(STACKS)["items"] == []


def test_drift_names_a_rule_changed_through_the_events_api(member: Tenant, code: Code) -> None:
    member.api.put(f"{STACKS}/shop", deploy_body(code("echo")))
    member.api.post("/v1/account/events/rules/shop-Nightly/disable")
    assert member.api.get(f"{STACKS}/shop/drift")["items"] == [
        {
            "logical_id": "Nightly",
            "physical_name": "shop-Nightly",
            "status": "MODIFIED",
            "properties": ["enabled"],
        }
    ]
    member.api.delete("/v1/account/events/rules/shop-Nightly", params={"force": "true"})
    assert member.api.get(f"{STACKS}/shop/drift")["items"][0]["status"] == "DELETED"


SECRET = TEMPLATE.replace(
    "  Greeting:\n    Type: String\n", "  Greeting:\n    Type: String\n    NoEcho: true\n"
)
MASKED = {"Memory": "256", "Greeting": "****"}


def test_no_echo_parameters_are_masked_wherever_a_stack_is_described(member: Tenant, code: Code) -> None:
    summary = member.api.post(VALIDATE, {"template": SECRET, "parameters": {"Greeting": "s3cret"}})
    assert summary["parameters"] == MASKED
    body = deploy_body(code("echo"), SECRET, parameters={"Greeting": "s3cret"})
    assert member.api.put(f"{STACKS}/shop", body)["stack"]["parameters"] == MASKED
    assert member.api.get(f"{STACKS}/shop")["parameters"] == MASKED
    assert [s["parameters"] for s in member.api.get(STACKS)["items"]] == [MASKED]
    assert member.api.get(f"{FUNCTIONS}/shop-Echo")["environment"] == {"GREETING": "s3cret"}
    rotate = {"name": "rotate", **deploy_body(code("echo"), SECRET, parameters={"Greeting": "n3w"})}
    assert member.api.post(f"{STACKS}/shop/change-sets", rotate, 201)["parameters"] == MASKED
    assert member.api.get(f"{STACKS}/shop/change-sets/rotate")["parameters"] == MASKED
    assert [c["parameters"] for c in member.api.get(f"{STACKS}/shop/change-sets")["items"]] == [MASKED]
    executed = member.api.post(f"{STACKS}/shop/change-sets/rotate/execute")
    assert executed["stack"]["parameters"] == MASKED
    assert member.api.get(f"{FUNCTIONS}/shop-Echo")["environment"] == {"GREETING": "n3w"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/nope"),
        ("DELETE", "/nope"),
        ("GET", "/nope/resources"),
        ("GET", "/nope/events"),
        ("GET", "/nope/template"),
        ("GET", "/nope/drift"),
        ("GET", "/nope/change-sets/cs"),
        ("POST", "/nope/change-sets/cs/execute"),
    ],
)
def test_an_unknown_stack_is_a_404(member: Tenant, method: str, path: str) -> None:
    answer = member.api.call(method, STACKS + path, 404, json={} if method == "POST" else None)
    assert answer["code"] == "NotFound" and "nope" in answer["message"]


def test_bad_templates_and_bodies_are_400s_naming_the_path(member: Tenant, code: Code) -> None:
    zipped = code("echo")
    cases: list[tuple[dict[str, object], str, str]] = [
        ({"template": TEMPLATE.replace("Runtime: python3.11", "Runtime: python3.11\n      Timeout: 5000")},
         "InvalidTemplate", "Resources.Echo.Properties.Timeout"),
        ({"parameters": {"Memory": "lots"}}, "InvalidTemplate", "Parameters.Memory"),
        ({"parameters": {"Colour": "red"}}, "InvalidTemplate", "Parameters.Colour"),
        ({"template": TEMPLATE.replace("AWS::Events::Rule", "AWS::Nope::Thing")},
         "InvalidTemplate", "Resources.Nightly.Type"),
        ({"template": "Resources: [unclosed"}, "InvalidTemplate", "template"),
        ({"code": {}}, "InvalidTemplate", "Resources.Echo.Properties.CodeUri"),
        ({"code": {"src/": "not base64!"}}, "ValidationError", "code.src/"),
        ({"code": {**bundle(zipped), **bundle(zipped, "other/")}}, "ValidationError", "code"),
        ({"code": bundle(b"not a zip")}, "InvalidTemplate", "Resources.Echo.Properties.CodeUri"),
        ({"colour": "red"}, "ValidationError", "body.colour"),
        ({"parameters": {"Memory": True}}, "ValidationError", "body.parameters.Memory"),
        ({"template": None}, "ValidationError", "body.template"),
    ]  # fmt: skip
    for change, code_, says in cases:
        body = {**deploy_body(zipped), **change}
        answer = member.api.put(f"{STACKS}/shop", body, 400)
        assert (answer["code"], says in answer["message"]) == (code_, True), (change, answer)
        if code_ == "InvalidTemplate":
            assert answer["details"]["path"].startswith(says) or says == "template", answer
    assert member.api.put(f"{STACKS}/bad name!", deploy_body(zipped), 400)["code"] == "ValidationError"
    bad_cs = {"name": "1-starts-with-a-digit", **deploy_body(zipped)}
    assert "change_set" in member.api.post(f"{STACKS}/shop/change-sets", bad_cs, 400)["message"]
    bad = member.api.post(VALIDATE, {"template": TEMPLATE.replace("!Ref Memory", "!Ref Nothing")}, 400)
    assert bad["code"] == "InvalidTemplate" and "Resources.Echo" in bad["details"]["path"]
    assert member.api.get(STACKS)["items"] == [] and member.api.get(FUNCTIONS)["items"] == []


def test_guardrails_deny_a_template_resource(api: Api, member: Tenant, code: Code) -> None:
    rule = {
        "Statement": [
            {
                "Sid": "NoBigFunctions",
                "Effect": "Deny",
                "Action": "functions:Create",
                "Condition": {"NumericGreaterThan": {"MemorySize": 512}},
            }
        ]
    }
    rail = api.post("/v1/mgmt/guardrails", {"name": "small", "document": rule}, 201)
    api.post(f"/v1/mgmt/guardrails/{rail['policy_id']}/attach", {"target_id": member.account_id})
    denied = member.api.put(f"{STACKS}/shop", deploy_body(code("echo"), parameters={"Memory": "1024"}), 403)
    assert denied["code"] == "GuardrailDenied" and denied["message"].startswith("Resources.Echo: ")
    assert member.api.get(STACKS)["items"] == []


@pytest.fixture
def small_limits(settings: Settings) -> Iterator[tuple[TestClient, str]]:
    platform = Platform.open(settings.with_(max_body_bytes=2048, max_code_body_bytes=8192))
    try:
        init: Initialised | None = platform.initialise()
        assert init is not None
        with TestClient(create_app(platform)) as client:
            yield client, Tenant.make(Api(client, init.root_key.token), "small").api.token or ""
    finally:
        platform.close()


def test_bodies_with_code_take_the_code_limit(small_limits: tuple[TestClient, str], code: Code) -> None:
    client, token = small_limits
    own = Api(client, token)
    fits = code("import os\n# " + os.urandom(1200).hex() + "\ndef handler(e, c):\n    return 1\n")
    body = deploy_body(fits)
    assert 2048 < len(str(body)) < 8192
    assert own.put(f"{STACKS}/shop", body)["stack"]["status"] == "CREATE_COMPLETE"
    assert own.post(f"{STACKS}/shop/change-sets", {"name": "cs", **body}, 201)["changes"] == []
    big = code("import os\n# " + os.urandom(6000).hex() + "\ndef handler(e, c):\n    return 1\n")
    refused = own.put(f"{STACKS}/other", deploy_body(big), 413)
    assert refused["code"] == "PayloadTooLarge" and refused["details"] == {"max_body_bytes": 8192}
    # validation carries no code: it keeps the default limit
    assert own.post(VALIDATE, {"template": TEMPLATE + "#" * 3000}, 413)["details"] == {"max_body_bytes": 2048}
