"""Two deploys of one stack at the same time: the second plans from what the first wrote (its row is
locked for the whole deploy on PostgreSQL; SQLite has one writer), so nothing is orphaned."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from silo.platform import AccountHandle
from silo.stacks import deployer

TRANSFORM = "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\nResources:\n"


def template(*names: str) -> str:
    functions = "".join(
        f"  {name}:\n    Type: AWS::Serverless::Function\n    Properties:\n"
        f"      Handler: index.handler\n      Runtime: python3.11\n"
        f"      InlineCode: \"def handler(event, context):\\n    return '{name}'\\n\"\n"
        for name in names
    )
    return TRANSFORM + functions


def test_a_deploy_during_another_plans_from_what_that_one_wrote(
    tenant: Callable[[str], AccountHandle], monkeypatch: pytest.MonkeyPatch
) -> None:
    acme = tenant("acme")
    acme.stacks.deploy("svc", template("One"))
    loaded = threading.Event()
    real_load = deployer.load_states

    def slow_first_load(*args: Any, **kwargs: Any) -> Any:
        states = real_load(*args, **kwargs)
        if kwargs.get("lock") and not loaded.is_set():
            loaded.set()
            time.sleep(0.5)  # the first deploy holds its transaction open after reading the stack
        return states

    monkeypatch.setattr(deployer, "load_states", slow_first_load)
    first = threading.Thread(target=lambda: acme.stacks.deploy("svc", template("One", "Two")))
    first.start()
    assert loaded.wait(5)
    acme.stacks.deploy("svc", template("One", "Three"))  # while the first one is still open
    first.join()
    functions = {f.name for f in acme.functions.list().items}
    recorded = {r.physical_name for r in acme.stacks.resources("svc")}
    assert functions == recorded == {"svc-One", "svc-Three"}  # no svc-Two left behind by a stale plan


@pytest.mark.one_backend
def test_two_deploys_creating_one_stack_at_once_end_in_one_stack_and_a_conflict(
    tenant: Callable[[str], AccountHandle], monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    if backend == "sqlite":
        pytest.skip("SQLite's one writer runs the second deploy after the first: an update, no race")
    acme = tenant("acme")
    planned = threading.Event()
    real_flush = deployer.Writes.flush
    errors: list[Exception] = []

    def slow_first_flush(self: Any, conn: Any) -> None:
        if not planned.is_set():
            planned.set()
            time.sleep(0.5)  # planned and checked, not written: the other deploy creates the stack now
        real_flush(self, conn)

    def first_deploy() -> None:
        try:
            acme.stacks.deploy("svc", template("One", "Two"))
        except Exception as exc:
            errors.append(exc)

    monkeypatch.setattr(deployer.Writes, "flush", slow_first_flush)
    first = threading.Thread(target=first_deploy)
    first.start()
    assert planned.wait(5)
    acme.stacks.deploy("svc", template("One", "Three"))
    first.join()
    assert [type(e).__name__ for e in errors] == ["Conflict"]
    assert "a concurrent request created or changed the same thing" in str(errors[0])
    functions = {f.name for f in acme.functions.list().items}
    assert functions == {r.physical_name for r in acme.stacks.resources("svc")} == {"svc-One", "svc-Three"}
