"""Every HTTP endpoint, seen from tenant A: nothing of tenant B can be listed, read or changed.

The cases are keyed by (method, path) and checked against ``app.routes``: an endpoint added without
an isolation case here fails ``test_every_endpoint_has_an_isolation_case``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from silo.platform import Initialised, Platform
from silo.store.schema import metadata
from tests.e2e.api.conftest import Api, TestClient, bearer
from tests.e2e.api.functions_helpers import FUNCTIONS, code_of
from tests.e2e.api.stacks_helpers import FAST, OPERATIONS, STACK_SETS, STACKS, TEMPLATE, VALIDATE, bundle
from tests.helpers.functions import wait_until
from tests.isolation.conftest import api_routes, assert_cases_cover, caller_as

OWN_DLQ = "/v1/account/dead-letters"
TEST_PATTERN = "/v1/account/events/test-pattern"
BUSES = "/v1/account/events/buses"
RULES = "/v1/account/events/rules"
PUT_EVENTS = "/v1/account/events/put-events"
SCHEDULES = "/v1/account/schedules"
DENY_NOTHING_USEFUL = {"Statement": [{"Sid": "NoTables", "Effect": "Deny", "Action": "tables:Delete"}]}


@dataclass
class Tenants:
    root: Api
    a: dict[str, str]  # account_id, ou_id, key_id, token, policy_id (+ function)
    b: dict[str, str]  # the same, + function, alias, entry_id (B's dead letter), stack, change_set,
    # stack_set (an instance in B) and operation_id (the operation that deployed it), bus, rule (on
    # the bus), default_rule (on the default bus) and schedule
    code: dict[str, str] = field(default_factory=dict)  # a Code object A may deploy
    bundle: dict[str, str] = field(default_factory=dict)  # the code of TEMPLATE, for A's stacks

    def b_state(self) -> dict[str, Any]:
        """What A must not be able to change: B, B's keys, and everything fleet-wide."""
        root = self.root

        def keys(path: str) -> list[dict[str, Any]]:
            """Without last_used_at: the test's own use of the root key refreshes it (every minute)."""
            listed = root.get(path, params={"include_revoked": "true"})["items"]
            return [{k: v for k, v in key.items() if k != "last_used_at"} for key in listed]

        return {
            "b": root.get(f"/v1/mgmt/accounts/{self.b['account_id']}"),
            "b keys": keys(f"/v1/mgmt/accounts/{self.b['account_id']}/keys"),
            "accounts": root.get("/v1/mgmt/accounts", params={"limit": 1000})["items"],
            "ous": root.get("/v1/mgmt/ous", params={"tree": "true"})["items"],
            "guardrails": root.get("/v1/mgmt/guardrails")["items"],
            "management keys": keys("/v1/mgmt/keys"),
            **self.b_functions(),
            **self.b_stacks(),
            **self.b_events(),
            "stack sets": root.get(STACK_SETS)["items"],
            "stack set instances": root.get(f"{STACK_SETS}/{self.b['stack_set']}/instances")["items"],
            "operations": root.get(OPERATIONS, params={"limit": 1000})["items"],
            "dead letters": root.get("/v1/mgmt/dead-letters", params={"limit": 1000})["items"],
            # The test's own clean-up of A (as root) is audited against A; everything else must not move.
            "audit": [
                e
                for e in root.get("/v1/mgmt/audit", params={"limit": 1000})["items"]
                if e["account_id"] != self.a["account_id"]
            ],
        }

    def b_functions(self) -> dict[str, Any]:
        """B's functions as B sees them (with B's own key: reading as root would need an audited assume)."""
        own, fn = self.root.as_(self.b["token"]), f"{FUNCTIONS}/{self.b['function']}"
        return {
            "b functions": own.get(FUNCTIONS)["items"],
            "b versions": own.get(f"{fn}/versions")["items"],
            "b aliases": own.get(f"{fn}/aliases")["items"],
            "b logs": own.get(f"{fn}/logs")["items"],
            "b metrics": own.get(f"{fn}/metrics")["metrics"],
            "b dead letters": own.get(OWN_DLQ)["items"],
            "b dead letter": own.get(f"{OWN_DLQ}/{self.b['entry_id']}"),
        }

    def b_stacks(self) -> dict[str, Any]:
        """B's stacks as B sees them: its own and its stack set instance's (the list has each whole)."""
        own, stack = self.root.as_(self.b["token"]), f"{STACKS}/{self.b['stack']}"
        return {
            "b stacks": own.get(STACKS)["items"],
            "b stack resources": own.get(f"{stack}/resources")["items"],
            "b stack events": own.get(f"{stack}/events")["items"],
            "b change sets": own.get(f"{stack}/change-sets")["items"],
        }

    def b_events(self) -> dict[str, Any]:
        """B's buses, rules, targets and schedules as B sees them."""
        own, on_bus = self.root.as_(self.b["token"]), {"bus": self.b["bus"]}
        return {
            "b buses": own.get(BUSES)["items"],
            "b rules": own.get(RULES)["items"],
            "b bus rules": own.get(RULES, params=on_bus)["items"],
            "b targets": own.get(f"{RULES}/{self.b['rule']}/targets", params=on_bus)["items"],
            "b default targets": own.get(f"{RULES}/{self.b['default_rule']}/targets")["items"],
            "b schedules": own.get(SCHEDULES)["items"],
        }

    def a_key_ids(self) -> set[str]:
        page = self.root.get(f"/v1/mgmt/accounts/{self.a['account_id']}/keys", params={"limit": 1000})
        return {k["key_id"] for k in page["items"]}


