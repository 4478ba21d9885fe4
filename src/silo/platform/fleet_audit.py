"""The management plane's view of the fleet: every change is audited like other management actions."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from silo.fleet import Fleet, Operation, Preferences, StackSet, Targets, Wave

Audit = Callable[[str, dict[str, Any]], None]


class AuditedFleet:
    """``Fleet`` with an audit record (principal, action, details) after each change; reads pass through."""

    def __init__(self, fleet: Fleet, audit: Audit) -> None:
        self._fleet = fleet
        self._audit = audit
        self.get_stack_set = fleet.get_stack_set
        self.list_stack_sets = fleet.list_stack_sets
        self.list_instances = fleet.list_instances
        self.get_operation = fleet.get_operation
        self.progress = fleet.progress
        self.list_operations = fleet.list_operations
        self.management_events = fleet.management_events
        self.accounts_placed = fleet.accounts_placed

    def create_stack_set(self, name: str, body: str, **options: Any) -> StackSet:
        made = self._fleet.create_stack_set(name, body, **options)
        self._audit("fleet:CreateStackSet", {"stack_set": name, "template_sha256": made.template_sha256})
        return made

    def update_stack_set(self, name: str, **options: Any) -> Operation:
        operation = self._fleet.update_stack_set(name, **options)
        self._audit("fleet:UpdateStackSet", _op(operation))
        return operation

    def delete_stack_set(self, name: str) -> None:
        self._fleet.delete_stack_set(name)
        self._audit("fleet:DeleteStackSet", {"stack_set": name})

    def create_instances(
        self,
        name: str,
        targets: Targets | None = None,
        *,
        waves: Sequence[Wave] = (),
        overrides: Mapping[str, Any] | None = None,
        preferences: Preferences | None = None,
    ) -> Operation:
        operation = self._fleet.create_instances(
            name, targets, waves=waves, overrides=overrides, preferences=preferences
        )
        self._audit("fleet:CreateStackInstances", _op(operation))
        return operation

    def update_instances(self, name: str, targets: Targets, **options: Any) -> Operation:
        operation = self._fleet.update_instances(name, targets, **options)
        self._audit("fleet:UpdateStackInstances", _op(operation))
        return operation

    def delete_instances(self, name: str, targets: Targets, **options: Any) -> Operation:
        operation = self._fleet.delete_instances(name, targets, **options)
        self._audit("fleet:DeleteStackInstances", _op(operation))
        return operation

    def stop_operation(self, operation_id: str) -> Operation:
        operation = self._fleet.stop_operation(operation_id)
        self._audit("fleet:StopOperation", _op(operation))
        return operation


def _op(operation: Operation) -> dict[str, Any]:
    return {
        "stack_set": operation.stack_set,
        "operation_id": operation.operation_id,
        "action": operation.action.value,
        "version": operation.version,
    }
