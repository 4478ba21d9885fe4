"""The self-contained `silo bench ...` commands run end to end at a small size and print their fields."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from silo.bench import fleet
from silo.cli.main import app


def test_a_small_rollout_with_transient_faults_ends_with_no_failed_instance() -> None:
    result = fleet.run(6, 3, transient_fault_rate=0.3)
    assert result["functions_total"] == 18
    assert result["failed_instances"] == 0
    assert result["deploy_status"] == result["update_status"] == "SUCCEEDED"
    assert result["floor_rows"] > 18  # functions, resources, stacks and events of the update
    for field in ("accounts", "deploy_s", "update_s", "rss_mb_peak", "executemany_floor_s"):
        assert field in result


@pytest.mark.parametrize("count", [3])
def test_the_cli_prints_one_json_object_last(count: int) -> None:
    out = CliRunner().invoke(
        app, ["bench", "fleet", "--accounts", str(count), "--functions-per-stack", "2", "--json"]
    )
    assert out.exit_code == 0, out.output
    parsed = json.loads(out.output.strip().splitlines()[-1])
    assert parsed["accounts"] == count and parsed["functions_total"] == 2 * count


def test_bench_schedules_prints_the_issue_fields() -> None:
    args = ["bench", "schedules", "--schedules", "3000", "--period-s", "300", "--window-s", "600", "--json"]
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 0, out.output
    parsed = json.loads(out.output.strip().splitlines()[-1])
    assert {
        "peak_per_s",
        "mean_per_s",
        "peak_to_mean",
        "peak_to_mean_unjittered",
        "bytes_per_schedule",
    } <= set(parsed)
    assert (parsed["schedules"], parsed["period_s"], parsed["window_s"]) == (3000, 300, 600)
    assert parsed["mean_per_s"] == 10.0  # 3,000 schedules, each once every 300 s
    assert parsed["peak_to_mean_unjittered"] == 300.0
    assert parsed["peak_to_mean"] < 3
    assert 0 < parsed["bytes_per_schedule"] < 1000


def test_bench_events_prints_the_issue_fields() -> None:
    args = ["bench", "events", "--rules", "50", "--events", "500", "--delivered", "20", "--json"]
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 0, out.output
    parsed = json.loads(out.output.strip().splitlines()[-1])
    assert (parsed["rules"], parsed["events"], parsed["delivered_events"]) == (50, 500, 20)
    assert parsed["match_events_per_s"] > 0 and parsed["delivered_events_per_s"] > 0


def test_throwaway_platforms_take_the_sandbox_silo_sandbox_names(monkeypatch: pytest.MonkeyPatch) -> None:
    from silo.bench.stats import scratch_settings
    from silo.errors import ValidationError

    monkeypatch.setenv("SILO_SANDBOX", "rlimits-only")
    monkeypatch.setenv("SILO_SANDBOX_SHARED_DIRS", "/srv/shared")
    with scratch_settings() as settings:
        assert settings.sandbox == "rlimits-only"
        assert [str(d) for d in settings.sandbox_shared_dirs] == ["/srv/shared"]
    monkeypatch.delenv("SILO_SANDBOX_SHARED_DIRS")
    monkeypatch.delenv("SILO_SANDBOX")
    with scratch_settings() as settings:
        assert settings.sandbox == "auto"
    monkeypatch.setenv("SILO_SANDBOX", "chroot")
    with pytest.raises(ValidationError, match="SILO_SANDBOX"), scratch_settings():
        pass