Check = Callable[[Api, Tenants], None]


@dataclass(frozen=True)
class Denied:
    """A management-plane endpoint: 403 AccessDenied for any account or session key, aimed at B."""

    body: dict[str, Any] | None = field(default=None)


def fill(path: str, t: Tenants) -> str:
    return path.format(
        account_id=t.b["account_id"],
        key_id=t.b["key_id"],
        policy_id=t.b["policy_id"],
        ou_id=t.b["ou_id"],
        entry_id=t.b["entry_id"],
        name=t.b["stack_set"],
        operation_id=t.b["operation_id"],
    )


def filled(value: Any, t: Tenants) -> Any:
    """A Denied body with B's ids put in, at any depth."""
    if isinstance(value, str):
        return fill(value, t)
    if isinstance(value, dict):
        return {k: filled(v, t) for k, v in value.items()}
    if isinstance(value, list):
        return [filled(v, t) for v in value]
    return value


def public(caller: Api, t: Tenants) -> None:
    pass  # checked generically: answers without a key and names no account


def whoami(caller: Api, t: Tenants) -> None:
    assert caller.get("/v1/whoami")["account_id"] == t.a["account_id"]


def own_account(caller: Api, t: Tenants) -> None:
    assert caller.get("/v1/account")["account_id"] == t.a["account_id"]
    named = caller.get("/v1/account", params={"account_id": t.b["account_id"]})  # ignored, not obeyed
    assert named["account_id"] == t.a["account_id"]


def own_keys(caller: Api, t: Tenants) -> None:
    listed = {
        k["key_id"] for k in caller.get("/v1/account/keys", params={"include_revoked": "true"})["items"]
    }
    assert listed and listed <= t.a_key_ids() | {t.a["key_id"]}
    assert t.b["key_id"] not in listed


def create_own_key(caller: Api, t: Tenants) -> None:
    made = caller.post("/v1/account/keys", {"name": "made-by-a"}, 201)
    assert made["key"]["account_id"] == t.a["account_id"]
    t.root.post(f"/v1/mgmt/accounts/{t.a['account_id']}/keys/{made['key']['key_id']}/revoke")


def get_key(caller: Api, t: Tenants) -> None:
    assert caller.get(f"/v1/account/keys/{t.b['key_id']}", 404)["code"] == "NotFound"
    assert caller.get(f"/v1/account/keys/{t.a['key_id']}")["account_id"] == t.a["account_id"]


def rotate_key(caller: Api, t: Tenants) -> None:
    assert caller.post(f"/v1/account/keys/{t.b['key_id']}/rotate", {}, 404)["code"] == "NotFound"
    caller.as_(t.b["token"]).get("/v1/whoami")


def revoke_key(caller: Api, t: Tenants) -> None:
    assert caller.post(f"/v1/account/keys/{t.b['key_id']}/revoke", {}, 404)["code"] == "NotFound"
    caller.as_(t.b["token"]).get("/v1/whoami")


def own_guardrails(caller: Api, t: Tenants) -> None:
    seen = {g["policy_id"] for g in caller.get("/v1/account/guardrails")["items"]}
    assert seen == {t.a["policy_id"]}


# --- functions and dead letters: B has a function "shared-name" (version 1, alias "live", logs,
# metrics) and a dead letter; A has its own function "mine". ---------------------------------------
def b_function(t: Tenants, *rest: str) -> str:
    return "/".join([FUNCTIONS, t.b["function"], *rest])


def not_found(answer: Any, t: Tenants) -> None:
    assert answer["code"] == "NotFound", answer
    assert t.b["account_id"] not in answer["message"]


def own_functions(caller: Api, t: Tenants) -> None:
    assert [f["name"] for f in caller.get(FUNCTIONS)["items"]] == [t.a["function"]]


def create_function(caller: Api, t: Tenants) -> None:
    body = {"name": t.b["function"], "handler": "app.handler", "code": t.code}  # B's name: A's own
    made = caller.post(FUNCTIONS, body, 201)
    assert made["memory_size"] == 128 and made["last_version"] == 0
    assert caller.get(b_function(t))["code_sha256"] == made["code_sha256"]
    caller.delete(b_function(t))


def get_function(caller: Api, t: Tenants) -> None:
    not_found(caller.get(b_function(t), 404), t)


def update_function(caller: Api, t: Tenants) -> None:
    not_found(caller.patch(b_function(t), {"memory_size": 1024, "environment": {"STOLEN": "1"}}, 404), t)
    not_found(caller.patch(b_function(t), {"clear_reserved_concurrency": True}, 404), t)


def update_code(caller: Api, t: Tenants) -> None:
    not_found(caller.put(b_function(t, "code"), t.code, 404), t)


