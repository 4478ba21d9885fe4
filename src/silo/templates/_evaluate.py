"""Running a compiled plan for one (parameter values, stack, region), then for each account.

:class:`Evaluation` with ``share`` evaluates once what the plan judged account-independent (see
:mod:`silo.templates._plan`), in a scope without an account, where no account-bearing value exists;
:meth:`Evaluation.account` then evaluates the rest for one account, in plan order, and renders the
ARNs. Without ``share`` every step is evaluated per account, which is what :func:`resolve` does.

The account-independent properties are shared by every account's result: read-only by contract.
If evaluating the account-independent part fails, the evaluation stops sharing (every account then
evaluates everything, so its first error is the one :func:`resolve` raises for it).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from silo.templates._checks import text
from silo.templates._names import account_values, location_values
from silo.templates._parameters import ParameterValue
from silo.templates._plan import OutputStep, Plan
from silo.templates._resources import Built
from silo.templates._scope import Scope
from silo.templates.model import RUNNABLE_KINDS, Output, ResolvedTemplate, Resource, TemplateError


class _Shared(NamedTuple):
    """A resource evaluated once: ``built``, or None when its condition ``left_out`` is false."""

    built: Built | None
    left_out: str
    depends_on: tuple[str, ...]


_LEFT_OUT = Output("", None)
"""An output whose (account-independent) condition is false."""


class Evaluation:
    """A plan with its parameter values, stack and region; :meth:`account` resolves it for an account."""

    def __init__(
        self,
        plan: Plan,
        values: dict[str, ParameterValue],
        stack_name: str,
        region: str,
        *,
        description: str,
        share: bool,
        no_echo: frozenset[str] = frozenset(),
    ) -> None:
        self._plan = plan
        self._values = values
        self._no_echo = no_echo
        self._scope_values: dict[str, Any] = {**values, **location_values(stack_name, region)}
        self._stack = stack_name
        self._region = region
        self._description = description
        self._conditions: dict[str, bool] = {}
        self._shared: dict[str, _Shared] = {}
        self._shared_outputs: dict[str, Output] = {}
        self._account_conditions = plan.conditions
        self._targets = plan.targets_read
        if share:
            try:
                self._share()
            except TemplateError:
                self._conditions, self._shared, self._shared_outputs = {}, {}, {}
            else:
                self._account_conditions = tuple(
                    (name, test) for name, test in plan.conditions if name in plan.account_conditions
                )
                self._targets = plan.account_targets_read

    @property
    def shared(self) -> frozenset[str]:
        """The resources evaluated once, for every account."""
        return frozenset(logical_id for logical_id, entry in self._shared.items() if entry.built is not None)

    def _share(self) -> None:
        plan = self._plan
        scope = Scope(None, self._region, self._stack, self._scope_values)
        for name, test in plan.conditions:
            if name not in plan.account_conditions:
                scope.conditions[name] = test(scope)
        for step in plan.resources:
            if step.account:
                continue
            logical_id = step.logical_id
            if step.condition is not None and not scope.conditions[step.condition]:
                scope.excluded[logical_id] = step.condition
                self._shared[logical_id] = _Shared(None, step.condition, ())
                continue
            built = step.type.build(logical_id, step.properties(scope), scope, step.path)
            scope.targets[logical_id] = step.type.target(built, None)
            depends_on = tuple(name for name in step.depends_on if name not in scope.excluded)
            self._shared[logical_id] = _Shared(built, "", depends_on)
        for output in plan.outputs:
            if not output.account:
                included = output.condition is None or scope.conditions[output.condition]
                self._shared_outputs[output.name] = _output(output, scope) if included else _LEFT_OUT
        self._conditions = scope.conditions

    def account(self, account_id: str) -> ResolvedTemplate:
        """The resolved template for ``account_id`` (already checked)."""
        region = self._region
        values = account_values(account_id, self._stack, region, stack_id=self._plan.reads_stack_id)
        scope = Scope(account_id, region, self._stack, {**self._scope_values, **values})
        conditions = scope.conditions
        conditions.update(self._conditions)
        for name, test in self._account_conditions:
            conditions[name] = test(scope)
        excluded, targets, shared, read = scope.excluded, scope.targets, self._shared, self._targets
        resources: dict[str, Resource] = {}
        not_runnable: list[str] = []
        for step in self._plan.resources:
            logical_id = step.logical_id
            kind = step.type
            entry = shared.get(logical_id)
            if entry is not None:
                built = entry.built
                if built is None:
                    excluded[logical_id] = entry.left_out
                    continue
                depends_on = entry.depends_on
            else:
                if step.condition is not None and not conditions[step.condition]:
                    excluded[logical_id] = step.condition
                    continue
                built = kind.build(logical_id, step.properties(scope), scope, step.path)
                depends_on = step.depends_on
                if excluded:
                    depends_on = tuple(name for name in depends_on if name not in excluded)
            arn = built.arn.render(region, account_id)
            if logical_id in read:
                targets[logical_id] = kind.target(built, arn)
            resources[logical_id] = Resource(
                logical_id,
                kind.name,
                kind.kind,
                built.physical_name,
                arn,
                built.properties,
                depends_on,
                deletion_policy=step.deletion_policy,
            )
            if kind.kind not in RUNNABLE_KINDS:
                not_runnable.append(logical_id)
            for part in built.generated:
                resources[part.logical_id] = part.resource(logical_id, arn, region, account_id)
                if part.kind not in RUNNABLE_KINDS:
                    not_runnable.append(part.logical_id)
        outputs: dict[str, Output] = {}
        for output in self._plan.outputs:
            found = self._shared_outputs.get(output.name)
            if found is None:
                if output.condition is not None and not conditions[output.condition]:
                    continue
                found = _output(output, scope)
            elif found is _LEFT_OUT:
                continue
            outputs[output.name] = found
        return ResolvedTemplate(
            resources=resources,
            outputs=outputs,
            parameters={name: list(v) if isinstance(v, list) else v for name, v in self._values.items()},
            description=self._description,
            not_runnable=tuple(not_runnable),
            no_echo=self._no_echo,
        )


def _output(output: OutputStep, scope: Scope) -> Output:
    path = f"Outputs.{output.name}"
    export = None if output.export_name is None else text(output.export_name(scope), f"{path}.Export.Name")
    value = text(output.value(scope), f"{path}.Value")
    return Output(output.name, value, output.description, export)
