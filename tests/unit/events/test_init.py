"""The package surface, the error tree, and the matching benchmark helper."""

from __future__ import annotations

import silo.events
from silo.errors import ValidationError
from silo.events import InvalidEntry, InvalidPattern, InvalidTargetInput
from silo.events.matching_bench import measure_matching


def test_public_surface() -> None:
    assert set(silo.events.__all__) == {
        "MAX_ENTRY_BYTES",
        "InvalidEntry",
        "InvalidPattern",
        "InvalidTargetInput",
        "Pattern",
        "RuleIndex",
        "TargetInput",
        "build_event",
        "check_entry",
        "compile_pattern",
        "compile_target_input",
        "entry_size",
    }
    for error in (InvalidEntry, InvalidPattern, InvalidTargetInput):
        assert issubclass(error, ValidationError) and error.http_status == 400
    assert len({InvalidEntry.code, InvalidPattern.code, InvalidTargetInput.code}) == 3


def test_measure_matching_reports_its_figures() -> None:
    figures = measure_matching(200, 2000)
    assert set(figures) == {"rules", "events", "match_events_per_s", "ns_per_event"}
    assert figures["rules"] == 200 and figures["events"] == 2000
    assert figures["match_events_per_s"] > 0 and figures["ns_per_event"] > 0
    assert abs(figures["match_events_per_s"] * figures["ns_per_event"] / 1e9 - 1) < 0.01