def delete_function(caller: Api, t: Tenants) -> None:
    not_found(caller.delete(b_function(t), 404), t)


def list_versions(caller: Api, t: Tenants) -> None:
    not_found(caller.get(b_function(t, "versions"), 404), t)


def publish_version(caller: Api, t: Tenants) -> None:
    not_found(caller.post(b_function(t, "versions"), {"description": "by a"}, 404), t)


def list_aliases(caller: Api, t: Tenants) -> None:
    not_found(caller.get(b_function(t, "aliases"), 404), t)


def create_alias(caller: Api, t: Tenants) -> None:
    not_found(caller.post(b_function(t, "aliases"), {"name": "evil", "version": "1"}, 404), t)


def update_alias(caller: Api, t: Tenants) -> None:
    not_found(caller.put(b_function(t, "aliases", t.b["alias"]), {"version": "$LATEST"}, 404), t)


def delete_alias(caller: Api, t: Tenants) -> None:
    not_found(caller.delete(b_function(t, "aliases", t.b["alias"]), 404), t)


def invoke(caller: Api, t: Tenants) -> None:
    for kind in ("RequestResponse", "Event", "DryRun"):
        for qualifier in (None, "1", t.b["alias"]):
            params = {"qualifier": qualifier} if qualifier else None
            response = caller.client.post(
                b_function(t, "invocations"),
                content=b"{}",
                params=params,
                headers={**bearer(caller.token or ""), "X-Silo-Invocation-Type": kind},
            )
            assert response.status_code == 404, (kind, qualifier, response.text)
            not_found(response.json(), t)


def function_logs(caller: Api, t: Tenants) -> None:
    assert caller.get(b_function(t, "logs"))["items"] == []
    assert caller.get(b_function(t, "logs"), params={"after": 0, "limit": 1000})["items"] == []


def function_metrics(caller: Api, t: Tenants) -> None:
    assert caller.get(b_function(t, "metrics"), params={"minutes": 1440})["metrics"] == {}


def own_dead_letters(caller: Api, t: Tenants) -> None:
    assert caller.get(OWN_DLQ)["items"] == []
    assert caller.get(OWN_DLQ, params={"account_id": t.b["account_id"]})["items"] == []  # ignored


def own_dead_letter(caller: Api, t: Tenants) -> None:
    not_found(caller.get(f"{OWN_DLQ}/{t.b['entry_id']}", 404), t)


# --- stacks: B has a stack "shared-stack" with a change set "b-change", and the stack its stack set
# instance deployed; A has no stack of its own. ------------------------------------------------------
def b_stack(t: Tenants, *rest: str) -> str:
    return "/".join([STACKS, t.b["stack"], *rest])


def validate_template(caller: Api, t: Tenants) -> None:
    summary = caller.post(VALIDATE, {"template": TEMPLATE, "stack_name": t.b["stack"]})
    arns = [r["arn"] for r in summary["resources"]]
    assert arns and all(f":{t.a['account_id']}:" in arn for arn in arns), arns


def own_stacks(caller: Api, t: Tenants) -> None:
    assert caller.get(STACKS)["items"] == []


def deploy_stack(caller: Api, t: Tenants) -> None:
    for name in (t.b["stack"], t.b["stack_set"]):  # B's names: A's own, new stacks
        made = caller.put(f"{STACKS}/{name}", {"template": TEMPLATE, "code": t.bundle})
        assert f":{t.a['account_id']}:" in made["stack"]["stack_id"]
        assert {c["action"] for c in made["changes"]} == {"Add"}
        caller.delete(f"{STACKS}/{name}")


def get_stack(caller: Api, t: Tenants) -> None:
    not_found(caller.get(b_stack(t), 404), t)
    not_found(caller.get(f"{STACKS}/{t.b['stack_set']}", 404), t)


def delete_stack(caller: Api, t: Tenants) -> None:
    not_found(caller.delete(b_stack(t), 404), t)
    not_found(caller.delete(f"{STACKS}/{t.b['stack_set']}", 404), t)


def stack_resources(caller: Api, t: Tenants) -> None:
    not_found(caller.get(b_stack(t, "resources"), 404), t)


def stack_events(caller: Api, t: Tenants) -> None:
    not_found(caller.get(b_stack(t, "events"), 404), t)


def stack_template(caller: Api, t: Tenants) -> None:
    not_found(caller.get(b_stack(t, "template"), 404), t)


def stack_drift(caller: Api, t: Tenants) -> None:
    not_found(caller.get(b_stack(t, "drift"), 404), t)


def list_change_sets(caller: Api, t: Tenants) -> None:
    names = [c["name"] for c in caller.get(b_stack(t, "change-sets"))["items"]]
    assert t.b["change_set"] not in names


def create_change_set(caller: Api, t: Tenants) -> None:
    body = {"name": "a-change", "template": TEMPLATE, "code": t.bundle}
    made = caller.post(b_stack(t, "change-sets"), body, 201)  # A's own change set, for A's new stack
    assert {c["action"] for c in made["changes"]} == {"Add"}


def describe_change_set(caller: Api, t: Tenants) -> None:
    not_found(caller.get(b_stack(t, "change-sets", t.b["change_set"]), 404), t)


