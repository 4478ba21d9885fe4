"""Stacks: one service template deployed in one account, changed through change sets."""

from silo.stacks.binding import CodeMap, code_map, code_paths, desired_resources, package_code
from silo.stacks.deployer import DeployJob, DeployOutcome, StackDeployer
from silo.stacks.engine import StacksEngine
from silo.stacks.models import (
    Change,
    ChangeSet,
    ChangeSetStatus,
    Drift,
    Stack,
    StackEvent,
    StackResource,
    StackStatus,
    check_stack_name,
)
from silo.stacks.service import Deployed, Stacks

__all__ = [
    "Change",
    "ChangeSet",
    "ChangeSetStatus",
    "CodeMap",
    "DeployJob",
    "DeployOutcome",
    "Deployed",
    "Drift",
    "Stack",
    "StackDeployer",
    "StackEvent",
    "StackResource",
    "StackStatus",
    "Stacks",
    "StacksEngine",
    "check_stack_name",
    "code_map",
    "code_paths",
    "desired_resources",
    "package_code",
]
