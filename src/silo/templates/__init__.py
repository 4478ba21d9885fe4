"""CloudFormation/SAM templates: load once, resolve for any number of (account, stack) pairs.

Pure (PyYAML and the standard library, no I/O)::

    template = load_template(text)                      # syntax, sections, types, references, cycles
    resolved = resolve(template, {"Env": "prod"}, account_id="123456789012", stack_name="shop")
    resolved.resources["Ingest"].properties["timeout"]

    resolutions = prepare(template, {"Env": "prod"}, stack_name="shop")   # one stack, many accounts
    resolutions.for_account("123456789012")               # == resolve(...) for that account

:func:`validate` loads and resolves with placeholder values, to check a template before any account
uses it. Every problem is a :class:`TemplateError` whose ``path`` names where it is.
"""

from silo.templates._names import default_name
from silo.templates._parameters import ParameterSpec
from silo.templates.loader import Template, load_template
from silo.templates.model import (
    NO_ECHO_MASK,
    RUNNABLE_KINDS,
    CodeRef,
    Output,
    ResolvedTemplate,
    Resource,
    ResourceKind,
    TemplateError,
    mask_parameters,
)
from silo.templates.resolver import Resolutions, prepare, resolve, validate

__all__ = [
    "NO_ECHO_MASK",
    "RUNNABLE_KINDS",
    "CodeRef",
    "Output",
    "ParameterSpec",
    "Resolutions",
    "ResolvedTemplate",
    "Resource",
    "ResourceKind",
    "Template",
    "TemplateError",
    "default_name",
    "load_template",
    "mask_parameters",
    "prepare",
    "resolve",
    "validate",
]
