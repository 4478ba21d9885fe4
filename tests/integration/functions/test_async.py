"""Event invocations: durable, retried, sent to on-failure or the central DLQ, never lost."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from silo.dlq import DeadLetterFilter
from silo.functions import Accepted, AsyncConfig, FunctionSettings
from silo.platform import AccountHandle, ManagementHandle, Platform
from silo.settings import Settings
from tests.helpers.functions import deploy, wait_until

RECORDER = """
import json, os
def handler(event, context):
    with open(os.environ["OUT"], "a") as out:
        out.write(json.dumps(event) + "\\n")
    return "ok"
"""


def test_async_success_runs_once(
    tenant: Callable[..., AccountHandle], code: Callable[[str], bytes], outbox: Path
) -> None:
    out = outbox
    a = tenant("a")
    deploy(a, "rec", code(RECORDER), environment={"OUT": str(out)})
    accepted = a.functions.invoke("rec", b'{"n": 1}', invocation_type="Event")
    assert isinstance(accepted, Accepted)
    wait_until(lambda: out.read_text().count("\n") == 1)
    wait_until(lambda: a.functions.metrics("rec").get("Invocations") is not None)
    assert a.functions.metrics("rec")["AsyncEventsReceived"].sum == 1


def test_failures_retry_twice_then_land_in_the_dlq_tagged_with_the_account(
    tenant: Callable[..., AccountHandle], mgmt: ManagementHandle, code: Callable[[str], bytes]
) -> None:
    a = tenant("a")
    b = tenant("b")
    deploy(a, "boom", code("boom"))
    a.functions.invoke("boom", b'{"n": 3}', invocation_type="Event")
    wait_until(lambda: len(a.dead_letters().items) == 1)
    entry = a.dead_letters().items[0]
    assert entry.account_id == a.account_id
    assert (entry.reason, entry.attempts, entry.target["function"]) == ("RetriesExhausted", 3, "boom")
    assert entry.error is not None and entry.error["errorType"] == "ValueError"
    assert json.loads(entry.payload) == {"n": 3}
    assert a.functions.metrics("boom")["Invocations"].sum == 3
    assert b.dead_letters().items == []
    assert [e.entry_id for e in mgmt.dead_letters(DeadLetterFilter(account_id=a.account_id)).items] == [
        entry.entry_id
    ]


def test_retry_attempts_are_configurable(
    tenant: Callable[..., AccountHandle], code: Callable[[str], bytes]
) -> None:
    a = tenant("a")
    deploy(a, "boom", code("boom"), async_config=AsyncConfig(max_retry_attempts=0))
    a.functions.invoke("boom", invocation_type="Event")
    wait_until(lambda: len(a.dead_letters().items) == 1)
    assert a.dead_letters().items[0].attempts == 1


def test_on_failure_destination_gets_the_invocation_record(
    tenant: Callable[..., AccountHandle], code: Callable[[str], bytes], outbox: Path
) -> None:
    out = outbox
    a = tenant("a")
    deploy(a, "rec", code(RECORDER), environment={"OUT": str(out)})
    deploy(
        a,
        "boom",
        code("boom"),
        async_config=AsyncConfig(max_retry_attempts=1, on_failure={"function": "rec"}),
    )
    a.functions.invoke("boom", b'{"n": 5}', invocation_type="Event")
    wait_until(lambda: out.read_text().count("\n") == 1)
    record = json.loads(out.read_text())
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestPayload"] == {"n": 5}
    assert record["responsePayload"]["errorType"] == "ValueError"
    assert a.dead_letters().items == []


def test_accepted_events_survive_a_restart(
    settings: Settings, code: Callable[[str], bytes], outbox: Path
) -> None:
    from silo.accounts import AccountSpec

    out = outbox
    first = Platform.open(settings)
    init = first.initialise()
    assert init is not None
    mgmt = first.management(first.authenticate(init.root_key.token))
    account = mgmt.create_account(AccountSpec("a", "a@a.example"))
    token = mgmt.issue_account_key(account.account_id, "ci").token
    handle = first.account(first.authenticate(token))
    handle.functions.create(
        "rec", code(RECORDER), FunctionSettings(handler="app.handler", environment={"OUT": str(out)})
    )
    first.functions.dispatcher.stop()  # the "crash": accepted work is in the store, nothing ran it
    handle.functions.invoke("rec", b'{"n": 9}', invocation_type="Event")
    first.close()
    assert out.read_text() == ""
    second = Platform.open(settings)
    try:
        wait_until(lambda: out.read_text().count("\n") == 1)
        assert json.loads(out.read_text()) == {"n": 9}
        wait_until(lambda: second.functions.queue.pending() == 0)
    finally:
        second.close()
