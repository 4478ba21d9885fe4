"""Resolving a loaded template for one (account, stack, parameter values).

All account-independent work happened in :func:`~silo.templates.loader.load_template`; here the
parameter values are checked, conditions evaluated and the compiled expressions run in dependency
order, each resource registering its ``Ref``/``Fn::GetAtt`` values for the ones after it.
"""

from __future__ import annotations

from collections.abc import Mapping

from silo.templates._checks import text
from silo.templates._names import check_identity, pseudo_values
from silo.templates._parameters import parameter_values, placeholder
from silo.templates._scope import Scope
from silo.templates.loader import Template, load_template
from silo.templates.model import RUNNABLE_KINDS, Output, ResolvedTemplate, Resource

VALIDATE_ACCOUNT = "000000000000"
VALIDATE_STACK = "validate"


def resolve(
    template: Template,
    parameters: Mapping[str, str | list[str]] | None = None,
    *,
    account_id: str,
    stack_name: str,
    region: str = "local",
) -> ResolvedTemplate:
    """Evaluate ``template`` for one stack of one account.

    Args:
        template: from :func:`load_template`.
        parameters: values for the template's ``Parameters``; a list type takes a list or
            comma-delimited text. Parameters left out take their ``Default``.
        account_id: the 12-digit account the stack belongs to.
        stack_name: the stack's name; default physical names start with it.
        region: the region in ARNs and ``AWS::Region``.

    Returns:
        Resources in dependency order, with physical names, ARNs and normalised properties.

    Raises:
        TemplateError: naming the path of the problem (``Parameters.X``, ``Resources.X.Properties.Y``).
    """
    check_identity(account_id, stack_name, region)
    values = parameter_values(template.parameters, parameters or {})
    scope = Scope(account_id, region, stack_name, {**values, **pseudo_values(account_id, stack_name, region)})
    plan = template.plan
    for name, test in plan.conditions:
        scope.conditions[name] = test(scope)
    resources: dict[str, Resource] = {}
    not_runnable: list[str] = []
    for step in plan.resources:
        logical_id = step.logical_id
        if step.condition is not None and not scope.conditions[step.condition]:
            scope.excluded[logical_id] = step.condition
            continue
        kind = step.type
        built = kind.build(logical_id, step.properties(scope), scope, step.path)
        scope.targets[logical_id] = built.target
        depends_on = step.depends_on
        if scope.excluded:
            depends_on = tuple(name for name in depends_on if name not in scope.excluded)
        resources[logical_id] = Resource(
            logical_id, kind.name, kind.kind, built.physical_name, built.arn, built.properties, depends_on
        )
        for resource in (resources[logical_id], *built.generated):
            resources[resource.logical_id] = resource
            if resource.kind not in RUNNABLE_KINDS:
                not_runnable.append(resource.logical_id)
    outputs: dict[str, Output] = {}
    for output in plan.outputs:
        if output.condition is not None and not scope.conditions[output.condition]:
            continue
        path = f"Outputs.{output.name}"
        export = (
            None if output.export_name is None else text(output.export_name(scope), f"{path}.Export.Name")
        )
        value = text(output.value(scope), f"{path}.Value")
        outputs[output.name] = Output(output.name, value, output.description, export)
    return ResolvedTemplate(
        resources=resources,
        outputs=outputs,
        parameters=dict(values),
        description=template.description,
        not_runnable=tuple(not_runnable),
    )


def validate(
    template: str | bytes | Template,
    parameters: Mapping[str, str | list[str]] | None = None,
    *,
    source: str = "template",
) -> ResolvedTemplate:
    """Load (unless given a :class:`Template`) and resolve for a placeholder account and stack.

    Required parameters that are not given get a placeholder value that satisfies their
    constraints when one can be found; otherwise the missing parameter is the error.
    """
    if not isinstance(template, Template):
        template = load_template(template, source=source)
    given = dict(parameters or {})
    for name, spec in template.parameters.items():
        if name not in given and spec.required:
            value = placeholder(spec)
            if value is not None:
                given[name] = value
    return resolve(template, given, account_id=VALIDATE_ACCOUNT, stack_name=VALIDATE_STACK)
