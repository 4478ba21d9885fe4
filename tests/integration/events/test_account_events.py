"""The account lifecycle reaches rules on the management account's default bus, and no other bus."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from silo.accounts import AccountSpec
from silo.platform import AccountHandle, ManagementHandle, Platform
from silo.store import utcnow
from tests.helpers.functions import deploy, wait_until
from tests.integration.events.test_delivery import RECORDER, entry, function_arn, received

PATTERN = {"source": ["silo.accounts"], "detail-type": ["Account State Change"]}


def _watch(handle: AccountHandle, function: str, code: Callable[[str], bytes], outbox: Path) -> None:
    deploy(handle, function, code(RECORDER), environment={"OUT": str(outbox)})
    handle.events.put_rule("accounts", event_pattern=PATTERN)
    handle.events.put_targets("accounts", [{"Id": "t", "Arn": function_arn(handle, function)}])


def test_every_account_change_is_an_event_on_the_management_bus(
    platform: Platform,
    mgmt: ManagementHandle,
    tenant: Callable[[str], AccountHandle],
    code: Callable[[str], bytes],
    outbox: Path,
) -> None:
    own = platform.account(mgmt.principal)
    _watch(own, "tracker", code, outbox)
    _watch(tenant("nosy"), "spy", code, outbox)  # a tenant's rule on the same source sees nothing

    acme = mgmt.create_account(AccountSpec("acme", "ops@acme.example")).account_id
    mgmt.suspend_account(acme, "unpaid invoice")
    mgmt.reactivate_account(acme)
    mgmt.move_account(acme, mgmt.create_ou("prod").ou_id)
    mgmt.close_account(acme, "churned")
    assert mgmt.purge_expired_accounts(now=utcnow().replace(year=utcnow().year + 1)) == [acme]

    def about_acme() -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = [r["event"] for r in received(outbox)]  # type: ignore[misc]
        return [e for e in events if e["detail"]["account_id"] == acme]

    wait_until(lambda: len(about_acme()) == 6)
    events = about_acme()
    assert all(
        (e["source"], e["detail-type"], e["account"])
        == ("silo.accounts", "Account State Change", own.account_id)
        for e in events
    )
    by_action = {e["detail"]["action"]: e["detail"] for e in events}
    assert {action: detail["status"] for action, detail in by_action.items()} == {
        "Create": "ACTIVE",
        "Suspend": "SUSPENDED",
        "Reactivate": "ACTIVE",
        "Move": "ACTIVE",
        "Close": "CLOSED",
        "Purge": "DELETED",
    }
    assert by_action["Suspend"]["reason"] == "unpaid invoice" and by_action["Close"]["reason"] == "churned"
    assert by_action["Create"]["name"] == "acme" and by_action["Move"]["ou_id"].startswith("ou-")
    assert {r["function"] for r in received(outbox)} == {"tracker"}


def test_the_account_factory_reports_the_account_created_then_ready(
    platform: Platform, mgmt: ManagementHandle, code: Callable[[str], bytes], outbox: Path
) -> None:
    _watch(platform.account(mgmt.principal), "tracker", code, outbox)
    mgmt.request_account(AccountSpec("beta", "ops@beta.example"))

    def steps() -> list[tuple[str, str]]:
        details = [r["event"]["detail"] for r in received(outbox)]  # type: ignore[index]
        return sorted((d["action"], d["status"]) for d in details if d.get("name") == "beta")

    wait_until(lambda: len(steps()) == 2)
    assert steps() == [("Create", "PROVISIONING"), ("Ready", "ACTIVE")]


def test_tenants_cannot_pose_as_the_platform(tenant: Callable[[str], AccountHandle]) -> None:
    [failed] = tenant("mimic").events.put_events([entry({}, source="silo.accounts")]).entries
    assert failed["ErrorCode"] == "InvalidArgument" and "reserved" in failed["ErrorMessage"]
