"""``silo bench ...``: self-contained benchmarks. With ``--json`` the last stdout line is one JSON object."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from silo.cli import render
from silo.cli.options import JsonOutput

app = typer.Typer(
    no_args_is_help=True, help="Self-contained benchmarks (each makes its own temporary platform)."
)


def _report(as_json: bool, result: dict[str, Any], title: str) -> None:
    """With ``--json``, exactly one compact JSON object on the last line of stdout."""
    if as_json:
        typer.echo(json.dumps(result, separators=(",", ":")))
    else:
        render.record(result, title=title)


@app.command("accounts")
def bench_accounts(
    count: Annotated[int, typer.Option(min=1, max=1_000_000, help="Accounts to create.")] = 10_000,
    database_url: Annotated[
        str | None, typer.Option(help="Run against this PostgreSQL instead of embedded SQLite.")
    ] = None,
    as_json: JsonOutput = False,
) -> None:
    """Create COUNT accounts through the bulk HTTP API of a real local server."""
    from silo.bench import accounts

    _report(as_json, accounts.run(count, database_url=database_url), "bench accounts")


@app.command("runtime")
def bench_runtime(
    cold_samples: Annotated[int, typer.Option(min=5, help="Fresh function versions to cold-start.")] = 200,
    warm_samples: Annotated[int, typer.Option(min=10, help="Sequential warm invocations.")] = 5000,
    throughput_seconds: Annotated[float, typer.Option(min=0.5, help="How long to drive throughput.")] = 3.0,
    threads: Annotated[int, typer.Option(min=1, max=256, help="Concurrent invokers for throughput.")] = 4,
    registered_accounts: Annotated[int, typer.Option(min=0, help="Accounts for the memory check.")] = 1000,
    functions_per_account: Annotated[int, typer.Option(min=0, help="Never-invoked functions each.")] = 100,
    as_json: JsonOutput = False,
) -> None:
    """Cold start, warm overhead, throughput, idle exit and resident memory of the function runtime."""
    from silo.bench import runtime

    result = runtime.run(
        cold_samples=cold_samples,
        warm_samples=warm_samples,
        throughput_seconds=throughput_seconds,
        threads=threads,
        registered_accounts=registered_accounts,
        functions_per_account=functions_per_account,
    )
    _report(as_json, result, "bench runtime")


@app.command("fleet")
def bench_fleet(
    accounts: Annotated[int, typer.Option(min=1, max=100_000, help="Accounts in the rollout.")] = 1000,
    functions_per_stack: Annotated[int, typer.Option(min=1, max=200, help="Functions in the service.")] = 15,
    transient_fault_rate: Annotated[
        float, typer.Option(min=0.0, max=0.9, help="Fraction of instance deploys failing transiently.")
    ] = 0.0,
    database_url: Annotated[
        str | None, typer.Option(help="Run against this PostgreSQL instead of embedded SQLite.")
    ] = None,
    as_json: JsonOutput = False,
) -> None:
    """Deploy a stack set to ACCOUNTS accounts, then roll out an update; times both against the
    raw executemany floor of the same rows."""
    from silo.bench import fleet

    result = fleet.run(
        accounts,
        functions_per_stack,
        transient_fault_rate=transient_fault_rate,
        database_url=database_url,
    )
    _report(as_json, result, "bench fleet")


@app.command("schedules")
def bench_schedules(
    schedules: Annotated[
        int, typer.Option(min=1, max=10_000_000, help="rate() schedules to simulate.")
    ] = 100_000,
    period_s: Annotated[int, typer.Option(min=60, help="Their period in seconds (rate(N minutes)).")] = 300,
    window_s: Annotated[int, typer.Option(min=1, help="Virtual seconds to simulate.")] = 600,
    as_json: JsonOutput = False,
) -> None:
    """Simulate SCHEDULES rate schedules on a virtual clock through the platform's one timer: how evenly
    the deterministic jitter spreads them (vs all aligned) and the memory each takes."""
    from silo.schedules.simulation import run_benchmark

    _report(as_json, run_benchmark(schedules, period_s, window_s), "bench schedules")


@app.command("events")
def bench_events(
    rules: Annotated[int, typer.Option(min=1, max=1_000_000, help="Rules on the bus.")] = 10_000,
    events: Annotated[int, typer.Option(min=1, help="Events to match (matching only).")] = 100_000,
    delivered: Annotated[
        int, typer.Option(min=10, help="Events to deliver end to end into a no-op function.")
    ] = 5_000,
    as_json: JsonOutput = False,
) -> None:
    """Match EVENTS events against RULES rules on one bus (one core), then deliver DELIVERED events
    end to end (PutEvents -> durable delivery -> no-op function) in a throwaway embedded platform."""
    from silo.bench.events import run

    _report(as_json, run(rules=rules, events=events, delivered=delivered), "bench events")


@app.command("workflows")
def bench_workflows(
    executions: Annotated[
        int, typer.Option(min=1, help="Executions of the Pass/Choice/Map heavy definition.")
    ] = 200,
    items: Annotated[int, typer.Option(min=1, max=10_000, help="Map items per heavy execution.")] = 100,
    task_executions: Annotated[
        int, typer.Option(min=1, help="Executions of the 5-state workflow with a function task.")
    ] = 500,
    waiting: Annotated[
        int, typer.Option(min=1, help="Executions left waiting in an hour-long Wait.")
    ] = 10_000,
    as_json: JsonOutput = False,
) -> None:
    """State transitions/s (Pass/Choice/Map heavy), executions/s (5 states, one no-op function task)
    and the cost of WAITING parked executions, in a throwaway embedded platform."""
    from silo.bench.workflows import run

    _report(
        as_json,
        run(executions=executions, items=items, task_executions=task_executions, waiting=waiting),
        "bench workflows",
    )


@app.command("account-factory")
def bench_account_factory(
    requests: Annotated[int, typer.Option(min=1, max=10_000, help="Accounts to request, one by one.")] = 20,
    baseline: Annotated[
        bool, typer.Option("--baseline/--no-baseline", help="Deploy a baseline stack set to each account.")
    ] = True,
    as_json: JsonOutput = False,
) -> None:
    """Request-to-ready of accounts made by the account factory workflow (with a baseline stack set
    auto-deployed to their OU), in a throwaway embedded platform."""
    from silo.bench.factory import run

    _report(as_json, run(requests=requests, baseline=baseline), "bench account-factory")


@app.command("tables")
def bench_tables(
    items: Annotated[int, typer.Option(min=100, help="Items to put, get and query.")] = 20_000,
    updates: Annotated[int, typer.Option(min=1, help="Conditional updates, one a call.")] = 2_000,
    as_json: JsonOutput = False,
) -> None:
    """Puts (BatchWriteItem), gets (BatchGetItem), queries and conditional updates per second on the
    embedded default, one client, in a throwaway platform."""
    from silo.bench.tables import run

    _report(as_json, run(items=items, updates=updates), "bench tables")
