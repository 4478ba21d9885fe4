"""``silo bench runtime`` runs end to end at a small size and reports the fields the functions issue
names (the figures themselves are checked by hand: see docs/benchmarks.md)."""

from __future__ import annotations

from silo.bench import runtime


def test_a_small_run_reports_every_field() -> None:
    result = runtime.run(
        cold_samples=5,
        warm_samples=20,
        throughput_seconds=0.5,
        threads=2,
        processes=2,
        registered_accounts=2,
        functions_per_account=3,
    )
    for field in (
        "cold_start_ms_p50",
        "cold_start_ms_p99",
        "warm_invoke_us_p50",
        "warm_invoke_us_p99",
        "interpreter_start_ms_p50",
        "cold_start_vs_interpreter",
    ):
        assert result[field] > 0
    assert result["throughput_per_s"] > 0 and result["processes"] == 2  # both worker processes ran
    assert result["idle_processes_after_timeout"] == 0
    assert result["registered_functions"] == 6
