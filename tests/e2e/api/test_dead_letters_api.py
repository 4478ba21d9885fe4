"""``/v1/account/dead-letters`` and ``/v1/mgmt/dead-letters``: a failed async invocation, seen by its
account and by the management plane (filters, paging, 404s, 403 for account keys, bad input 400)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers.functions import wait_until

from .conftest import Api
from .functions_helpers import Tenant

OWN = "/v1/account/dead-letters"
FLEET = "/v1/mgmt/dead-letters"
UNKNOWN_ENTRY = "00000000-0000-0000-0000-000000000000"


def _dead_letter(tenant: Tenant, zipped: bytes, payload: bytes) -> dict[str, Any]:
    """A handler that raises, invoked async with no retries: one entry in the tenant's DLQ."""
    tenant.create("boom", zipped, async_config={"max_retry_attempts": 0})
    before = len(tenant.api.get(OWN)["items"])
    assert tenant.invoke("boom", payload, kind="Event").status_code == 202
    wait_until(lambda: len(tenant.api.get(OWN)["items"]) == before + 1, timeout=30)
    entry: dict[str, Any] = tenant.api.get(OWN)["items"][0]
    return entry


@pytest.fixture
def two(api: Api, code: Callable[[str], bytes]) -> tuple[Tenant, Tenant, dict[str, Any], dict[str, Any]]:
    a, b = Tenant.make(api, "dlq-a"), Tenant.make(api, "dlq-b")
    return a, b, _dead_letter(a, code("boom"), b'{"n": 1}'), _dead_letter(b, code("boom"), b'{"n": 2}')


def test_an_account_sees_its_own_dead_letters(
    two: tuple[Tenant, Tenant, dict[str, Any], dict[str, Any]],
) -> None:
    a, b, entry, other = two
    assert set(entry) == {
        "entry_id", "account_id", "source", "target", "payload", "reason", "error", "attempts",
        "first_at", "last_at", "redriven_at",
    }  # fmt: skip
    assert entry["account_id"] == a.account_id
    assert (entry["source"], entry["reason"], entry["attempts"]) == ("functions:async", "RetriesExhausted", 1)
    assert entry["target"] == {"type": "function", "function": "boom", "qualifier": "$LATEST"}
    assert entry["payload"] == {"n": 1}  # the original JSON, not bytes
    assert entry["error"]["errorType"] == "ValueError" and entry["redriven_at"] is None

    assert a.api.get(OWN)["items"] == [entry]
    assert a.api.get(f"{OWN}/{entry['entry_id']}") == entry
    assert a.api.get(OWN, params={"source": "functions:async"})["items"] == [entry]
    assert a.api.get(OWN, params={"reason": "EventAgeExceeded"})["items"] == []
    # an account filter is not a parameter of the account plane: it is ignored, never obeyed
    assert a.api.get(OWN, params={"account_id": b.account_id})["items"] == [entry]
    assert a.api.get(f"{OWN}/{other['entry_id']}", 404)["code"] == "NotFound"
    assert a.api.get(f"{OWN}/{UNKNOWN_ENTRY}", 404)["code"] == "NotFound"


def test_the_management_plane_sees_every_account(
    api: Api, two: tuple[Tenant, Tenant, dict[str, Any], dict[str, Any]]
) -> None:
    a, b, entry, other = two
    fleet = api.get(FLEET)
    assert {e["entry_id"] for e in fleet["items"]} == {entry["entry_id"], other["entry_id"]}
    assert fleet["items"][0] == other  # newest first
    assert api.get(FLEET, params={"account_id": a.account_id})["items"] == [entry]
    assert api.get(FLEET, params={"account_id": b.account_id, "reason": "RetriesExhausted"})["items"] == [
        other
    ]
    assert api.get(FLEET, params={"source": "events:delivery"})["items"] == []

    first = api.get(FLEET, params={"limit": 1})
    assert len(first["items"]) == 1 and first["next_token"]
    rest = api.get(FLEET, params={"limit": 1, "next_token": first["next_token"]})
    assert rest["next_token"] is None
    assert first["items"] + rest["items"] == fleet["items"]

    assert api.get(f"{FLEET}/{a.account_id}/{entry['entry_id']}") == entry
    assert api.get(f"{FLEET}/{b.account_id}/{entry['entry_id']}", 404)["code"] == "NotFound"
    assert api.get(f"{FLEET}/{a.account_id}/{UNKNOWN_ENTRY}", 404)["code"] == "NotFound"


def test_account_keys_cannot_use_the_fleet_queue(
    two: tuple[Tenant, Tenant, dict[str, Any], dict[str, Any]],
) -> None:
    a, _, entry, _ = two
    assert a.api.get(FLEET, 403)["code"] == "AccessDenied"
    assert a.api.get(f"{FLEET}/{a.account_id}/{entry['entry_id']}", 403)["code"] == "AccessDenied"


def test_the_management_plane_purges_matching_entries(
    api: Api, two: tuple[Tenant, Tenant, dict[str, Any], dict[str, Any]]
) -> None:
    a, b, _, other = two
    assert a.api.post(f"{FLEET}/purge", {"account_id": a.account_id}, 403)["code"] == "AccessDenied"
    refused = api.post(f"{FLEET}/purge", {}, 400)
    assert refused["details"] == {"field": "all"} and "all: true" in refused["message"]
    assert api.post(f"{FLEET}/purge", {"account_id": a.account_id, "reason": "EventLoop"}) == {"purged": 0}

    assert api.post(f"{FLEET}/purge", {"account_id": a.account_id}) == {"purged": 1}
    assert a.api.get(OWN)["items"] == []
    assert b.api.get(OWN)["items"] == [other]  # another account's entries stay
    audit = api.get("/v1/mgmt/audit", params={"action": "dlq:Purge"})["items"]
    assert [(e["account_id"], e["details"]) for e in audit] == [  # newest first
        (a.account_id, {"count": 1}),
        (a.account_id, {"count": 0}),
    ]

    assert api.post(f"{FLEET}/purge", {"all": True}) == {"purged": 1}
    assert api.get(FLEET)["items"] == []


@pytest.mark.parametrize(
    ("path", "params", "says"),
    [
        (FLEET, {"account_id": "42"}, "account_id"),
        (FLEET, {"limit": 0}, "limit"),
        (FLEET, {"source": "x" * 65}, "source"),
        (FLEET, {"next_token": "!!!"}, "next_token"),
        (OWN, {"limit": 1001}, "limit"),
        (OWN, {"reason": "x" * 65}, "reason"),
    ],
)
def test_bad_queries_are_400(api: Api, path: str, params: dict[str, Any], says: str) -> None:
    caller = api if path == FLEET else Tenant.make(api, "asker").api
    answer = caller.get(path, 400, params=params)
    assert answer["code"] == "ValidationError" and says in answer["message"]
