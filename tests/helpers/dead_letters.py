"""Helpers for the dead-letter tests: entries written straight into the queue, and a function that
records every run and fails on request (for redrives)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from silo.dlq import DeadLetter
from silo.functions import AsyncConfig
from silo.platform import AccountHandle, Platform
from silo.store import utcnow
from silo.store.schema import fleet_dead_letters
from tests.helpers.functions import deploy, wait_until

RECORD_THEN_FAIL = """
import json, os
def handler(event, context):
    with open(os.environ["OUT"], "a") as out:
        out.write(json.dumps({"account": context.account_id, "event": event}) + "\\n")
    if event.get("fail") and not os.environ.get("FIXED"):
        raise ValueError("failed on purpose")
    return "ok"
"""


def deploy_job(handle: AccountHandle, code: Callable[[str], bytes], outbox: Path) -> AccountHandle:
    """A function "job" (no retries) that records each run in ``outbox`` and fails on ``{"fail": true}``."""
    deploy(
        handle,
        "job",
        code(RECORD_THEN_FAIL),
        environment={"OUT": str(outbox)},
        async_config=AsyncConfig(max_retry_attempts=0),
    )
    return handle


def runs(outbox: Path) -> list[dict[str, Any]]:
    """Every recorded run: ``{"account", "event"}``."""
    return [json.loads(line) for line in outbox.read_text().splitlines()]


def failed_once(handle: AccountHandle, name: str, payload: dict[str, Any]) -> DeadLetter:
    """Invoke ``name`` async with a payload it fails on; its new dead letter."""
    before = len(handle.dead_letters().items)
    handle.functions.invoke(name, json.dumps(payload).encode(), invocation_type="Event")
    wait_until(lambda: len(handle.dead_letters().items) == before + 1, timeout=30)
    return handle.dead_letters().items[0]


def put_dead_letter(
    platform: Platform,
    account: str,
    target: dict[str, Any] | None = None,
    *,
    age: timedelta = timedelta(0),
) -> str:
    """An entry written straight into the queue (as a writer of another kind would), ``age`` old."""
    with platform.store.write() as conn:
        entry_id = platform.dlq.put(
            conn,
            account,
            source="test",
            target=target or {"type": "function", "function": "job", "qualifier": "$LATEST"},
            payload=b'{"n": 1}',
            reason="RetriesExhausted",
            error=None,
            attempts=1,
            first_at=utcnow() - age,
        )
        if age:
            conn.execute(
                sa.update(fleet_dead_letters)
                .where(fleet_dead_letters.c.account_id == account, fleet_dead_letters.c.entry_id == entry_id)
                .values(last_at=utcnow() - age)
            )
    return entry_id
