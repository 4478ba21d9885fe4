"""State machine drift, read through the account's workflows repository.

The stack records the revision it wrote (as it does a function's): a state machine still on it
has not drifted. Otherwise what is stored is compared with what the stack wrote: the definition
(as JSON, so its layout does not matter) and the description (a stack writes none). A state
machine's type is not stored by the workflows service, so it cannot drift.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from silo.accounts import AccountContext
from silo.errors import NotFound
from silo.stacks.models import Drift
from silo.workflows.repository import WorkflowsRepository


def check(conn: sa.Connection, context: AccountContext, recorded: list[dict[str, Any]]) -> list[Drift]:
    repo = WorkflowsRepository(context)
    drifts: list[Drift] = []
    for r in recorded:
        logical_id, name = r["logical_id"], r["physical_name"]
        try:
            live = repo.get_machine(conn, name)
        except NotFound:
            drifts.append(Drift(logical_id, name, "DELETED"))
            continue
        if live.revision == r["revision"]:
            continue
        changed = []
        if _parsed(live.definition) != r["properties"]["definition"]:
            changed.append("definition")
        if live.description != "":
            changed.append("description")
        if changed:
            drifts.append(Drift(logical_id, name, "MODIFIED", tuple(changed)))
    return drifts


def _parsed(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text
