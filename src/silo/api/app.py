"""``create_app``: the HTTP API of ``docs/api.md`` over one ``Platform``."""

from __future__ import annotations

from fastapi import FastAPI

import silo
from silo.api import (
    routes_account_plane,
    routes_accounts,
    routes_dead_letters,
    routes_events,
    routes_fleet,
    routes_functions,
    routes_guardrails,
    routes_keys,
    routes_meta,
    routes_ous,
    routes_schedules,
    routes_stacks,
    routes_tables,
    routes_workflows,
)
from silo.api.errors import install_error_handlers
from silo.api.limits import BodySizeLimit
from silo.platform import Platform
from silo.tables.values import MAX_ITEM_SIZE
from silo.workflows.models import MAX_EXECUTION_INPUT_BYTES

INVOKE_BODY_BYTES = 6 * 1024 * 1024 + 1024
PUT_EVENTS_BODY_BYTES = 10 * 256 * 1024 + 256 * 1024
WORKFLOW_PAYLOAD_BODY_BYTES = 2 * MAX_EXECUTION_INPUT_BYTES + 16 * 1024
TABLE_ITEM_BODY_BYTES = 6 * MAX_ITEM_SIZE + 64 * 1024
TABLE_BATCH_BODY_BYTES = 16 * 1024 * 1024
DESCRIPTION = """\
The Silo API. Every endpoint except `/healthz` and the docs needs `Authorization: Bearer KEYID.SECRET`.
`/v1/mgmt/...` needs a management key; `/v1/account/...` acts in the caller's own account.
Errors are `{"code", "message", "details"?}`; see docs/api.md.
"""


def create_app(platform: Platform) -> FastAPI:
    """Build the API app for ``platform`` (which the caller opens, initialises and closes)."""
    app = FastAPI(title="Silo", version=silo.__version__, description=DESCRIPTION)
    app.state.platform = platform
    install_error_handlers(app)
    general = platform.settings.max_body_bytes  # a route's own limit never undercuts the general one
    app.add_middleware(
        BodySizeLimit,
        max_body_bytes=general,
        larger=[
            # Code uploads and invocation payloads have their own, larger limits.
            (r"^/v1/account/functions/?$", platform.settings.max_code_body_bytes),
            (r"^/v1/account/functions/[^/]+/code$", platform.settings.max_code_body_bytes),
            (r"^/v1/account/functions/[^/]+/invocations$", max(INVOKE_BODY_BYTES, general)),
            # PutEvents takes 10 entries of up to 256 KB each, plus room for JSON quoting.
            (r"^/v1/account/events/put-events$", max(PUT_EVENTS_BODY_BYTES, general)),
            # Execution input and task output: up to 256 KB of JSON, with room for quoting it.
            (
                r"^/v1/account/workflows/(state-machines/[^/]+/executions|send-task-success)$",
                max(WORKFLOW_PAYLOAD_BODY_BYTES, general),
            ),
            # A 400 KB item (or expression value), even if JSON has to escape every character of it.
            (r"^/v1/account/tables/[^/]+/(put|update)-item$", max(TABLE_ITEM_BODY_BYTES, general)),
            # BatchWriteItem (25 items) and TransactWriteItems (100 actions, 4 MB): DynamoDB's 16 MB.
            (
                r"^/v1/account/tables/(batch-write-item|transact-write-items)$",
                max(TABLE_BATCH_BODY_BYTES, general),
            ),
            # Templates travel with the code of their functions.
            (r"^/v1/account/stacks/[^/]+/?$", platform.settings.max_code_body_bytes),
            (r"^/v1/account/stacks/[^/]+/change-sets/?$", platform.settings.max_code_body_bytes),
            (r"^/v1/mgmt/stack-sets/?$", platform.settings.max_code_body_bytes),
            (r"^/v1/mgmt/stack-sets/[^/]+/?$", platform.settings.max_code_body_bytes),
        ],
    )
    for module in (
        routes_meta,
        routes_accounts,
        routes_keys,
        routes_guardrails,
        routes_ous,
        routes_account_plane,
        routes_functions,
        routes_stacks,
        routes_fleet,
        routes_events,
        routes_schedules,
        routes_workflows,
        routes_tables,
    ):
        app.include_router(module.router)
    app.include_router(routes_dead_letters.account_router)
    app.include_router(routes_dead_letters.management_router)
    return app
