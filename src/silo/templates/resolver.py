"""Resolving a loaded template for one (account, stack, parameter values), or for many accounts.

All work that depends on no parameter value happened in :func:`~silo.templates.loader.load_template`;
here the parameter values are checked, conditions evaluated and the compiled expressions run in
dependency order, each resource registering its ``Ref``/``Fn::GetAtt`` values for the ones after it.

:func:`prepare` is the fast path for one stack in many accounts: what cannot differ between the
accounts is evaluated once (the plan decides what, when the template is loaded), and
:meth:`Resolutions.for_account` evaluates only the rest.
"""

from __future__ import annotations

from collections.abc import Mapping

from silo.templates._evaluate import Evaluation
from silo.templates._names import check_account, check_identity, check_location
from silo.templates._parameters import ParameterValue, parameter_values, placeholder
from silo.templates.loader import Template, load_template
from silo.templates.model import ResolvedTemplate

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
    evaluation = Evaluation(
        template.plan,
        values,
        stack_name,
        region,
        description=template.description,
        share=False,
        no_echo=template.no_echo,
    )
    return evaluation.account(account_id)


def prepare(
    template: Template,
    parameters: Mapping[str, str | list[str]] | None = None,
    *,
    stack_name: str,
    region: str = "local",
) -> Resolutions:
    """Prepare ``template`` for one stack in many accounts: ``prepare(t, p, stack_name=s)
    .for_account(a)`` equals ``resolve(t, p, account_id=a, stack_name=s)`` for every account ``a``.

    The stack name, region and parameter values are checked here, with the errors :func:`resolve`
    raises for them. Resources, conditions and outputs that cannot differ between accounts are
    evaluated once, here; the results of every account share their ``properties`` dicts (read-only:
    no consumer may change them). Only their ARNs are made per account.

    Raises:
        TemplateError: for the stack name, region or parameter values.
    """
    check_location(stack_name, region)
    values = parameter_values(template.parameters, parameters or {})
    return Resolutions(template, values, stack_name, region)


class Resolutions:
    """One template, stack name, region and parameter values, resolved for any account: see
    :func:`prepare`. Safe to share between threads."""

    __slots__ = ("_evaluation", "parameters", "region", "stack_name", "template")

    def __init__(
        self, template: Template, values: dict[str, ParameterValue], stack_name: str, region: str
    ) -> None:
        self.template = template
        self.stack_name = stack_name
        self.region = region
        self.parameters: Mapping[str, ParameterValue] = values
        """The checked parameter values, defaults filled in (read-only)."""
        self._evaluation = Evaluation(
            template.plan,
            values,
            stack_name,
            region,
            description=template.description,
            share=True,
            no_echo=template.no_echo,
        )

    @property
    def shared(self) -> frozenset[str]:
        """The resources evaluated once, whose ``properties`` every account's result shares (empty
        when that part fails: each account then resolves everything and gets its own error)."""
        return self._evaluation.shared

    def for_account(self, account_id: str) -> ResolvedTemplate:
        """Equal to :func:`resolve` for this account, errors included."""
        check_account(account_id)
        return self._evaluation.account(account_id)


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