def execute_change_set(caller: Api, t: Tenants) -> None:
    not_found(caller.post(b_stack(t, "change-sets", t.b["change_set"], "execute"), {}, 404), t)
    caller.get(b_stack(t), 404)


# --- events: TestEventPattern reads and writes no data; B's account id in it is only the caller's input.
def event_pattern(caller: Api, t: Tenants) -> None:
    event = {"id": "1", "account": t.b["account_id"], "source": "shop", "time": "2024-05-01T12:00:00Z"}
    event |= {"region": "local", "detail-type": "order"}
    answer = caller.post(TEST_PATTERN, {"pattern": {"account": [t.b["account_id"]]}, "event": event})
    assert answer == {"matches": True}


# --- event buses, rules, targets and schedules: B has the bus "b/orders" with the rule "b-rule", the
# rule "b-default" on its default bus (each targeting B's function) and the schedule "b-schedule";
# A has none. ------------------------------------------------------------------------------------
def b_rule(t: Tenants, *rest: str) -> str:
    return "/".join([RULES, t.b["rule"], *rest])


def on_b_bus(t: Tenants) -> dict[str, str]:
    return {"bus": t.b["bus"]}


def a_function_arn(t: Tenants) -> str:
    return f"arn:silo:lambda:local:{t.a['account_id']}:function:{t.a['function']}"


def b_rule_paths(t: Tenants, *rest: str) -> list[tuple[str, dict[str, str] | None]]:
    """B's rule on B's bus, and B's rule on the default bus (the caller's own default bus)."""
    return [(b_rule(t, *rest), on_b_bus(t)), ("/".join([RULES, t.b["default_rule"], *rest]), None)]


def own_buses(caller: Api, t: Tenants) -> None:
    assert [b["name"] for b in caller.get(BUSES)["items"]] == ["default"]


def create_bus(caller: Api, t: Tenants) -> None:
    made = caller.post(BUSES, {"name": t.b["bus"]}, 201)  # B's name: A's own bus
    assert made["arn"] == f"arn:silo:events:local:{t.a['account_id']}:event-bus/{t.b['bus']}"
    caller.delete(f"{BUSES}/{t.b['bus']}")


def describe_bus(caller: Api, t: Tenants) -> None:
    not_found(caller.get(f"{BUSES}/{t.b['bus']}", 404), t)


def delete_bus(caller: Api, t: Tenants) -> None:
    not_found(caller.delete(f"{BUSES}/{t.b['bus']}", 404), t)


def own_rules(caller: Api, t: Tenants) -> None:
    assert caller.get(RULES)["items"] == []
    not_found(caller.get(RULES, 404, params=on_b_bus(t)), t)
    b_bus_arn = f"arn:silo:events:local:{t.b['account_id']}:event-bus/{t.b['bus']}"
    assert "another account" in caller.get(RULES, 400, params={"bus": b_bus_arn})["message"]


def put_rule(caller: Api, t: Tenants) -> None:
    not_found(caller.put(b_rule(t), {"event_pattern": {"source": ["a"]}}, 404, params=on_b_bus(t)), t)
    path = f"{RULES}/{t.b['default_rule']}"  # B's rule's name: A's own rule, on A's default bus
    made = caller.put(path, {"event_pattern": {"source": ["a"]}})
    assert made["arn"] == f"arn:silo:events:local:{t.a['account_id']}:rule/{t.b['default_rule']}"
    caller.delete(path)


def describe_rule(caller: Api, t: Tenants) -> None:
    for path, params in b_rule_paths(t):
        not_found(caller.get(path, 404, params=params), t)


def delete_rule(caller: Api, t: Tenants) -> None:
    for path, params in b_rule_paths(t):
        not_found(caller.delete(path, 404, params={**(params or {}), "force": "true"}), t)


def enable_rule(caller: Api, t: Tenants) -> None:
    for path, params in b_rule_paths(t, "enable"):
        not_found(caller.post(path, {}, 404, params=params), t)


def disable_rule(caller: Api, t: Tenants) -> None:
    for path, params in b_rule_paths(t, "disable"):
        not_found(caller.post(path, {}, 404, params=params), t)


def list_targets(caller: Api, t: Tenants) -> None:
    for path, params in b_rule_paths(t, "targets"):
        not_found(caller.get(path, 404, params=params), t)


def put_targets(caller: Api, t: Tenants) -> None:
    mine = {"targets": [{"Id": "t", "Arn": a_function_arn(t)}]}
    for path, params in b_rule_paths(t, "targets"):
        not_found(caller.put(path, mine, 404, params=params), t)
    caller.put(f"{RULES}/a-rule", {"event_pattern": {"source": ["a"]}})  # A's own rule, aimed at B
    b_function = f"arn:silo:lambda:local:{t.b['account_id']}:function:{t.b['function']}"
    refused = caller.put(f"{RULES}/a-rule/targets", {"targets": [{"Id": "t", "Arn": b_function}]}, 400)
    assert refused["details"] == {"field": "Targets[0].Arn"}
    caller.delete(f"{RULES}/a-rule")


