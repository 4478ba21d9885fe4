"""Stack fixtures: a small service template and its packaged code (a pytest plugin: see tests/conftest.py)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable

import pytest

from silo.functions import zip_directory

SERVICE = """
Transform: AWS::Serverless-2016-10-31
Parameters:
  Memory:
    Type: Number
    Default: 256
  Greeting:
    Type: String
    Default: hello
Globals:
  Function:
    Runtime: python3.11
    Timeout: 5
    Environment:
      Variables:
        GREETING: !Ref Greeting
Resources:
  Echo:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      MemorySize: !Ref Memory
      CodeUri: src/
  Greeter:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.greet
      CodeUri: src/
      EventInvokeConfig:
        MaximumRetryAttempts: 1
        DestinationConfig:
          OnFailure:
            Type: Lambda
            Destination: !GetAtt Echo.Arn
  Nightly:
    Type: AWS::Events::Rule
    Properties:
      ScheduleExpression: rate(1 day)
      Targets:
        - Id: echo
          Arn: !GetAtt Echo.Arn
Outputs:
  EchoName:
    Value: !Ref Echo
  EchoArn:
    Value: !GetAtt Echo.Arn
"""

APP = """
import os

def handler(event, context):
    return event

def greet(event, context):
    return os.environ["GREETING"] + " " + event.get("name", "world")
"""


@pytest.fixture
def service_code(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], dict[str, bytes]]:
    def make(source: str = APP) -> dict[str, bytes]:
        directory = tmp_path_factory.mktemp("src")
        (directory / "app.py").write_text(textwrap.dedent(source))
        return {"src/": zip_directory(directory)}

    return make
