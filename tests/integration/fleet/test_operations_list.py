"""Listing fleet operations: newest first, by stack set and status, a page at a time."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from silo.errors import ValidationError
from silo.fleet import Amount, Operation, OperationStatus, Preferences, Targets
from silo.platform import ManagementHandle
from tests.integration.fleet.conftest import TEMPLATE, finish

Code = Callable[..., dict[str, bytes]]
Accounts = Callable[..., list[str]]
FAST = Preferences(max_concurrent=Amount(100, percent=True), retry_base_seconds=0.01, retry_max_seconds=0.05)


def _ids(operations: list[Operation]) -> list[str]:
    return [op.operation_id for op in operations]


def _all_pages(mgmt: ManagementHandle, size: int, **filters: object) -> list[Operation]:
    found: list[Operation] = []
    token: str | None = None
    while True:
        page = mgmt.fleet.list_operations(limit=size, next_token=token, **filters)  # type: ignore[arg-type]
        assert len(page.items) <= size
        found.extend(page.items)
        token = page.next_token
        if token is None:
            return found


def test_operations_filter_by_status_and_page(
    mgmt: ManagementHandle, accounts: Accounts, fleet_code: Code
) -> None:
    one, two = accounts(2)
    mgmt.fleet.create_stack_set("svc", TEMPLATE, code=fleet_code())
    mgmt.fleet.create_stack_set("other", TEMPLATE, code=fleet_code())
    first = mgmt.fleet.create_instances("svc", Targets(accounts=(one,)), preferences=FAST)
    stopped = mgmt.fleet.update_stack_set("svc", parameters={"Version": "v2"}, preferences=FAST)
    mgmt.fleet.stop_operation(stopped.operation_id)
    finish(mgmt.fleet, first)
    assert finish(mgmt.fleet, stopped).status is OperationStatus.STOPPED
    third = finish(mgmt.fleet, mgmt.fleet.create_instances("svc", Targets(accounts=(two,)), preferences=FAST))
    fourth = finish(
        mgmt.fleet, mgmt.fleet.create_instances("other", Targets(accounts=(one,)), preferences=FAST)
    )

    everything = mgmt.fleet.list_operations()
    assert everything.next_token is None
    newest_first = sorted(everything.items, key=lambda op: (op.created_at, op.operation_id), reverse=True)
    assert _ids(everything.items) == _ids(newest_first)
    assert set(_ids(everything.items)) == {
        first.operation_id,
        stopped.operation_id,
        third.operation_id,
        fourth.operation_id,
    }
    for size in (1, 2, 3):
        assert _ids(_all_pages(mgmt, size)) == _ids(everything.items)

    succeeded = [op for op in everything.items if op.status is OperationStatus.SUCCEEDED]
    assert len(succeeded) == 3
    assert _ids(mgmt.fleet.list_operations(status=OperationStatus.SUCCEEDED).items) == _ids(succeeded)
    assert _ids(_all_pages(mgmt, 1, status="SUCCEEDED")) == _ids(succeeded)
    assert _ids(mgmt.fleet.list_operations(status="STOPPED").items) == [stopped.operation_id]
    either = mgmt.fleet.list_operations(status=[OperationStatus.STOPPED, OperationStatus.FAILED])
    assert _ids(either.items) == [stopped.operation_id]
    assert mgmt.fleet.list_operations(status=["QUEUED", "RUNNING"]).items == []

    svc_done = _all_pages(mgmt, 1, stack_set="svc", status=OperationStatus.SUCCEEDED)
    assert _ids(svc_done) == _ids([op for op in succeeded if op.stack_set == "svc"])
    first_page = mgmt.fleet.list_operations("svc", limit=2)
    assert len(first_page.items) == 2 and first_page.next_token is not None
    rest = mgmt.fleet.list_operations("svc", limit=2, next_token=first_page.next_token)
    assert rest.next_token is None
    assert _ids(first_page.items + rest.items) == _ids(
        [op for op in everything.items if op.stack_set == "svc"]
    )


def test_bad_filters_and_tokens_are_refused(mgmt: ManagementHandle) -> None:
    with pytest.raises(ValidationError, match="status: one of QUEUED"):
        mgmt.fleet.list_operations(status="DONE")
    with pytest.raises(ValidationError, match="next_token"):
        mgmt.fleet.list_operations(next_token="bm90IGEgdG9rZW4")
    with pytest.raises(ValidationError, match="limit"):
        mgmt.fleet.list_operations(limit=0)
