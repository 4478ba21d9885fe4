"""`silo bench workflows` and `silo bench account-factory` run end to end at a small size."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from silo.cli.main import app


def _last_json(args: list[str]) -> dict[str, object]:
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 0, out.output
    parsed: dict[str, object] = json.loads(out.output.strip().splitlines()[-1])
    return parsed


def test_bench_workflows_prints_the_issue_fields() -> None:
    parsed = _last_json(
        [
            "bench",
            "workflows",
            "--executions",
            "3",
            "--items",
            "5",
            "--task-executions",
            "5",
            "--waiting",
            "20",
            "--json",
        ]
    )
    assert (
        parsed["transitions_per_execution"] == 2 + 5 * 4 + 1
    )  # Items, Each, 5 x (Tag, Even, Mark, Done), Finish
    for field in ("transitions_per_s", "interpreter_transitions_per_s", "executions_per_s", "rss_growth_kib"):
        assert isinstance(parsed[field], int | float) and parsed[field] >= 0, field
    assert (parsed["failed"], parsed["waiting_executions"], parsed["threads_added"]) == (0, 20, 0)


def test_bench_account_factory_prints_request_to_ready() -> None:
    parsed = _last_json(["bench", "account-factory", "--requests", "2", "--json"])
    assert parsed["requests"] == 2 and parsed["baseline_stack_sets"] == 1
    p50, p99 = parsed["request_to_ready_ms_p50"], parsed["request_to_ready_ms_p99"]
    assert isinstance(p50, float) and isinstance(p99, float) and 0 < p50 <= p99
