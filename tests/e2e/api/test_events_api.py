"""``/v1/account/events``: buses, rules and targets end to end (an event put through the API reaches
the function its rule targets), PutEvents per-entry errors and body size, rule metrics; TestEventPattern
for any key of the caller's account. Bad input is a 400 naming what and where; what does not exist,
404; no key, 401."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.functions import wait_until
from tests.integration.events.test_delivery import RECORDER, entry, received

from .conftest import Api
from .functions_helpers import Tenant

TEST_PATTERN = "/v1/account/events/test-pattern"
EVENT = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "Order Placed",
    "source": "com.example.shop",
    "account": "111122223333",
    "time": "2024-05-01T12:00:00Z",
    "region": "eu-west-1",
    "resources": ["arn:aws:shop:eu-west-1:111122223333:order/42"],
    "detail": {"total": 150, "items": [{"sku": "A-1", "qty": 2}]},
}
BIG_ORDERS = {"source": ["com.example.shop"], "detail": {"total": [{"numeric": [">", 100]}]}}


@pytest.fixture
def own(api: Api) -> Api:
    """The API as an account key of a member account."""
    return api.as_(api.account_key(api.account("member")["account_id"]))


@pytest.mark.parametrize(
    ("pattern", "matches"),
    [
        (BIG_ORDERS, True),
        ({"detail": {"total": [{"numeric": ["<", 100]}]}}, False),
        ({"detail": {"items": {"sku": ["A-1"], "qty": [2]}}}, True),
        ({"resources": [{"suffix": "order/43"}]}, False),
    ],
    ids=["numeric", "numeric too high", "array of objects", "suffix"],
)
def test_answers_whether_the_pattern_matches(own: Api, pattern: dict[str, object], matches: bool) -> None:
    assert own.post(TEST_PATTERN, {"pattern": pattern, "event": EVENT}) == {"matches": matches}
    as_text = {"pattern": json.dumps(pattern), "event": json.dumps(EVENT)}
    assert own.post(TEST_PATTERN, as_text) == {"matches": matches}


def test_any_key_may_ask_even_the_management_key(api: Api, own: Api) -> None:
    assert api.post(TEST_PATTERN, {"pattern": BIG_ORDERS, "event": EVENT}) == {"matches": True}
    session = api.as_(api.assume(own.get("/v1/account")["account_id"]))
    assert session.post(TEST_PATTERN, {"pattern": BIG_ORDERS, "event": EVENT}) == {"matches": True}


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ({"detail": {"total": [{"numeric": ["<", "x"]}]}}, "detail.total[0]: Value of < must be numeric"),
        ('{"source": ["shop"]', "Filter is not valid JSON: Expecting ',' delimiter (line 1, column 20)"),
        (["source"], "Filter is not an object"),
        ({"source": "shop"}, 'source: "source" must be an object or an array'),
    ],
    ids=["bad operator value", "not JSON", "not an object", "not a match list"],
)
def test_an_invalid_pattern_is_a_400_naming_where(own: Api, pattern: object, message: str) -> None:
    error = own.post(TEST_PATTERN, {"pattern": pattern, "event": EVENT}, 400)
    assert error["code"] == "InvalidEventPattern" and error["message"] == message


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ("{not json", "not JSON: Expecting property name enclosed in double quotes (line 1, column 2)"),
        ("[]", "it must be a JSON object, not an array"),
        (None, "it must be a JSON object, not null"),
        (
            {k: v for k, v in EVENT.items() if k not in ("account", "detail-type")},
            "missing account, detail-type (required: id, account, source, time, region, detail-type)",
        ),
    ],
    ids=["not JSON", "not an object", "null", "not an event"],
)
def test_an_invalid_event_is_a_400_saying_what_is_wrong(own: Api, event: object, reason: str) -> None:
    error = own.post(TEST_PATTERN, {"pattern": BIG_ORDERS, "event": event}, 400)
    assert error == {
        "code": "ValidationError",
        "message": f"event: Parameter Event is not valid: {reason}",
        "details": {"field": "event"},
    }


def test_the_body_needs_both_and_nothing_else(own: Api) -> None:
    missing = own.post(TEST_PATTERN, {"pattern": BIG_ORDERS}, 400)
    assert missing["code"] == "ValidationError" and missing["message"] == "body.event: Field required"
    extra = own.post(TEST_PATTERN, {"pattern": BIG_ORDERS, "event": EVENT, "bus": "default"}, 400)
    assert extra["code"] == "ValidationError" and "body.bus" in extra["message"]


def test_without_a_key_it_is_a_401(api: Api) -> None:
    error = api.as_(None).post(TEST_PATTERN, {"pattern": BIG_ORDERS, "event": EVENT}, 401)
    assert error["code"] == "Unauthenticated"


# --- buses, rules, targets, PutEvents and metrics -------------------------------------------------
EVENTS = "/v1/account/events"
BUSES = f"{EVENTS}/buses"
RULES = f"{EVENTS}/rules"
PUT_EVENTS = f"{EVENTS}/put-events"
SHOP_BIG = {"source": ["shop"], "detail": {"total": [{"numeric": [">", 100]}]}}
DEFAULT_RETRY = {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400}


def function_arn(tenant: Tenant, name: str) -> str:
    return f"arn:silo:lambda:local:{tenant.account_id}:function:{name}"


def rule_path(name: str, *rest: str) -> str:
    return "/".join([RULES, name, *rest])


@pytest.fixture
def shop(api: Api, code: Callable[[str], bytes], outbox: Path) -> Tenant:
    """A member account with the function "recorder", which appends what it gets to ``outbox``."""
    tenant = Tenant.make(api, "shop")
    tenant.create("recorder", code(RECORDER), environment={"OUT": str(outbox)})
    return tenant


def test_buses_create_list_describe_delete(own: Api) -> None:
    made = own.post(BUSES, {"name": "orders/eu", "description": "EU orders"}, 201)
    account = own.get("/v1/account")["account_id"]
    assert made == {
        "name": "orders/eu",
        "arn": f"arn:silo:events:local:{account}:event-bus/orders/eu",
        "description": "EU orders",
        "created_at": made["created_at"],
    }
    assert own.get(f"{BUSES}/orders/eu") == made
    assert [b["name"] for b in own.get(BUSES)["items"]] == ["default", "orders/eu"]
    assert own.get(f"{BUSES}/default")["arn"].endswith(":event-bus/default")
    assert own.post(BUSES, {"name": "orders/eu"}, 409)["code"] == "Conflict"
    assert own.delete(f"{BUSES}/default", 409)["code"] == "Conflict"
    own.delete(f"{BUSES}/orders/eu")
    assert own.get(f"{BUSES}/orders/eu", 404)["message"] == "Event bus orders/eu does not exist."
    assert own.delete(f"{BUSES}/orders/eu", 404)["code"] == "NotFound"
    assert [b["name"] for b in own.get(BUSES)["items"]] == ["default"]


def test_a_rule_delivers_put_events_to_its_function(shop: Tenant, outbox: Path) -> None:
    own = shop.api
    own.post(BUSES, {"name": "orders"}, 201)
    on_orders = {"bus": "orders"}
    rule = own.put(rule_path("big"), {"event_pattern": SHOP_BIG, "description": "over 100"}, params=on_orders)
    assert rule == {
        "name": "big",
        "bus": "orders",
        "arn": f"arn:silo:events:local:{shop.account_id}:rule/orders/big",
        "event_pattern": SHOP_BIG,
        "schedule_expression": None,
        "state": "ENABLED",
        "description": "over 100",
        "managed_by": None,
        "created_at": rule["created_at"],
        "updated_at": rule["updated_at"],
    }
    target = {"Id": "rec", "Arn": function_arn(shop, "recorder"), "InputPath": "$.detail"}
    assert own.put(rule_path("big", "targets"), {"targets": [target]}, 204, params=on_orders) is None
    listed = own.get(rule_path("big", "targets"), params=on_orders)["items"]
    assert listed == [{**target, "Input": None, "InputTransformer": None, "RetryPolicy": DEFAULT_RETRY}]

    malformed = {"Source": "shop", "DetailType": "Order", "Detail": "not json", "EventBusName": "orders"}
    entries = [entry({"total": n}, EventBusName="orders") for n in (150, 5)]
    entries += [malformed, entry({"total": 500}, EventBusName="nowhere")]
    result = own.post(PUT_EVENTS, {"entries": entries})
    assert result["failed_entry_count"] == 2
    assert [set(e) for e in result["entries"][:2]] == [{"EventId"}, {"EventId"}]
    assert [e["ErrorCode"] for e in result["entries"][2:]] == ["MalformedDetail", "ResourceNotFoundException"]
    assert result["entries"][3]["ErrorMessage"] == "Event bus nowhere does not exist."
    wait_until(lambda: len(received(outbox)) == 1)
    assert received(outbox)[0]["event"] == {"total": 150}

    def invocations() -> dict[str, Any]:
        metrics: dict[str, Any] = own.get(rule_path("big", "metrics"), params=on_orders)["metrics"]
        return metrics

    wait_until(lambda: "Invocations" in invocations())
    answer = own.get(rule_path("big", "metrics"), params={**on_orders, "since_minutes": 5})
    assert (answer["rule"], answer["bus"], answer["minutes"]) == ("big", "orders", 5)
    assert answer["metrics"]["MatchedEvents"]["sum"] == 1 and answer["metrics"]["Invocations"]["sum"] == 1


def test_rules_list_describe_enable_disable_delete(shop: Tenant) -> None:
    own = shop.api
    for name in ("a-1", "a-2", "b-1"):
        own.put(rule_path(name), {"event_pattern": '{"source": ["shop"]}'})  # JSON text works too
    assert own.get(rule_path("a-1"))["event_pattern"] == {"source": ["shop"]}
    first = own.get(RULES, params={"prefix": "a-", "limit": 1})
    assert [r["name"] for r in first["items"]] == ["a-1"] and first["next_token"]
    rest = own.get(RULES, params={"prefix": "a-", "limit": 1, "next_token": first["next_token"]})
    assert [r["name"] for r in rest["items"]] == ["a-2"] and rest["next_token"] is None
    assert [r["name"] for r in own.get(RULES)["items"]] == ["a-1", "a-2", "b-1"]

    assert own.post(rule_path("a-1", "disable"))["state"] == "DISABLED"
    assert own.get(rule_path("a-1"))["state"] == "DISABLED"
    assert own.post(rule_path("a-1", "enable"))["state"] == "ENABLED"
    nightly = own.put(rule_path("nightly"), {"schedule_expression": "cron(0 2 * * ? *)", "state": "DISABLED"})
    assert (nightly["schedule_expression"], nightly["state"]) == ("cron(0 2 * * ? *)", "DISABLED")
    assert nightly["event_pattern"] is None

    targets = [{"Id": n, "Arn": function_arn(shop, "recorder")} for n in ("t1", "t2")]
    own.put(rule_path("a-1", "targets"), {"targets": targets}, 204)
    assert own.delete(rule_path("a-1"), 409)["message"] == "Rule a-1 still has targets; remove them first."
    assert own.post(rule_path("a-1", "targets", "remove"), {"ids": ["t1", "ghost"]}) == {"removed": 1}
    assert [t["Id"] for t in own.get(rule_path("a-1", "targets"))["items"]] == ["t2"]
    own.delete(rule_path("a-1"), params={"force": "true"})
    assert own.get(rule_path("a-1"), 404)["message"] == "Rule a-1 does not exist on EventBus default."

    bus_arn = f"arn:silo:events:local:{shop.account_id}:event-bus/default"  # a bus by its ARN
    assert [r["name"] for r in own.get(RULES, params={"bus": bus_arn})["items"]] == ["a-2", "b-1", "nightly"]


@pytest.mark.parametrize(
    ("path", "body", "code", "message"),
    [
        (
            "/big",
            {"event_pattern": {"detail": {"total": [{"numeric": ["<", "x"]}]}}},
            "InvalidEventPattern",
            "detail.total[0]: Value of < must be numeric",
        ),
        ("/big", {"event_pattern": ["source"]}, "InvalidEventPattern", "Filter is not an object"),
        ("/big", {}, "ValidationError", "a rule needs an EventPattern, a ScheduleExpression, or both"),
        ("/big", {"event_pattern": SHOP_BIG, "state": "ON"}, "ValidationError", "State: ENABLED or DISABLED"),
        ("/big", {"schedule_expression": "rate(0 minutes)"}, "InvalidSchedule", "rate(0 minutes): "),
        ("/bad name", {"event_pattern": SHOP_BIG}, "ValidationError", "Name: 1-64 letters, digits"),
        ("/big", {"event_pattern": SHOP_BIG, "bogus": 1}, "ValidationError", "body.bogus: Extra inputs"),
    ],
    ids=["bad pattern", "pattern not an object", "nothing", "bad state", "bad schedule", "bad name", "extra"],
)
def test_a_bad_rule_is_a_400_naming_what(
    own: Api, path: str, body: dict[str, Any], code: str, message: str
) -> None:
    error = own.put(RULES + path, body, 400)
    assert error["code"] == code and error["message"].startswith(message), error
    assert own.get(RULES)["items"] == []


def test_schedules_only_on_the_default_bus(own: Api) -> None:
    own.post(BUSES, {"name": "orders"}, 201)
    nightly = {"schedule_expression": "rate(1 day)"}
    error = own.put(rule_path("nightly"), nightly, 400, params={"bus": "orders"})
    assert error["details"] == {"field": "ScheduleExpression"}


def test_bad_targets_are_a_400_naming_the_target(shop: Tenant, api: Api) -> None:
    own = shop.api
    own.put(rule_path("big"), {"event_pattern": SHOP_BIG})
    recorder = function_arn(shop, "recorder")
    mine = {"Id": "x", "Arn": recorder}
    foreign = function_arn(Tenant.make(api, "other"), "recorder")
    retries = "Targets[0].RetryPolicy.MaximumRetryAttempts"
    cases = [
        ([{"Id": "x", "Arn": foreign}], "Targets[0].Arn", "targets must be in the rule's own account"),
        ([{"Id": f"t{n}", "Arn": recorder} for n in range(6)], "Targets", "1 to 5"),
        ([{"Id": "x", "Arn": "arn:silo:sqs:local:1:q"}], "Targets[0].Arn", "is not a function, event bus"),
        ([{**mine, "Input": "{"}], "Targets[0]", "Targets[0].Input"),
        ([{**mine, "Bogus": 1}], "Targets[0].Bogus", "unknown field"),
        ([{**mine, "RetryPolicy": {"MaximumRetryAttempts": 999}}], retries, "between 0 and 185"),
    ]
    for targets, field, words in cases:
        error = own.put(rule_path("big", "targets"), {"targets": targets}, 400)
        assert error["details"]["field"] == field and words in error["message"], error
    assert own.get(rule_path("big", "targets"))["items"] == []
    five = [{"Id": f"t{n}", "Arn": recorder} for n in range(5)]
    own.put(rule_path("big", "targets"), {"targets": five}, 204)
    sixth = [{"Id": "t5", "Arn": recorder}]
    error = own.put(rule_path("big", "targets"), {"targets": sixth}, 400)
    assert error["code"] == "LimitExceededException"
    assert error["message"] == "Rule big would have 6 targets; the limit is 5."
    error = own.post(rule_path("big", "targets", "remove"), {"ids": []}, 400)
    assert error["message"].startswith("body.ids: List should have at least 1 item")


def test_put_events_takes_ten_full_entries_and_checks_each(own: Api) -> None:
    full = json.dumps({"pad": "x" * (250 * 1024)})
    answer = own.post(PUT_EVENTS, {"entries": [entry({}, Detail=full) for _ in range(10)]})
    assert answer["failed_entry_count"] == 0 and len(answer["entries"]) == 10  # a 2.5 MB body
    too_big = json.dumps({"pad": "x" * (256 * 1024)})
    [failed] = own.post(PUT_EVENTS, {"entries": [entry({}, Detail=too_big)]})["entries"]
    assert failed["ErrorCode"] == "InvalidArgument" and "256" in failed["ErrorMessage"]
    error = own.post(PUT_EVENTS, {"entries": [entry({})] * 11}, 400)
    assert error["message"] == "Entries: a list of 1 to 10 entries"
    assert own.post(PUT_EVENTS, {"entries": []}, 400)["details"] == {"field": "Entries"}
    assert own.post(PUT_EVENTS, {"entries": ["not an object"]}, 400)["message"].startswith("body.entries[0]")
    huge = {"entries": [entry({}, Detail=json.dumps({"pad": "x" * (3 * 1024 * 1024)}))]}
    assert own.post(PUT_EVENTS, huge, 413)["code"] == "PayloadTooLarge"


OWN_TARGET = {"targets": [{"Id": "t", "Arn": "arn:silo:lambda:local:{account}:function:f"}]}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", f"{BUSES}/nowhere", None),
        ("DELETE", f"{BUSES}/nowhere", None),
        ("GET", f"{RULES}?bus=nowhere", None),
        ("PUT", f"{RULES}/r?bus=nowhere", {"event_pattern": SHOP_BIG}),
        ("GET", f"{RULES}/ghost", None),
        ("DELETE", f"{RULES}/ghost", None),
        ("POST", f"{RULES}/ghost/enable", {}),
        ("POST", f"{RULES}/ghost/disable", {}),
        ("GET", f"{RULES}/ghost/targets", None),
        ("PUT", f"{RULES}/ghost/targets", OWN_TARGET),
        ("POST", f"{RULES}/ghost/targets/remove", {"ids": ["t"]}),
    ],
)
def test_what_does_not_exist_is_a_404(own: Api, method: str, path: str, body: Any) -> None:
    account = own.get("/v1/account")["account_id"]
    filled = json.loads(json.dumps(body).replace("{account}", account))
    assert own.call(method, path, 404, json=filled)["code"] == "NotFound"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", BUSES),
        ("POST", BUSES),
        ("GET", f"{BUSES}/default"),
        ("DELETE", f"{BUSES}/orders"),
        ("GET", RULES),
        ("PUT", f"{RULES}/r"),
        ("GET", f"{RULES}/r"),
        ("DELETE", f"{RULES}/r"),
        ("POST", f"{RULES}/r/enable"),
        ("POST", f"{RULES}/r/disable"),
        ("GET", f"{RULES}/r/targets"),
        ("PUT", f"{RULES}/r/targets"),
        ("POST", f"{RULES}/r/targets/remove"),
        ("GET", f"{RULES}/r/metrics"),
        ("POST", PUT_EVENTS),
    ],
)
def test_every_route_needs_a_key(api: Api, method: str, path: str) -> None:
    assert api.as_(None).call(method, path, 401, json={})["code"] == "Unauthenticated"
