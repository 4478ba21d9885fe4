"""``/v1/mgmt/stack-sets`` and ``/v1/mgmt/fleet``: stack sets, instances, operations, progress, events;
bad targets and preferences are 400s, and account keys get 403 on every fleet route."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers.functions import wait_until

from .conftest import Api
from .functions_helpers import FUNCTIONS, Tenant
from .stacks_helpers import FAST, OPERATIONS, STACK_SETS, STACKS, TEMPLATE, bundle

Code = Callable[[str], bytes]
FINISHED = {"SUCCEEDED", "FAILED", "STOPPED"}


def finish(api: Api, operation: dict[str, Any], timeout: float = 60.0) -> dict[str, Any]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        current: dict[str, Any] = api.get(f"{OPERATIONS}/{operation['operation_id']}")
        if current["status"] in FINISHED:
            return current
        time.sleep(0.02)
    raise AssertionError(api.get(f"{OPERATIONS}/{operation['operation_id']}/progress"))


@pytest.fixture
def tenants(api: Api) -> list[Tenant]:
    prod = api.ou("prod")
    return [
        Tenant.make(api, "t-one", ou_id=prod["ou_id"], tags={"tier": "gold"}),
        Tenant.make(api, "t-two", ou_id=prod["ou_id"]),
        Tenant.make(api, "t-three", tags={"tier": "gold"}),
    ]


@pytest.fixture
def stack_set(api: Api, code: Code) -> dict[str, Any]:
    body = {"name": "svc", "template": TEMPLATE, "code": bundle(code("echo")), "description": "the echo"}
    made: dict[str, Any] = api.post(STACK_SETS, body, 201)
    return made


def test_stack_set_crud(api: Api, stack_set: dict[str, Any], code: Code) -> None:
    assert (stack_set["name"], stack_set["version"], stack_set["status"]) == ("svc", 1, "ACTIVE")
    assert stack_set["description"] == "the echo" and stack_set["parameters"] == {}
    assert stack_set["auto_deployment"] == {"enabled": False, "retain_stacks_on_removal": False, "ous": []}
    assert api.get(f"{STACK_SETS}/svc") == stack_set
    assert api.get(STACK_SETS)["items"] == [stack_set]
    again = {"name": "svc", "template": TEMPLATE, "code": bundle(code("echo"))}
    assert api.post(STACK_SETS, again, 409)["code"] == "Conflict"
    assert api.get(f"{STACK_SETS}/svc/instances") == {"items": [], "next_token": None}
    assert api.delete(f"{STACK_SETS}/svc") is None
    assert api.get(f"{STACK_SETS}/svc", 404)["code"] == "NotFound"
    assert api.get(STACK_SETS)["items"] == []


def test_instances_roll_out_update_and_remove(
    api: Api, tenants: list[Tenant], stack_set: dict[str, Any], code: Code
) -> None:
    one, two, three = tenants
    prod = api.get(f"/v1/mgmt/accounts/{one.account_id}")["ou_id"]
    queued = api.post(
        f"{STACK_SETS}/svc/instances",
        {"targets": {"ous": [prod]}, "overrides": {"Greeting": "hey"}, "preferences": FAST},
        202,
    )
    assert (queued["stack_set"], queued["action"], queued["version"]) == ("svc", "CREATE", 1)
    assert queued["preferences"]["max_concurrent"] == "100%" and queued["waves"] == 1
    done = finish(api, queued)
    assert done["status"] == "SUCCEEDED" and done["ended_at"]
    progress = api.get(f"{OPERATIONS}/{queued['operation_id']}/progress")
    assert (progress["total"], progress["succeeded"], progress["failed"], progress["pending"]) == (2, 2, 0, 0)
    assert progress["eta_s"] == 0.0 and progress["waves"][0]["succeeded"] == 2
    instances = api.get(f"{STACK_SETS}/svc/instances")["items"]
    assert [(i["account_id"], i["status"], i["version"]) for i in instances] == sorted(
        [(one.account_id, "CURRENT", 1), (two.account_id, "CURRENT", 1)]
    )
    assert instances[0]["overrides"] == {"Greeting": "hey"}
    stack = one.api.get(f"{STACKS}/svc")
    assert (stack["stack_set"], stack["operation_id"]) == ("svc", queued["operation_id"])
    assert one.api.get(f"{FUNCTIONS}/svc-Echo")["environment"] == {"GREETING": "hey"}
    three.api.get(f"{STACKS}/svc", 404)
    # the account cannot change or delete the stack its stack set manages
    own = {"template": TEMPLATE, "code": bundle(code("echo")), "parameters": {"Memory": "1024"}}
    assert "managed by stack set 'svc'" in one.api.put(f"{STACKS}/svc", own, 409)["message"]
    assert one.api.post(f"{STACKS}/svc/change-sets", {"name": "mine", **own}, 409)["code"] == "Conflict"
    assert one.api.delete(f"{STACKS}/svc", 409)["code"] == "Conflict"
    assert one.api.get(f"{FUNCTIONS}/svc-Echo")["memory_size"] == 256

    update = api.patch(f"{STACK_SETS}/svc", {"parameters": {"Memory": "512"}, "preferences": FAST}, 202)
    assert (update["action"], update["version"]) == ("UPDATE", 2)
    assert finish(api, update)["status"] == "SUCCEEDED"
    assert api.get(f"{STACK_SETS}/svc")["version"] == 2
    assert two.api.get(f"{FUNCTIONS}/svc-Echo")["memory_size"] == 512

    changed = api.patch(
        f"{STACK_SETS}/svc/instances",
        {"targets": {"accounts": [two.account_id]}, "overrides": {"Greeting": "yo"}, "preferences": FAST},
        202,
    )
    assert finish(api, changed)["status"] == "SUCCEEDED"
    assert two.api.get(f"{FUNCTIONS}/svc-Echo")["environment"] == {"GREETING": "yo"}

    removed = api.post(
        f"{STACK_SETS}/svc/instances/delete",
        {
            "targets": {"accounts": [one.account_id, two.account_id]},
            "retain_stacks": False,
            "preferences": FAST,
        },
        202,
    )
    assert removed["action"] == "DELETE" and finish(api, removed)["status"] == "SUCCEEDED"
    one.api.get(f"{STACKS}/svc", 404)
    assert api.get(f"{STACK_SETS}/svc/instances")["items"] == []

    listed = api.get(OPERATIONS, params={"stack_set": "svc"})["items"]
    ids = [queued["operation_id"], update["operation_id"], changed["operation_id"], removed["operation_id"]]
    assert [op["operation_id"] for op in listed] == ids[::-1]  # newest first
    assert len(api.get(OPERATIONS, params={"limit": 2})["items"]) == 2
    assert api.get(OPERATIONS, params={"stack_set": "other"})["items"] == []
    events = api.get("/v1/mgmt/fleet/events", params={"limit": 1000})["items"]
    assert {e["source"] for e in events} == {"silo.fleet"}
    kinds = {e["detail_type"] for e in events}
    assert {"StackSet Operation Status Change", "StackSet Instance Status Change"} <= kinds
    assert len(api.get("/v1/mgmt/fleet/events", params={"limit": 1})["items"]) == 1
    assert api.delete(f"{STACK_SETS}/svc") is None


def test_waves_and_tags(api: Api, tenants: list[Tenant], stack_set: dict[str, Any]) -> None:
    one, _, three = tenants
    body = {
        "waves": [
            {"name": "canary", "targets": {"accounts": [three.account_id]}, "halt_on_failure": True},
            {"name": "gold", "targets": {"tags": {"tier": "gold"}}, "soak_seconds": 0},
        ],
        "preferences": FAST,
    }
    queued = api.post(f"{STACK_SETS}/svc/instances", body, 202)
    assert queued["waves"] == 2
    assert finish(api, queued)["status"] == "SUCCEEDED"
    progress = api.get(f"{OPERATIONS}/{queued['operation_id']}/progress")
    assert [(w["name"], w["total"], w["succeeded"]) for w in progress["waves"]] == [
        ("canary", 1, 1),
        ("gold", 1, 1),
    ]
    deployed = {i["account_id"] for i in api.get(f"{STACK_SETS}/svc/instances")["items"]}
    assert deployed == {one.account_id, three.account_id}


def test_stop_an_operation(api: Api, tenants: list[Tenant], stack_set: dict[str, Any]) -> None:
    one, two, three = tenants
    body = {  # the first wave soaks for a minute: the stop lands before the second starts
        "waves": [
            {"name": "first", "targets": {"accounts": [one.account_id]}, "soak_seconds": 60},
            {"name": "second", "targets": {"accounts": [two.account_id, three.account_id]}},
        ],
        "preferences": FAST,
    }
    queued = api.post(f"{STACK_SETS}/svc/instances", body, 202)
    progress = f"{OPERATIONS}/{queued['operation_id']}/progress"
    # Stop once the first wave is soaking: a stop that lands while the worker takes the QUEUED
    # operation can be lost on PostgreSQL (the runner writes RUNNING over it; reported).
    wait_until(lambda: api.get(progress)["waves"][0]["succeeded"] == 1, timeout=20)
    stopped = api.post(f"{OPERATIONS}/{queued['operation_id']}/stop")
    assert stopped["status"] in {"STOPPING", "STOPPED"}
    done = finish(api, queued, timeout=20)
    assert done["status"] == "STOPPED" and done["status_reason"] == "stopped on request"
    counts = api.get(progress)
    assert counts["waves"][1]["cancelled"] == 2 and (counts["succeeded"], counts["cancelled"]) == (1, 2)
    two.api.get(f"{STACKS}/svc", 404)
    again = api.post(f"{OPERATIONS}/{queued['operation_id']}/stop", expect=409)
    assert again["code"] == "Conflict"


def test_bad_fleet_input_is_a_400(
    api: Api, tenants: list[Tenant], stack_set: dict[str, Any], code: Code
) -> None:
    one = tenants[0].account_id
    instances = f"{STACK_SETS}/svc/instances"
    cases: list[tuple[str, str, dict[str, Any], str]] = [
        ("POST", instances, {"targets": {"accounts": [one]}, "preferences": {"max_concurrent": 0}},
         "preferences.max_concurrent"),
        ("POST", instances, {"targets": {"accounts": [one]}, "preferences": {"max_concurrent": "150%"}},
         "preferences.max_concurrent"),
        ("POST", instances, {"targets": {"accounts": [one]}, "preferences": {"failure_tolerance": "lots"}},
         "preferences.failure_tolerance"),
        ("POST", instances, {"targets": {"accounts": [one]}, "preferences": {"concurrency_mode": "wild"}},
         "body.preferences.concurrency_mode"),
        ("POST", instances, {"targets": {"accounts": [one]}, "preferences": {"max_attempts": 99}},
         "preferences.max_attempts"),
        ("POST", instances, {"targets": {"accounts": [one]}, "preferences": {"retry_base_seconds": -1}},
         "preferences.retry_base_seconds"),
        ("POST", instances, {"targets": {"accounts": [one]}, "preferences": {"speed": "fast"}},
         "body.preferences.speed"),
        ("POST", instances, {"targets": {}}, "body.targets"),
        ("POST", instances, {}, "targets"),
        ("POST", instances, {"targets": {"accounts": ["000000000001"]}}, "targets.accounts"),
        ("POST", instances, {"targets": {"ous": ["ou-abcd-abcdefgh"]}}, "targets.ous"),
        ("POST", instances, {"targets": {"tags": {"tier": "none"}}}, "no active account"),
        ("POST", instances, {"targets": {"accounts": [one]}, "waves": [{"targets": {"accounts": [one]}}]},
         "not both"),
        ("POST", instances, {"waves": [{"targets": {}}]}, "body.waves[0].targets"),
        ("POST", instances, {"waves": [{"targets": {"accounts": [one]}, "soak_seconds": -5}]},
         "body.waves[0].soak_seconds"),
        ("PATCH", instances, {"targets": {"accounts": [one]}, "overrides": {}}, "is an instance"),
        ("POST", f"{instances}/delete", {"targets": {"accounts": [one]}}, "is an instance"),
        ("PATCH", f"{STACK_SETS}/svc", {"parameters": {"Memory": "x"}}, "Parameters.Memory"),
        ("PATCH", f"{STACK_SETS}/svc", {}, "no instances"),
        ("POST", STACK_SETS, {"name": "bad", "template": TEMPLATE}, "Resources.Echo.Properties.CodeUri"),
        ("POST", STACK_SETS, {"name": "bad name", "template": TEMPLATE, "code": bundle(code("e"))}, "name"),
        ("POST", STACK_SETS, {"name": "bad", "template": "Resources: {}"}, "Resources"),
    ]  # fmt: skip
    for method, path, body, says in cases:
        answer = api.call(method, path, 400, json=body)
        assert says in answer["message"], (body, answer)
    assert api.get(f"{OPERATIONS}/nope", 404)["code"] == "NotFound"
    assert api.get(f"{OPERATIONS}/nope/progress", 404)["code"] == "NotFound"
    assert api.post(f"{OPERATIONS}/nope/stop", expect=404)["code"] == "NotFound"
    assert api.get(f"{STACK_SETS}/nope/instances", 404)["code"] == "NotFound"
    assert (
        api.post(f"{STACK_SETS}/nope/instances", {"targets": {"accounts": [one]}}, 404)["code"] == "NotFound"
    )
    assert api.get(OPERATIONS, params={"limit": 0}, expect=400)["code"] == "ValidationError"
    assert api.get(OPERATIONS)["items"] == [] and api.get(STACK_SETS)["items"] == [stack_set]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", STACK_SETS, None),
        ("POST", STACK_SETS, {"name": "mine", "template": TEMPLATE}),
        ("GET", f"{STACK_SETS}/svc", None),
        ("PATCH", f"{STACK_SETS}/svc", {}),
        ("DELETE", f"{STACK_SETS}/svc", None),
        ("POST", f"{STACK_SETS}/svc/instances", {"targets": {"accounts": ["123456789012"]}}),
        ("GET", OPERATIONS, None),
        ("GET", "/v1/mgmt/fleet/events", None),
    ],
)
def test_account_keys_cannot_reach_the_fleet(
    api: Api, stack_set: dict[str, Any], method: str, path: str, body: Any
) -> None:
    member = Tenant.make(api, "member")
    answer = member.api.call(method, path, 403, json=body)
    assert answer["code"] == "AccessDenied" and "management key" in answer["message"]
    assert api.get(STACK_SETS)["items"] == [stack_set]


def test_operations_filter_by_status_and_page(
    api: Api, tenants: list[Tenant], stack_set: dict[str, Any]
) -> None:
    one, two, _ = tenants
    first = api.post(
        f"{STACK_SETS}/svc/instances", {"targets": {"accounts": [one.account_id]}, "preferences": FAST}, 202
    )
    stopped = api.patch(f"{STACK_SETS}/svc", {"parameters": {"Memory": "512"}, "preferences": FAST}, 202)
    api.post(f"{OPERATIONS}/{stopped['operation_id']}/stop")
    assert finish(api, first)["status"] == "SUCCEEDED" and finish(api, stopped)["status"] == "STOPPED"
    last = api.post(
        f"{STACK_SETS}/svc/instances", {"targets": {"accounts": [two.account_id]}, "preferences": FAST}, 202
    )
    assert finish(api, last)["status"] == "SUCCEEDED"

    newest_first = [last["operation_id"], stopped["operation_id"], first["operation_id"]]
    everything = api.get(OPERATIONS)
    assert [op["operation_id"] for op in everything["items"]] == newest_first
    assert everything["next_token"] is None
    seen, token = [], None
    while True:
        page = api.get(OPERATIONS, params={"limit": 1, **({"next_token": token} if token else {})})
        seen += [op["operation_id"] for op in page["items"]]
        token = page["next_token"]
        if not token:
            break
    assert seen == newest_first
    done = api.get(OPERATIONS, params={"status": "SUCCEEDED", "stack_set": "svc"})["items"]
    assert [op["operation_id"] for op in done] == [last["operation_id"], first["operation_id"]]
    either = api.get(OPERATIONS, params=[("status", "STOPPED"), ("status", "FAILED")])["items"]
    assert [op["operation_id"] for op in either] == [stopped["operation_id"]]
    assert api.get(OPERATIONS, params={"status": "QUEUED"})["items"] == []
    assert api.get(OPERATIONS, params={"status": "DONE"}, expect=400)["code"] == "ValidationError"
    assert (
        api.get(OPERATIONS, params={"next_token": "bm90IGEgdG9rZW4"}, expect=400)["code"] == "ValidationError"
    )


SECRET = TEMPLATE.replace(
    "  Greeting:\n    Type: String\n", "  Greeting:\n    Type: String\n    NoEcho: true\n"
)


def test_no_echo_parameters_are_masked_in_stack_sets_and_instances(
    api: Api, tenants: list[Tenant], code: Code
) -> None:
    one, two, _ = tenants
    body = {
        "name": "sec",
        "template": SECRET,
        "code": bundle(code("echo")),
        "parameters": {"Greeting": "s3cret"},
    }
    made = api.post(STACK_SETS, body, 201)
    assert made["parameters"] == {"Greeting": "****"}
    assert api.get(f"{STACK_SETS}/sec")["parameters"] == {"Greeting": "****"}
    assert [s["parameters"] for s in api.get(STACK_SETS)["items"]] == [{"Greeting": "****"}]
    queued = api.post(
        f"{STACK_SETS}/sec/instances",
        {"targets": {"accounts": [two.account_id]}, "overrides": {"Greeting": "t2"}, "preferences": FAST},
        202,
    )
    assert finish(api, queued)["status"] == "SUCCEEDED"
    queued = api.post(
        f"{STACK_SETS}/sec/instances", {"targets": {"accounts": [one.account_id]}, "preferences": FAST}, 202
    )
    assert finish(api, queued)["status"] == "SUCCEEDED"
    overrides = {i["account_id"]: i["overrides"] for i in api.get(f"{STACK_SETS}/sec/instances")["items"]}
    assert overrides == {one.account_id: {}, two.account_id: {"Greeting": "****"}}
    assert one.api.get(f"{STACKS}/sec")["parameters"] == {"Memory": "256", "Greeting": "****"}
    assert one.api.get(f"{FUNCTIONS}/sec-Echo")["environment"] == {"GREETING": "s3cret"}
    assert two.api.get(f"{FUNCTIONS}/sec-Echo")["environment"] == {"GREETING": "t2"}
    update = api.patch(f"{STACK_SETS}/sec", {"parameters": {"Memory": "512"}, "preferences": FAST}, 202)
    assert finish(api, update)["status"] == "SUCCEEDED"
    assert one.api.get(f"{FUNCTIONS}/sec-Echo")["environment"] == {"GREETING": "s3cret"}
    assert api.get(f"{STACK_SETS}/sec")["parameters"] == {"Greeting": "****", "Memory": "512"}
