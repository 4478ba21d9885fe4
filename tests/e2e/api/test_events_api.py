"""``POST /v1/account/events/test-pattern``: TestEventPattern for any key of the caller's account;
pattern and event as JSON text or objects; bad input is a 400 naming what and where; no key, 401."""

from __future__ import annotations

import json

import pytest

from .conftest import Api

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