def remove_targets(caller: Api, t: Tenants) -> None:
    for path, params in b_rule_paths(t, "targets", "remove"):
        not_found(caller.post(path, {"ids": ["b-target"]}, 404, params=params), t)


def rule_metrics(caller: Api, t: Tenants) -> None:
    for path, params in b_rule_paths(t, "metrics"):
        assert caller.get(path, params={**(params or {}), "since_minutes": 1440})["metrics"] == {}


def put_events(caller: Api, t: Tenants) -> None:
    b_bus_arn = f"arn:silo:events:local:{t.b['account_id']}:event-bus/{t.b['bus']}"
    event = {"Source": "b", "DetailType": "order", "Detail": "{}"}
    answer = caller.post(
        PUT_EVENTS,
        {"entries": [{**event, "EventBusName": b_bus_arn}, {**event, "EventBusName": t.b["bus"]}, event]},
    )
    codes = [e.get("ErrorCode") for e in answer["entries"]]
    assert codes == ["InvalidArgument", "ResourceNotFoundException", None]
    assert t.b["account_id"] in answer["entries"][0]["ErrorMessage"]  # only as the caller sent it


def own_schedules(caller: Api, t: Tenants) -> None:
    assert caller.get(SCHEDULES)["items"] == []


def put_schedule(caller: Api, t: Tenants) -> None:
    path = f"{SCHEDULES}/{t.b['schedule']}"  # B's name: A's own schedule
    b_function = f"arn:silo:lambda:local:{t.b['account_id']}:function:{t.b['function']}"
    body = {"expression": "rate(1 day)", "state": "DISABLED", "target": {"Arn": b_function}}
    assert caller.put(path, body, 400)["details"]["field"] == "Target.Arn"
    made = caller.put(path, {**body, "target": {"Arn": a_function_arn(t)}})
    assert made["arn"] == f"arn:silo:scheduler:local:{t.a['account_id']}:schedule/default/{t.b['schedule']}"
    caller.delete(path)


def get_schedule(caller: Api, t: Tenants) -> None:
    not_found(caller.get(f"{SCHEDULES}/{t.b['schedule']}", 404), t)


def delete_schedule(caller: Api, t: Tenants) -> None:
    not_found(caller.delete(f"{SCHEDULES}/{t.b['schedule']}", 404), t)


B_TARGETS = {"accounts": ["{account_id}"]}

