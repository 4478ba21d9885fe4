"""``Settings.from_env``: the dead-letter retention (other settings are exercised by the suites)."""

from __future__ import annotations

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
