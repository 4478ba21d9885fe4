"""Helpers for the stack and fleet API tests (and the API isolation test): a template and its code."""

from __future__ import annotations

import base64
from typing import Any

STACKS = "/v1/account/stacks"
STACK_SETS = "/v1/mgmt/stack-sets"
OPERATIONS = "/v1/mgmt/fleet/operations"
VALIDATE = "/v1/account/templates/validate"
FAST = {"max_concurrent": "100%", "retry_base_seconds": 0.01, "retry_max_seconds": 0.05}

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Description: an echo service
Parameters:
  Memory:
    Type: Number
    Default: 256
  Greeting:
    Type: String
    Default: hello
Resources:
  Echo:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Runtime: python3.11
      MemorySize: !Ref Memory
      CodeUri: src/
      Environment:
        Variables:
          GREETING: !Ref Greeting
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
    Description: the function
"""


def bundle(zipped: bytes, path: str = "src/") -> dict[str, str]:
    """The API's ``code`` object: one CodeUri path and its zip, base64."""
    return {path: base64.b64encode(zipped).decode()}


def deploy_body(zipped: bytes, template: str = TEMPLATE, **fields: Any) -> dict[str, Any]:
    return {"template": template, "code": bundle(zipped), **fields}
