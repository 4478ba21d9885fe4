"""Transient faults (injected) are retried with backoff, and given up on after max_attempts."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from silo.fleet import Amount, OperationStatus, Preferences, Targets
from silo.platform import ManagementHandle, Platform
from silo.settings import Settings
from silo.store.schema import fleet_operation_targets
from tests.integration.fleet.conftest import TEMPLATE, finish

Code = Callable[..., dict[str, bytes]]
Accounts = Callable[..., list[str]]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.with_(fleet_lease_s=1.0, fleet_fault_transient_rate=0.4)


def test_transient_faults_are_retried_until_every_account_succeeds(
    platform: Platform, mgmt: ManagementHandle, accounts: Accounts, fleet_code: Code
) -> None:
    ids = accounts(20)
    mgmt.fleet.create_stack_set("svc", TEMPLATE, code=fleet_code())
    prefs = Preferences(
        max_concurrent=Amount(100, percent=True),
        max_attempts=10,
        retry_base_seconds=0.01,
        retry_max_seconds=0.05,
    )
    done = finish(
        mgmt.fleet, mgmt.fleet.create_instances("svc", Targets(accounts=tuple(ids)), preferences=prefs)
    )
    assert done.status is OperationStatus.SUCCEEDED
    with platform.store.read() as conn:
        attempts = list(
            conn.execute(
                sa.select(fleet_operation_targets.c.attempts).where(
                    fleet_operation_targets.c.operation_id == done.operation_id
                )
            ).scalars()
        )
    assert len(attempts) == 20 and max(attempts) > 1  # retried, and nothing was given up on


def test_giving_up_after_max_attempts_fails_the_account(
    mgmt: ManagementHandle, accounts: Accounts, fleet_code: Code
) -> None:
    ids = accounts(10)
    mgmt.fleet.create_stack_set("svc", TEMPLATE, code=fleet_code())
    prefs = Preferences(
        max_concurrent=Amount(100, percent=True),
        failure_tolerance=Amount(100, percent=True),
        max_attempts=1,
    )
    done = finish(
        mgmt.fleet, mgmt.fleet.create_instances("svc", Targets(accounts=tuple(ids)), preferences=prefs)
    )
    failed = [i for i in mgmt.fleet.list_instances("svc").items if i.status_reason]
    assert failed and all(
        "gave up after 1 attempts: injected transient fault" in i.status_reason for i in failed
    )
    assert done.status is OperationStatus.SUCCEEDED  # within the (100%) tolerance
