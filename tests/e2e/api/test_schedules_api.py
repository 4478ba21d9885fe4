"""``/v1/account/schedules``: a schedule made through the API runs its function; put, get, list, delete,
groups; a bad expression, time zone, window or target is a 400 naming it; 404s; no key, 401."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from silo.store import utcnow
from tests.helpers.functions import wait_until
from tests.integration.events.test_delivery import RECORDER, received

from .conftest import Api
from .functions_helpers import Tenant
from .test_events_api import DEFAULT_RETRY, function_arn

SCHEDULES = "/v1/account/schedules"


@pytest.fixture
def shop(api: Api, code: Callable[[str], bytes], outbox: Path) -> Tenant:
    tenant = Tenant.make(api, "shop")
    tenant.create("recorder", code(RECORDER), environment={"OUT": str(outbox)})
    return tenant


def body(tenant: Tenant, **fields: Any) -> dict[str, Any]:
    return {"expression": "rate(5 minutes)", "target": {"Arn": function_arn(tenant, "recorder")}, **fields}


def test_a_schedule_runs_its_function_with_its_input(shop: Tenant, outbox: Path) -> None:
    at = (utcnow() + dt.timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%S")
    target = {"Arn": function_arn(shop, "recorder"), "Input": '{"report": "daily"}'}
    shop.api.put(f"{SCHEDULES}/soon", {"expression": f"at({at})", "target": target})
    wait_until(lambda: len(received(outbox)) == 1, timeout=20)
    assert received(outbox)[0]["event"] == {"report": "daily"}


def test_put_get_list_delete(shop: Tenant) -> None:
    own = shop.api
    window = {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 10}
    made = own.put(
        f"{SCHEDULES}/report",
        body(shop, timezone="Europe/Berlin", flexible_window=window, description="weekly report"),
    )
    assert made == {
        "name": "report",
        "group": "default",
        "arn": f"arn:silo:scheduler:local:{shop.account_id}:schedule/default/report",
        "expression": "rate(5 minutes)",
        "timezone": "Europe/Berlin",
        "flexible_window": window,
        "target": {"Arn": function_arn(shop, "recorder"), "RetryPolicy": DEFAULT_RETRY},
        "state": "ENABLED",
        "description": "weekly report",
        "created_at": made["created_at"],
        "updated_at": made["updated_at"],
    }
    assert own.get(f"{SCHEDULES}/report") == made
    replaced = own.put(f"{SCHEDULES}/report", body(shop, expression="cron(0 2 * * ? *)", state="DISABLED"))
    assert (replaced["expression"], replaced["state"], replaced["timezone"]) == (
        "cron(0 2 * * ? *)",
        "DISABLED",
        "UTC",
    )
    assert replaced["flexible_window"] == {"Mode": "OFF"}

    own.put(f"{SCHEDULES}/other", body(shop, group="reports"))
    assert own.get(f"{SCHEDULES}/other", 404)["code"] == "NotFound"  # not in the default group
    assert own.get(f"{SCHEDULES}/other", params={"group": "reports"})["group"] == "reports"
    assert [s["name"] for s in own.get(SCHEDULES)["items"]] == ["report"]
    assert [s["name"] for s in own.get(SCHEDULES, params={"group": "reports"})["items"]] == ["other"]
    own.put(f"{SCHEDULES}/second", body(shop))
    first = own.get(SCHEDULES, params={"limit": 1})
    assert [s["name"] for s in first["items"]] == ["report"] and first["next_token"]
    rest = own.get(SCHEDULES, params={"limit": 1, "next_token": first["next_token"]})
    assert [s["name"] for s in rest["items"]] == ["second"] and rest["next_token"] is None

    own.delete(f"{SCHEDULES}/report")
    assert own.get(f"{SCHEDULES}/report", 404)["message"] == "Schedule report does not exist."
    assert own.delete(f"{SCHEDULES}/report", 404)["code"] == "NotFound"
    own.delete(f"{SCHEDULES}/other", params={"group": "reports"})
    assert own.get(SCHEDULES, params={"group": "reports"})["items"] == []


def test_bad_schedules_are_a_400_naming_what(shop: Tenant, api: Api) -> None:
    own = shop.api
    other = Tenant.make(api, "other")
    cases: list[tuple[dict[str, Any], str, str]] = [
        (body(shop, expression="cron(0 9 * * * *)"), "InvalidSchedule", "day-of-month"),
        (body(shop, expression="every day"), "InvalidSchedule", "every day"),
        (body(shop, timezone="Mars/Olympus"), "InvalidSchedule", "unknown time zone 'Mars/Olympus'"),
        (body(shop, flexible_window={"Mode": "FLEXIBLE"}), "InvalidSchedule", "MaximumWindowInMinutes"),
        (body(shop, flexible_window={"Mode": "SOMETIMES"}), "InvalidSchedule", "Mode 'SOMETIMES'"),
        (body(shop, target={"Arn": function_arn(other, "recorder")}), "ValidationError", "Target.Arn"),
        (body(shop, target={"Arn": "arn:nope"}), "ValidationError", "Target.Arn"),
        (
            body(shop, target={"Arn": function_arn(shop, "recorder"), "Id": "x"}),
            "ValidationError",
            "Target.Id",
        ),
        (
            body(shop, target={"Arn": function_arn(shop, "recorder"), "Input": "{"}),
            "ValidationError",
            "Target.",
        ),
        (body(shop, state="SOMETIMES"), "ValidationError", "State"),
        (body(shop, group="no group!"), "ValidationError", "GroupName"),
        ({"target": {"Arn": function_arn(shop, "recorder")}}, "ValidationError", "body.expression"),
        (body(shop, bogus=1), "ValidationError", "body.bogus"),
    ]
    for sent, code, words in cases:
        error = own.put(f"{SCHEDULES}/report", sent, 400)
        assert error["code"] == code and words in error["message"], (sent, error)
    assert own.get(SCHEDULES)["items"] == []
    assert own.get(f"{SCHEDULES}/bad name!", 400)["details"] == {"field": "Name"}


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", SCHEDULES), ("PUT", f"{SCHEDULES}/s"), ("GET", f"{SCHEDULES}/s"), ("DELETE", f"{SCHEDULES}/s")],
)
def test_every_route_needs_a_key(api: Api, method: str, path: str) -> None:
    assert api.as_(None).call(method, path, 401, json={})["code"] == "Unauthenticated"
