"""The schedules benchmark on a small fleet: jitter flattens the load, memory stays small."""

from __future__ import annotations

import pytest

from silo.schedules.simulation import rate_expression, run_benchmark, simulate


@pytest.mark.parametrize(
    ("period_s", "expression"),
    [(60, "rate(1 minute)"), (300, "rate(5 minutes)"), (3600, "rate(1 hour)"), (172800, "rate(2 days)")],
)
def test_rate_expression(period_s: int, expression: str) -> None:
    assert rate_expression(period_s) == expression


@pytest.mark.parametrize("period_s", [0, 30, 90])
def test_rate_expression_needs_whole_minutes(period_s: int) -> None:
    with pytest.raises(ValueError, match="whole number of minutes"):
        rate_expression(period_s)


def test_jitter_spreads_the_fleet_and_each_schedule_fires_once_a_period() -> None:
    result = simulate(30_000, 60, 120, jitter=True)
    assert result["fires"] == 60_000
    assert result["mean_per_s"] == 500
    assert result["peak_to_mean"] <= 1.2
    assert result["bytes_per_schedule"] <= 200


def test_without_jitter_the_whole_fleet_fires_in_one_second() -> None:
    result = simulate(3_000, 60, 120, jitter=False, measure_memory=False)
    assert result["bytes_per_schedule"] is None
    assert result["fires"] == 6_000
    assert result["peak_per_s"] == 3_000
    assert result["peak_to_mean"] == 60.0


def test_run_benchmark_reports_the_issue_fields() -> None:
    result = run_benchmark(6_000, 300, 600)
    assert set(result) == {
        "schedules",
        "period_s",
        "window_s",
        "peak_per_s",
        "mean_per_s",
        "peak_to_mean",
        "peak_to_mean_unjittered",
        "bytes_per_schedule",
    }
    assert result["schedules"] == 6_000
    assert result["mean_per_s"] == 20
    assert result["peak_to_mean_unjittered"] == 300.0
    assert result["peak_to_mean"] < 3
    assert 0 < result["bytes_per_schedule"] <= 250
