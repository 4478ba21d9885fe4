"""Deterministic physical names, ARNs and pseudo parameter values.

Nothing here depends on deployed state: a name is the one the template gives, else
``{stack}-{LogicalId}``, shortened to the kind's limit with a hash suffix so that two long ids stay
distinct; an ARN follows from (region, account, name).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping
from typing import Any, NamedTuple

from silo.templates._checks import join, show
from silo.templates.model import TemplateError

PARTITION = "silo"
URL_SUFFIX = "silo.local"
_ACCOUNT = re.compile(r"[0-9]{12}")
_STACK = re.compile(r"[A-Za-z][-A-Za-z0-9]{0,127}")
_REGION = re.compile(r"[a-z][a-z0-9-]{0,31}")


def check_identity(account_id: str, stack_name: str, region: str) -> None:
    check_account(account_id)
    check_location(stack_name, region)


def check_account(account_id: str) -> None:
    if not isinstance(account_id, str) or not _ACCOUNT.fullmatch(account_id):
        raise TemplateError("account_id", f"expected 12 digits, got {show(account_id)}")


def check_location(stack_name: str, region: str) -> None:
    if not isinstance(stack_name, str) or not _STACK.fullmatch(stack_name):
        raise TemplateError(
            "stack_name", f"expected a letter then up to 127 letters, digits or '-', got {show(stack_name)}"
        )
    if not isinstance(region, str) or not _REGION.fullmatch(region):
        raise TemplateError("region", f"expected lowercase letters, digits and '-', got {show(region)}")


ACCOUNT_PSEUDO = ("AWS::AccountId", "AWS::StackId")
"""The pseudo parameters whose values contain the account id."""


def location_values(stack_name: str, region: str) -> dict[str, str]:
    """The pseudo parameter values that are the same in every account."""
    return {
        "AWS::Region": region,
        "AWS::StackName": stack_name,
        "AWS::Partition": PARTITION,
        "AWS::URLSuffix": URL_SUFFIX,
    }


def account_values(account_id: str, stack_name: str, region: str, *, stack_id: bool = True) -> dict[str, str]:
    """The values of :data:`ACCOUNT_PSEUDO`; ``AWS::StackId`` (a hash to compute) only with ``stack_id``."""
    if not stack_id:
        return {"AWS::AccountId": account_id}
    stack_uuid = uuid.uuid5(uuid.NAMESPACE_URL, f"silo:stack/{account_id}/{stack_name}")
    return {
        "AWS::AccountId": account_id,
        "AWS::StackId": arn("cloudformation", region, account_id, f"stack/{stack_name}/{stack_uuid}"),
    }


def arn(service: str, region: str, account_id: str, resource: str) -> str:
    return Arn(service, resource).render(region, account_id)


class Arn(NamedTuple):
    """An ARN less its region and account: builders name what they build without the account, and
    each resolution renders the ARN for its own (region, account)."""

    service: str
    resource: str

    def render(self, region: str, account_id: str) -> str:
        return f"arn:{PARTITION}:{self.service}:{region}:{account_id}:{self.resource}"


def default_name(stack_name: str, logical_id: str, limit: int) -> str:
    """``{stack}-{LogicalId}``; past ``limit``, cut and end with ``-`` and 8 hex digits of its sha256."""
    name = f"{stack_name}-{logical_id}"
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: limit - 9]}-{digest}"


def physical_name(
    props: Mapping[str, Any],
    key: str,
    stack_name: str,
    logical_id: str,
    rule: tuple[re.Pattern[str], int, str],
    path: str,
) -> str:
    """The name property ``key`` when given (checked against ``rule``), else the default name."""
    pattern, limit, what = rule
    value = props.get(key)
    if value is None:
        return default_name(stack_name, logical_id, limit)
    if not isinstance(value, str) or len(value) > limit or not pattern.fullmatch(value):
        raise TemplateError(join(path, key), f"expected {what}, at most {limit}; got {show(value)}")
    return value


FUNCTION_NAME = (re.compile(r"[A-Za-z0-9_-]+"), 64, "letters, digits, '-' or '_'")
STATE_MACHINE_NAME = (re.compile(r"[A-Za-z0-9_-]+"), 80, "letters, digits, '-' or '_'")
RULE_NAME = (re.compile(r"[.\-_A-Za-z0-9]+"), 64, "letters, digits, '.', '-' or '_'")
BUS_NAME = (re.compile(r"[/.\-_A-Za-z0-9]+"), 256, "letters, digits, '/', '.', '-' or '_'")
TABLE_NAME = (re.compile(r"[A-Za-z0-9_.-]{3,}"), 255, "3 or more letters, digits, '.', '-' or '_'")