CASES: dict[tuple[str, str], Check | Denied] = {
    ("GET", "/openapi.json"): public,
    ("GET", "/docs"): public,
    ("GET", "/docs/oauth2-redirect"): public,
    ("GET", "/redoc"): public,
    ("GET", "/healthz"): public,
    ("GET", "/v1/whoami"): whoami,
    ("GET", "/v1/mgmt/audit"): Denied(),
    ("POST", "/v1/mgmt/accounts"): Denied({"name": "by-a", "owner_email": "a@a.example"}),
    ("POST", "/v1/mgmt/accounts/batch"): Denied({"accounts": [{"name": "x", "owner_email": "a@a.example"}]}),
    ("GET", "/v1/mgmt/accounts"): Denied(),
    ("POST", "/v1/mgmt/accounts/purge-expired"): Denied({}),
    ("GET", "/v1/mgmt/accounts/{account_id}"): Denied(),
    ("POST", "/v1/mgmt/accounts/{account_id}/suspend"): Denied({"reason": "by a"}),
    ("POST", "/v1/mgmt/accounts/{account_id}/reactivate"): Denied({}),
    ("POST", "/v1/mgmt/accounts/{account_id}/close"): Denied({"reason": "by a"}),
    ("POST", "/v1/mgmt/accounts/{account_id}/move"): Denied({"ou_id": "{ou_id}"}),
    ("POST", "/v1/mgmt/accounts/{account_id}/tags"): Denied({"tags": {"owned": "by-a"}}),
    ("PUT", "/v1/mgmt/accounts/{account_id}/concurrency-limit"): Denied({"limit": 1}),
    ("POST", "/v1/mgmt/accounts/{account_id}/assume"): Denied({"reason": "take over b"}),
    ("GET", "/v1/mgmt/accounts/{account_id}/keys"): Denied(),
    ("POST", "/v1/mgmt/accounts/{account_id}/keys"): Denied({"name": "by-a"}),
    ("POST", "/v1/mgmt/accounts/{account_id}/keys/{key_id}/revoke"): Denied({}),
    ("GET", "/v1/mgmt/accounts/{account_id}/guardrails"): Denied(),
    ("GET", "/v1/mgmt/keys"): Denied(),
    ("POST", "/v1/mgmt/keys"): Denied({"name": "by-a"}),
    ("POST", "/v1/mgmt/keys/{key_id}/rotate"): Denied({}),
    ("POST", "/v1/mgmt/keys/{key_id}/revoke"): Denied({}),
    ("GET", "/v1/mgmt/guardrails"): Denied(),
    ("POST", "/v1/mgmt/guardrails"): Denied({"name": "by-a", "document": DENY_NOTHING_USEFUL}),
    ("GET", "/v1/mgmt/guardrails/{policy_id}"): Denied(),
    ("PATCH", "/v1/mgmt/guardrails/{policy_id}"): Denied({"description": "by a"}),
    ("DELETE", "/v1/mgmt/guardrails/{policy_id}"): Denied(),
    ("POST", "/v1/mgmt/guardrails/{policy_id}/attach"): Denied({"target_id": "{account_id}"}),
    ("POST", "/v1/mgmt/guardrails/{policy_id}/detach"): Denied({"target_id": "{account_id}"}),
    ("POST", "/v1/mgmt/ous"): Denied({"name": "by-a"}),
    ("GET", "/v1/mgmt/ous"): Denied(),
    ("GET", "/v1/mgmt/ous/root"): Denied(),
    ("GET", "/v1/mgmt/ous/{ou_id}"): Denied(),
    ("PATCH", "/v1/mgmt/ous/{ou_id}"): Denied({"name": "by-a"}),
    ("DELETE", "/v1/mgmt/ous/{ou_id}"): Denied(),
    ("GET", "/v1/account"): own_account,
    ("GET", "/v1/account/keys"): own_keys,
    ("POST", "/v1/account/keys"): create_own_key,
    ("GET", "/v1/account/keys/{key_id}"): get_key,
    ("POST", "/v1/account/keys/{key_id}/rotate"): rotate_key,
    ("POST", "/v1/account/keys/{key_id}/revoke"): revoke_key,
    ("GET", "/v1/account/guardrails"): own_guardrails,
    ("GET", "/v1/account/functions"): own_functions,
    ("POST", "/v1/account/functions"): create_function,
    ("GET", "/v1/account/functions/{name}"): get_function,
    ("PATCH", "/v1/account/functions/{name}"): update_function,
    ("PUT", "/v1/account/functions/{name}/code"): update_code,
    ("DELETE", "/v1/account/functions/{name}"): delete_function,
    ("GET", "/v1/account/functions/{name}/versions"): list_versions,
    ("POST", "/v1/account/functions/{name}/versions"): publish_version,
    ("GET", "/v1/account/functions/{name}/aliases"): list_aliases,
    ("POST", "/v1/account/functions/{name}/aliases"): create_alias,
    ("PUT", "/v1/account/functions/{name}/aliases/{alias}"): update_alias,
    ("DELETE", "/v1/account/functions/{name}/aliases/{alias}"): delete_alias,
    ("POST", "/v1/account/functions/{name}/invocations"): invoke,
    ("GET", "/v1/account/functions/{name}/logs"): function_logs,
    ("GET", "/v1/account/functions/{name}/metrics"): function_metrics,
    ("GET", "/v1/account/dead-letters"): own_dead_letters,
    ("GET", "/v1/account/dead-letters/{entry_id}"): own_dead_letter,
    ("GET", "/v1/mgmt/dead-letters"): Denied(),
    ("GET", "/v1/mgmt/dead-letters/{account_id}/{entry_id}"): Denied(),
    ("POST", "/v1/mgmt/dead-letters/redrive"): Denied({"account_id": "{account_id}"}),
    ("POST", "/v1/mgmt/dead-letters/purge"): Denied({"account_id": "{account_id}"}),
    ("POST", "/v1/mgmt/dead-letters/{account_id}/{entry_id}/redrive"): Denied({"force": True}),
    ("POST", "/v1/account/templates/validate"): validate_template,
    ("GET", "/v1/account/stacks"): own_stacks,
    ("PUT", "/v1/account/stacks/{name}"): deploy_stack,
    ("GET", "/v1/account/stacks/{name}"): get_stack,
    ("DELETE", "/v1/account/stacks/{name}"): delete_stack,
    ("GET", "/v1/account/stacks/{name}/resources"): stack_resources,
    ("GET", "/v1/account/stacks/{name}/events"): stack_events,
    ("GET", "/v1/account/stacks/{name}/template"): stack_template,
    ("GET", "/v1/account/stacks/{name}/drift"): stack_drift,
    ("GET", "/v1/account/stacks/{name}/change-sets"): list_change_sets,
    ("POST", "/v1/account/stacks/{name}/change-sets"): create_change_set,
    ("GET", "/v1/account/stacks/{name}/change-sets/{change_set}"): describe_change_set,
    ("POST", "/v1/account/stacks/{name}/change-sets/{change_set}/execute"): execute_change_set,
    ("POST", "/v1/account/events/test-pattern"): event_pattern,
    ("GET", "/v1/account/events/buses"): own_buses,
    ("POST", "/v1/account/events/buses"): create_bus,
    ("GET", "/v1/account/events/buses/{name:path}"): describe_bus,
    ("DELETE", "/v1/account/events/buses/{name:path}"): delete_bus,
    ("GET", "/v1/account/events/rules"): own_rules,
    ("PUT", "/v1/account/events/rules/{name}"): put_rule,
    ("GET", "/v1/account/events/rules/{name}"): describe_rule,
    ("DELETE", "/v1/account/events/rules/{name}"): delete_rule,
    ("POST", "/v1/account/events/rules/{name}/enable"): enable_rule,
    ("POST", "/v1/account/events/rules/{name}/disable"): disable_rule,
    ("GET", "/v1/account/events/rules/{name}/targets"): list_targets,
    ("PUT", "/v1/account/events/rules/{name}/targets"): put_targets,
    ("POST", "/v1/account/events/rules/{name}/targets/remove"): remove_targets,
    ("GET", "/v1/account/events/rules/{name}/metrics"): rule_metrics,
    ("POST", "/v1/account/events/put-events"): put_events,
    ("GET", "/v1/account/schedules"): own_schedules,
    ("PUT", "/v1/account/schedules/{name}"): put_schedule,
    ("GET", "/v1/account/schedules/{name}"): get_schedule,
    ("DELETE", "/v1/account/schedules/{name}"): delete_schedule,
    ("GET", "/v1/mgmt/stack-sets"): Denied(),
    ("POST", "/v1/mgmt/stack-sets"): Denied({"name": "by-a", "template": TEMPLATE}),
    ("GET", "/v1/mgmt/stack-sets/{name}"): Denied(),
    ("PATCH", "/v1/mgmt/stack-sets/{name}"): Denied({"parameters": {"Memory": "1024"}, "preferences": FAST}),
    ("DELETE", "/v1/mgmt/stack-sets/{name}"): Denied(),
    ("GET", "/v1/mgmt/stack-sets/{name}/instances"): Denied(),
    ("POST", "/v1/mgmt/stack-sets/{name}/instances"): Denied({"targets": B_TARGETS}),
    ("PATCH", "/v1/mgmt/stack-sets/{name}/instances"): Denied(
        {"targets": B_TARGETS, "overrides": {"Greeting": "by a"}}
    ),
    ("POST", "/v1/mgmt/stack-sets/{name}/instances/delete"): Denied({"targets": B_TARGETS}),
    ("GET", "/v1/mgmt/fleet/operations"): Denied(),
    ("GET", "/v1/mgmt/fleet/operations/{operation_id}"): Denied(),
    ("GET", "/v1/mgmt/fleet/operations/{operation_id}/progress"): Denied(),
    ("POST", "/v1/mgmt/fleet/operations/{operation_id}/stop"): Denied({}),
    ("GET", "/v1/mgmt/fleet/events"): Denied(),
}


