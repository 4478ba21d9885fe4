"""Scale-to-zero: environments exit after the idle timeout."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from silo.platform import AccountHandle, Platform
from silo.settings import Settings
from tests.helpers.functions import deploy, wait_until


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.with_(idle_timeout_s=0.3)


def test_environments_exit_when_idle(
    platform: Platform, tenant: Callable[..., AccountHandle], code: Callable[[str], bytes]
) -> None:
    a = tenant("a")
    deploy(a, "echo", code("echo"))
    a.functions.invoke("echo")
    assert platform.runtime.environment_count() == 1
    wait_until(lambda: platform.runtime.environment_count() == 0, timeout=3)
    assert platform.runtime.environment_pids() == []
    a.functions.invoke("echo")  # a cold start again, not an error
