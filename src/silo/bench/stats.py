"""Percentiles and the temporary platform every benchmark runs in."""

from __future__ import annotations

import os
import secrets
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


_SANDBOX_VARIABLES = ("SILO_SANDBOX", "SILO_SANDBOX_SHARED_DIRS")


@contextmanager
def scratch_settings(**overrides: object) -> Iterator[Settings]:
    """Settings for a throwaway platform: a temporary ``SILO_HOME`` (0711, so function code under
    it is reachable), the sandbox ``SILO_SANDBOX`` and ``SILO_SANDBOX_SHARED_DIRS`` describe (default
    ``auto``, none shared) and, on PostgreSQL, a schema of its own that is dropped afterwards."""
    chosen = Settings.from_env({name: os.environ.get(name, "") for name in _SANDBOX_VARIABLES})
    home = Path(tempfile.mkdtemp(prefix="silo-bench-"))
    home.chmod(0o711)
    settings = Settings(
        home=home,
        runtime_dir=home / "runtime",
        sandbox=chosen.sandbox,
        sandbox_shared_dirs=chosen.sandbox_shared_dirs,
    ).with_(**overrides)
    if settings.database_url is not None:
        settings = settings.with_(database_schema=f"silo_bench_{secrets.token_hex(4)}")
    try:
        yield settings
    finally:
        shutil.rmtree(home, ignore_errors=True)
        if settings.database_schema is not None and settings.database_url is not None:
            _drop_schema(settings.database_url, settings.database_schema)


def _drop_schema(url: str, schema: str) -> None:
    import sqlalchemy as sa

    from silo.store.engine import normalise_url

    engine = sa.create_engine(normalise_url(url))
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()