def _tenant(root: Api, name: str) -> dict[str, str]:
    ou = root.ou(f"ou-{name}")
    account = root.account(name, ou_id=ou["ou_id"])
    issued = root.post(f"/v1/mgmt/accounts/{account['account_id']}/keys", {"name": "main"}, 201)
    policy = root.post("/v1/mgmt/guardrails", {"name": f"on-{name}", "document": DENY_NOTHING_USEFUL}, 201)
    root.post(f"/v1/mgmt/guardrails/{policy['policy_id']}/attach", {"target_id": account["account_id"]})
    return {
        "account_id": account["account_id"],
        "ou_id": ou["ou_id"],
        "key_id": issued["key"]["key_id"],
        "token": issued["token"],
        "policy_id": policy["policy_id"],
    }


B_HANDLER = """
def handler(event, context):
    print("b was here")
    if event.get("fail"):
        raise ValueError("b failed")
    return "b"
"""


def _functions(root: Api, a: dict[str, str], b: dict[str, str], zipped: bytes) -> dict[str, str]:
    """A gets "mine"; B gets "shared-name" with a version, an alias, logs, metrics and a dead letter."""
    code = code_of(zipped)
    a["function"], b["function"], b["alias"] = "mine", "shared-name", "live"
    root.as_(a["token"]).post(FUNCTIONS, {"name": "mine", "handler": "app.handler", "code": code}, 201)
    own_b = root.as_(b["token"])
    body = {"name": b["function"], "handler": "app.handler", "code": code, "reserved_concurrency": 5}
    own_b.post(FUNCTIONS, {**body, "async_config": {"max_retry_attempts": 0}}, 201)
    own_b.post(f"{FUNCTIONS}/{b['function']}/versions", {}, 201)
    own_b.post(f"{FUNCTIONS}/{b['function']}/aliases", {"name": "live", "version": "1"}, 201)
    headers = bearer(b["token"])
    path = f"{FUNCTIONS}/{b['function']}/invocations"
    assert root.client.post(path, content=b"{}", headers=headers).json() == "b"
    failed = root.client.post(
        path, content=b'{"fail": true}', headers={**headers, "X-Silo-Invocation-Type": "Event"}
    )
    assert failed.status_code == 202
    wait_until(lambda: len(own_b.get(OWN_DLQ)["items"]) == 1, timeout=30)
    b["entry_id"] = own_b.get(OWN_DLQ)["items"][0]["entry_id"]
    # Log events and metrics are written behind the invocations: wait for both invocations' (one log
    # event each), or one could land after the test took B's state as "before".
    logs, metrics = f"{FUNCTIONS}/{b['function']}/logs", f"{FUNCTIONS}/{b['function']}/metrics"
    wait_until(lambda: len(own_b.get(logs)["items"]) == 2, timeout=30)
    wait_until(lambda: own_b.get(metrics)["metrics"].get("Invocations", {}).get("sum") == 2, timeout=30)
    return code


