"""``silo bench fleet``: roll one stack set out to N accounts, then an update, and time both.

Self-contained: a temporary platform (embedded SQLite unless a PostgreSQL URL is given), N accounts,
a service of F functions over the example scanner service's code (one shared code directory), the
in-process fleet worker. The
physical floor is measured in the same run: raw DBAPI ``executemany`` of exactly the rows the update
wrote (functions, stack resources, stacks, stack events) into scratch copies of those tables.
"""

from __future__ import annotations

import resource
import shutil
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from silo.accounts import AccountSpec
from silo.bench.stats import scratch_settings
from silo.fleet import Amount, InstanceStatus, Preferences, Targets
from silo.functions import zip_directory
from silo.platform import Platform
from silo.store import utcnow
from silo.store.schema import (
    fleet_stack_instances,
    functions,
    metadata,
    stack_events,
    stack_resources,
    stacks,
)

STACK_SET = "bench"
_HANDLER = (
    "import os\n\n\n"
    "def handler(event, context):\n"
    "    return {{'version': os.environ['SERVICE_VERSION'], 'v': {v}}}\n"
)


def service_template(functions_per_stack: int) -> str:
    """A SAM service of ``functions_per_stack`` functions; ``Version`` and ``Memory`` change on update."""
    lines = [
        "Transform: AWS::Serverless-2016-10-31",
        "Description: silo bench fleet service",
        "Parameters:",
        "  Version: {Type: String, Default: v1}",
        "  Memory: {Type: Number, Default: 128, AllowedValues: [128, 256]}",
        "Globals:",
        "  Function:",
        "    Runtime: python3.11",
        "    Timeout: 10",
        "    MemorySize: !Ref Memory",
        "    CodeUri: src/",
        "    Environment:",
        "      Variables:",
        "        SERVICE_VERSION: !Ref Version",
        "        STACK: !Ref AWS::StackName",
        "Resources:",
    ]
    handlers = _handlers()
    for i in range(functions_per_stack):
        lines += [
            f"  Fn{i:03d}:",
            "    Type: AWS::Serverless::Function",
            "    Properties:",
            f"      Handler: {handlers[i % len(handlers)]}",
            f"      Description: bench function {i}",
        ]
    return "\n".join(lines) + "\n"


# The example service's code (examples/scanner-service/src) when running from a checkout: real
# modules of realistic size; a generated one-file module otherwise.
EXAMPLE_SRC = Path(__file__).resolve().parents[3] / "examples" / "scanner-service" / "src"
EXAMPLE_HANDLERS = (
    "health.handler",
    "ingest.handler",
    "enrich.handler",
    "heartbeat.handler",
    "quarantine.handler",
    "aggregate.handler",
    "alerts.handler",
    "report.handler",
    "fleet.handler",
    "notify.handler",
    "onboarding.validate_device",
    "onboarding.register_device",
    "onboarding.check_provisioning",
    "onboarding.activate_device",
)


def _handlers() -> tuple[str, ...]:
    return EXAMPLE_HANDLERS if EXAMPLE_SRC.is_dir() else ("app.handler",)


