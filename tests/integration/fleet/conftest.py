from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from silo.accounts import AccountSpec
from silo.fleet import Fleet, Operation
from silo.functions import zip_directory
from silo.platform import ManagementHandle
from silo.settings import Settings

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Parameters:
  Version:
    Type: String
    Default: v1
Resources:
  Api:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Runtime: python3.11
      CodeUri: src/
      Environment:
        Variables:
          VERSION: !Ref Version
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Runtime: python3.11
      CodeUri: src/
"""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.with_(fleet_lease_s=1.0)


@pytest.fixture
def fleet_code(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], dict[str, bytes]]:
    def make(body: str = "def handler(event, context):\n    return event\n") -> dict[str, bytes]:
        directory = tmp_path_factory.mktemp("src")
        (directory / "app.py").write_text(body)
        return {"src/": zip_directory(directory)}

    return make


@pytest.fixture
def accounts(mgmt: ManagementHandle) -> Callable[..., list[str]]:
    counter = iter(range(100_000))

    def make(n: int, ou: str | None = None, tags: dict[str, str] | None = None) -> list[str]:
        specs = []
        for _ in range(n):
            i = next(counter)
            specs.append(AccountSpec(f"tenant-{i}", f"ops@t{i}.example", ou_id=ou, tags=tags or {}))
        return [a.account_id for a in mgmt.create_accounts(specs)]

    return make


def finish(fleet: Fleet, operation: Operation, timeout: float = 60.0) -> Operation:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        current = fleet.get_operation(operation.operation_id)
        if current.status.finished:
            return current
        time.sleep(0.02)
    raise AssertionError(
        f"operation {operation.operation_id} did not finish: {fleet.progress(operation.operation_id)}"
    )
