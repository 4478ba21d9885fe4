"""``POST /v1/mgmt/dead-letters[/{account_id}/{entry_id}]/redrive`` and the time filters of the lists."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.helpers.functions import wait_until

from .conftest import Api
from .functions_helpers import Tenant

OWN = "/v1/account/dead-letters"
FLEET = "/v1/mgmt/dead-letters"


@pytest.fixture
def failed(api: Api, code: Callable[[str], bytes]) -> tuple[Tenant, dict[str, Any]]:
    """A tenant whose function "boom" failed once (no retries): one dead letter."""
    tenant = Tenant.make(api, "redrive")
    tenant.create("boom", code("boom"), async_config={"max_retry_attempts": 0})
    assert tenant.invoke("boom", b'{"n": 7}', kind="Event").status_code == 202
    wait_until(lambda: len(tenant.api.get(OWN)["items"]) == 1, timeout=30)
    return tenant, tenant.api.get(OWN)["items"][0]


def test_a_redrive_sends_the_entry_back_once(api: Api, failed: tuple[Tenant, dict[str, Any]]) -> None:
    tenant, entry = failed
    path = f"{FLEET}/{tenant.account_id}/{entry['entry_id']}/redrive"
    redriven = api.post(path)
    assert set(redriven) == {"dead_letter", "delivery", "forced"} and redriven["forced"] is False
    assert redriven["dead_letter"] == {**entry, "redriven_at": redriven["dead_letter"]["redriven_at"]}
    assert redriven["dead_letter"]["redriven_at"] is not None and redriven["delivery"]["invocation_id"]
    wait_until(lambda: len(tenant.api.get(OWN)["items"]) == 2, timeout=30)  # boom failed again
    assert tenant.api.get(f"{OWN}/{entry['entry_id']}") == redriven["dead_letter"]

    refused = api.post(path, expect=409)
    assert refused["code"] == "Conflict" and "already redriven" in refused["message"]
    assert api.post(path, {"force": True})["forced"] is True
    audit = api.get("/v1/mgmt/audit", params={"action": "dlq:Redrive"})["items"]
    assert [e["account_id"] for e in audit] == [tenant.account_id] * 2


def test_a_batch_redrive_takes_the_matching_new_entries(
    api: Api, failed: tuple[Tenant, dict[str, Any]]
) -> None:
    tenant, entry = failed
    body = {"account_id": tenant.account_id, "reason": "RetriesExhausted", "limit": 5}
    batch = api.post(f"{FLEET}/redrive", body)
    assert [r["dead_letter"]["entry_id"] for r in batch["redriven"]] == [entry["entry_id"]]
    assert batch["failed"] == []
    wait_until(lambda: len(tenant.api.get(OWN)["items"]) == 2, timeout=30)
    assert api.post(f"{FLEET}/redrive", {**body, "since": "2999-01-01T00:00:00Z"}) == {
        "redriven": [],
        "failed": [],
    }


def test_account_keys_cannot_redrive(failed: tuple[Tenant, dict[str, Any]]) -> None:
    tenant, entry = failed
    own = f"{FLEET}/{tenant.account_id}/{entry['entry_id']}/redrive"
    assert tenant.api.post(own, expect=403)["code"] == "AccessDenied"
    assert (
        tenant.api.post(f"{FLEET}/redrive", {"account_id": tenant.account_id}, 403)["code"] == "AccessDenied"
    )
    assert tenant.api.get(f"{OWN}/{entry['entry_id']}")["redriven_at"] is None


def test_lists_filter_by_time(api: Api, failed: tuple[Tenant, dict[str, Any]]) -> None:
    tenant, entry = failed
    at = datetime.fromisoformat(entry["last_at"])
    before, after = (at - timedelta(seconds=1)).isoformat(), (at + timedelta(seconds=1)).isoformat()
    naive = (at - timedelta(seconds=1)).astimezone(UTC).replace(tzinfo=None).isoformat()  # taken as UTC
    for caller, path in ((tenant.api, OWN), (api, FLEET)):
        assert caller.get(path, params={"since": before})["items"] == [entry]
        assert caller.get(path, params={"since": naive})["items"] == [entry]
        assert caller.get(path, params={"since": after})["items"] == []
        assert caller.get(path, params={"until": after})["items"] == [entry]
        assert caller.get(path, params={"until": entry["last_at"]})["items"] == []  # until is exclusive
        assert caller.get(path, params={"since": before, "until": after})["items"] == [entry]


@pytest.mark.parametrize(
    ("path", "body", "says"),
    [
        (f"{FLEET}/redrive", {"account_id": "42"}, "account_id"),
        (f"{FLEET}/redrive", {"limit": 0}, "limit"),
        (f"{FLEET}/redrive", {"since": "yesterday"}, "since"),
        (f"{FLEET}/redrive", {"entry_id": "x"}, "entry_id"),
        (f"{FLEET}/123456789012/x/redrive", {"force": "yes"}, "force"),
        (f"{FLEET}/42/x/redrive", {}, "account_id"),
        (f"{FLEET}/purge", {"account_id": "42"}, "account_id"),
        (f"{FLEET}/purge", {"until": "tomorrow"}, "until"),
        (f"{FLEET}/purge", {"all": "yes"}, "all"),
        (f"{FLEET}/purge", {"limit": 5}, "limit"),
    ],
)
def test_bad_redrive_requests_are_400(api: Api, path: str, body: dict[str, Any], says: str) -> None:
    answer = api.post(path, body, 400)
    assert answer["code"] == "ValidationError" and says in answer["message"]


def test_bad_time_filters_are_400(api: Api) -> None:
    answer = api.get(FLEET, 400, params={"until": "not a time"})
    assert answer["code"] == "ValidationError" and "until" in answer["message"]


def test_an_unknown_entry_is_404(api: Api) -> None:
    missing = api.post(f"{FLEET}/123456789012/00000000-0000-0000-0000-000000000000/redrive", expect=404)
    assert missing["code"] == "NotFound"