def _code(version: int) -> dict[str, bytes]:
    """Version ``n`` of the service's code: the same modules plus a revision marker (a new sha256)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "src"
        if EXAMPLE_SRC.is_dir():
            shutil.copytree(EXAMPLE_SRC, root, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            root.mkdir()
            (root / "app.py").write_text(_HANDLER.format(v=version))
        (root / "bench_revision.py").write_text(f"REVISION = {version}\n")
        return {"src/": zip_directory(root)}


def run(
    accounts: int = 1000,
    functions_per_stack: int = 15,
    *,
    transient_fault_rate: float = 0.0,
    database_url: str | None = None,
    batch: int = 500,
) -> dict[str, Any]:
    overrides: dict[str, Any] = {
        "database_url": database_url,
        "fleet_fault_transient_rate": transient_fault_rate,
    }
    with scratch_settings(**overrides) as settings:
        platform = Platform.open(settings)
        try:
            made = platform.initialise()
            assert made is not None
            mgmt = platform.management(platform.authenticate(made.root_key.token))
            ids = [
                a.account_id
                for start in range(0, accounts, 5000)
                for a in mgmt.create_accounts(
                    [
                        AccountSpec(f"bench-{i:07d}", "ops@bench.example")
                        for i in range(start, min(accounts, start + 5000))
                    ]
                )
            ]
            prefs = Preferences(
                max_concurrent=Amount(100, percent=True),
                failure_tolerance=Amount(0),
                concurrency_mode="soft",
                max_attempts=10,
                retry_base_seconds=0.05,
                retry_max_seconds=0.5,
            )
            template = service_template(functions_per_stack)
            started = time.perf_counter()
            mgmt.fleet.create_stack_set(STACK_SET, template, code=_code(1))
            deployed = _wait(
                platform,
                mgmt.fleet.create_instances(
                    STACK_SET, Targets(accounts=tuple(ids)), preferences=prefs
                ).operation_id,
            )
            deploy_s = time.perf_counter() - started

            started = time.perf_counter()
            update_began = utcnow()
            update = mgmt.fleet.update_stack_set(
                STACK_SET, parameters={"Version": "v2", "Memory": "256"}, code=_code(2), preferences=prefs
            )
            updated = _wait(platform, update.operation_id)
            update_s = time.perf_counter() - started

            rss_mb_peak = (
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            )  # before the floor's reads
            floor_s, rows = _executemany_floor(platform, update_began)
            with platform.store.read() as conn:
                failed = conn.execute(
                    sa.select(sa.func.count()).where(
                        fleet_stack_instances.c.stack_set == STACK_SET,
                        fleet_stack_instances.c.status != InstanceStatus.CURRENT.value,
                    )
                ).scalar()
                total_functions = conn.execute(
                    sa.select(sa.func.count()).select_from(functions).execution_options(cross_account=True)
                ).scalar()
        finally:
            platform.close()
    return {
        "accounts": accounts,
        "functions_per_stack": functions_per_stack,
        "functions_total": int(total_functions or 0),
        "backend": "postgresql" if database_url else "sqlite",
        "deploy_s": round(deploy_s, 2),
        "update_s": round(update_s, 2),
        "deploy_status": deployed,
        "update_status": updated,
        "executemany_floor_s": round(floor_s, 2),
        "floor_rows": rows,
        "update_vs_floor": round(update_s / floor_s, 2) if floor_s else None,
        "transient_fault_rate": transient_fault_rate,
        "failed_instances": int(failed or 0),
        "rss_mb_peak": round(rss_mb_peak, 1),
    }


def _wait(platform: Platform, operation_id: str) -> str:
    fleet = platform.services.fleet
    while True:
        op = fleet.get_operation(operation_id)
        if op.status.finished:
            return op.status.value
        time.sleep(0.05)


def _executemany_floor(platform: Platform, since: datetime) -> tuple[float, int]:
    """Time raw-driver executemany of the rows the update wrote into empty twins of their tables
    (same primary keys and indexes).

    Rows are read and converted in chunks (not timed), so memory stays bounded at any fleet size;
    only the ``executemany`` calls and the commit are timed.
    """
    tables = (functions, stack_resources, stacks, stack_events)
    engine = platform.store.engine
    postgres = engine.dialect.name == "postgresql"
    param = "%s" if postgres else "?"
    raw = engine.raw_connection()
    elapsed = 0.0
    rows_total = 0
    try:
        cur = raw.cursor()
        for table in tables:
            cur.execute(f'DROP TABLE IF EXISTS "floor_{table.name}"')
        raw.commit()
        # Twins with the same keys and indexes: the floor pays the same index maintenance.
        twins = sa.MetaData(naming_convention=metadata.naming_convention)
        for table in tables:
            sa.Table(
                f"floor_{table.name}",
                twins,
                *[sa.Column(c.name, c.type, nullable=c.nullable) for c in table.columns],
                sa.PrimaryKeyConstraint(*[c.name for c in table.primary_key.columns]),
                *[
                    sa.UniqueConstraint(*[c.name for c in u.columns])
                    for u in table.constraints
                    if isinstance(u, sa.UniqueConstraint)
                ],
                *[sa.Index(None, *[c.name for c in ix.columns]) for ix in table.indexes],
            )
        twins.create_all(engine)
        if not postgres:
            cur.execute("BEGIN")  # the platform's SQLite connections run in autocommit mode
        with platform.store.read() as conn:
            for table in tables:
                query = sa.select(table).execution_options(cross_account=True)
                if table is stack_events:
                    query = query.where(stack_events.c.at >= since)
                processors = [c.type._cached_bind_processor(engine.dialect) for c in table.columns]
                insert = (
                    f'INSERT INTO "floor_{table.name}" VALUES ({", ".join([param] * len(table.columns))})'
                )
                result = conn.execution_options(stream_results=True, yield_per=20_000).execute(query)
                for chunk in result.partitions():
                    rows = [
                        tuple(p(v) if p else v for p, v in zip(processors, row, strict=True)) for row in chunk
                    ]
                    started = time.perf_counter()
                    cur.executemany(insert, rows)
                    elapsed += time.perf_counter() - started
                    rows_total += len(rows)
        started = time.perf_counter()
        raw.commit()
        elapsed += time.perf_counter() - started
        for table in tables:
            cur.execute(f'DROP TABLE IF EXISTS "floor_{table.name}"')
        raw.commit()
    finally:
        raw.close()
    return elapsed, rows_total
