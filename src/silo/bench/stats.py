"""Percentiles and the temporary platform every benchmark runs in."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from silo.settings import Settings


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (``pct`` in 0..100) of a non-empty sample."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no samples")
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


@contextmanager
def scratch_settings(**overrides: object) -> Iterator[Settings]:
    """Settings for a throwaway embedded platform in a temporary ``SILO_HOME``."""
    home = Path(tempfile.mkdtemp(prefix="silo-bench-"))
    try:
        yield Settings(home=home).with_(**overrides)
    finally:
        shutil.rmtree(home, ignore_errors=True)