def _stacks(root: Api, b: dict[str, str], zipped: bytes) -> dict[str, str]:
    """B gets a stack with a change set, and (from the management plane) a stack set instance."""
    code = bundle(zipped)
    b["stack"], b["change_set"], b["stack_set"] = "shared-stack", "b-change", "b-set"
    own_b = root.as_(b["token"])
    own_b.put(f"{STACKS}/{b['stack']}", {"template": TEMPLATE, "code": code})
    changed = {"name": b["change_set"], "template": TEMPLATE, "code": code, "parameters": {"Memory": "512"}}
    own_b.post(f"{STACKS}/{b['stack']}/change-sets", changed, 201)
    root.post(STACK_SETS, {"name": b["stack_set"], "template": TEMPLATE, "code": code}, 201)
    body = {"targets": {"accounts": [b["account_id"]]}, "preferences": FAST}
    b["operation_id"] = root.post(f"{STACK_SETS}/{b['stack_set']}/instances", body, 202)["operation_id"]
    progress = f"{OPERATIONS}/{b['operation_id']}"
    wait_until(lambda: root.get(progress)["status"] == "SUCCEEDED", timeout=30)
    return code


def _events(root: Api, b: dict[str, str]) -> None:
    """B gets a bus with a rule, a rule on its default bus (both targeting its function), a schedule."""
    b["bus"], b["rule"], b["default_rule"], b["schedule"] = "b/orders", "b-rule", "b-default", "b-schedule"
    own_b = root.as_(b["token"])
    own_b.post(BUSES, {"name": b["bus"]}, 201)
    target = {"Id": "b-target", "Arn": f"arn:silo:lambda:local:{b['account_id']}:function:{b['function']}"}
    for rule, params in ((b["rule"], {"bus": b["bus"]}), (b["default_rule"], None)):
        own_b.put(f"{RULES}/{rule}", {"event_pattern": {"source": ["b"]}}, params=params)
        own_b.put(f"{RULES}/{rule}/targets", {"targets": [target]}, 204, params=params)
    body = {"expression": "rate(1 day)", "state": "DISABLED", "target": {"Arn": target["Arn"]}}
    own_b.put(f"{SCHEDULES}/{b['schedule']}", body)  # disabled: it never fires during the test


@pytest.fixture
def tenants(client: TestClient, init: Initialised, code: Callable[[str], bytes]) -> Tenants:
    root = Api(client, init.root_key.token)
    a, b = _tenant(root, "tenant-a"), _tenant(root, "tenant-b")
    zipped = code(B_HANDLER)
    made = Tenants(root, a, b, _functions(root, a, b, zipped), _stacks(root, b, zipped))
    _events(root, b)
    return made


def test_every_endpoint_has_an_isolation_case(app: FastAPI) -> None:
    from tests.isolation.test_tables_isolation import CASES as TABLE_CASES  # checked there
    from tests.isolation.test_workflows_isolation import CASES as WORKFLOW_CASES  # checked there

    routes = api_routes(app) - set(WORKFLOW_CASES) - set(TABLE_CASES)
    assert_cases_cover(routes, CASES)
    for (_, path), case in CASES.items():
        assert isinstance(case, Denied) == path.startswith("/v1/mgmt/"), path


def stored_rows(platform: Platform) -> dict[str, list[Any]]:
    """Every row of every table of the store, in key order; first the log events and metrics still
    buffered in memory are written, as reading them through the API does."""
    platform.logs.flush()
    platform.metrics.flush()
    with platform.store.read() as conn:
        return {
            table.name: list(
                conn.execute(
                    sa.select(table)
                    .order_by(*table.primary_key.columns)
                    .execution_options(cross_account=True)
                )
            )
            for table in metadata.sorted_tables
        }


@pytest.mark.parametrize("as_", ["account key", "assumed session"])
def test_a_cannot_see_or_touch_b_through_any_endpoint(
    tenants: Tenants, client: TestClient, platform: Platform, as_: str, subtests: pytest.Subtests
) -> None:
    t = tenants
    caller = caller_as(t.root, client, t.a, as_)
    # B's state is read through ~30 endpoints, all serving what is stored: while not one row of any
    # table differs from when it last matched ``before``, it cannot differ either. So after each call
    # it is read again (and compared) whenever the call left any row changed, and only then.
    matched = stored_rows(platform)
    before = t.b_state()
    for (method, path), case in CASES.items():
        with subtests.test(f"{method} {path}"):
            if isinstance(case, Denied):
                body = filled(case.body, t) if case.body is not None else None
                answer = caller.call(method, fill(path, t), 403, json=body)
                assert answer["code"] == "AccessDenied"
                assert t.b["account_id"] not in answer["message"]
            elif case is public:
                response = client.request(method, path)
                assert response.status_code == 200
                assert t.b["account_id"] not in response.text and t.a["account_id"] not in response.text
            else:
                case(caller, t)
            if method != "GET" and (now := stored_rows(platform)) != matched:
                assert t.b_state() == before
                matched = now
    assert t.b_state() == before
    caller.as_(t.b["token"]).get("/v1/whoami")
    assert caller.as_(t.b["token"]).get("/v1/account")["status"] == "ACTIVE"
