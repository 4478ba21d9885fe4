"""Fleet rollout: stack sets, their instances in many accounts, and the operations that deploy them."""

from silo.fleet.faults import FaultInjector, TransientDeployError
from silo.fleet.models import (
    Amount,
    AutoDeployment,
    InstanceStatus,
    Operation,
    OperationAction,
    OperationStatus,
    Preferences,
    StackInstance,
    StackSet,
    Targets,
    TargetStatus,
    Wave,
    parse_amount,
)
from silo.fleet.runner import OperationRunner
from silo.fleet.service import Fleet
from silo.fleet.tracking import Progress, WaveProgress
from silo.fleet.worker import FleetWorker

__all__ = [
    "Amount",
    "AutoDeployment",
    "FaultInjector",
    "Fleet",
    "FleetWorker",
    "InstanceStatus",
    "Operation",
    "OperationAction",
    "OperationRunner",
    "OperationStatus",
    "Preferences",
    "Progress",
    "StackInstance",
    "StackSet",
    "TargetStatus",
    "Targets",
    "TransientDeployError",
    "Wave",
    "WaveProgress",
    "parse_amount",
]
