"""``Settings.from_env``: the dead-letter retention and the sandbox (other settings are exercised by the
suites)."""

from __future__ import annotations

from pathlib import Path

import pytest

from silo.errors import ValidationError
from silo.settings import Settings


def test_dlq_retention_defaults_to_14_days_and_reads_its_variable() -> None:
    assert Settings.from_env({}).dlq_retention_days == 14
    assert Settings.from_env({"SILO_DLQ_RETENTION_DAYS": "3"}).dlq_retention_days == 3
    assert Settings.from_env({"SILO_DLQ_RETENTION_DAYS": "0"}).dlq_retention_days == 0


@pytest.mark.parametrize("raw", ["-1", "two"])
def test_a_bad_dlq_retention_is_refused(raw: str) -> None:
    with pytest.raises(ValidationError, match="SILO_DLQ_RETENTION_DAYS"):
        Settings.from_env({"SILO_DLQ_RETENTION_DAYS": raw})


def test_the_sandbox_and_its_shared_directories_are_read_from_the_environment() -> None:
    assert Settings.from_env({}).sandbox == "auto"
    assert Settings.from_env({}).sandbox_shared_dirs == ()
    chosen = Settings.from_env(
        {"SILO_SANDBOX": "dedicated-user", "SILO_SANDBOX_SHARED_DIRS": "/srv/a:/srv/b"}
    )
    assert chosen.sandbox == "dedicated-user"
    assert chosen.sandbox_shared_dirs == (Path("/srv/a"), Path("/srv/b"))
    with pytest.raises(ValidationError, match="SILO_SANDBOX must be one of auto, bubblewrap"):
        Settings.from_env({"SILO_SANDBOX": "chroot"})


def test_the_sandbox_levels_are_the_runtimes() -> None:
    """settings.py keeps its own copy (importing the runtime would load it into every CLI call)."""
    from silo.runtime._limits import SANDBOX_LEVELS as RUNTIME_LEVELS
    from silo.settings import SANDBOX_LEVELS

    assert SANDBOX_LEVELS == RUNTIME_LEVELS
