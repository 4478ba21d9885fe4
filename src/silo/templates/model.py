"""What a template resolves to: plain data the stacks and fleet services act on.

A resolved template holds no intrinsic functions: every ``!Ref``, ``!GetAtt``, ``!Sub`` ... has been
evaluated for one (account, stack, parameter values). Physical names and ARNs are deterministic, so
resolution needs no deployed state and two resolutions of the same input are equal.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any, Literal

from silo.errors import ValidationError

ResourceKind = Literal["function", "state_machine", "rule", "schedule", "event_bus", "table", "event_source"]
RUNNABLE_KINDS: frozenset[str] = frozenset(
    {"function", "state_machine", "rule", "schedule", "event_bus", "table", "event_source"}
)
"""Kinds the platform can create today; the others are kept in the model and reported as not runnable."""

NO_ECHO_MASK = "****"
"""What every description shows instead of a ``NoEcho`` parameter's value (as CloudFormation does)."""


def mask_parameters(values: Mapping[str, Any], no_echo: AbstractSet[str]) -> dict[str, Any]:
    """``values`` with the value of every parameter named in ``no_echo`` replaced by ``NO_ECHO_MASK``.

    For what is shown (stacks, change sets, stack sets, instance overrides, template summaries);
    what is stored and resolved keeps the real values, so an update that does not pass the parameter
    again keeps its value, never the mask.
    """
    return {name: NO_ECHO_MASK if name in no_echo else value for name, value in values.items()}


class TemplateError(ValidationError):
    """A template that does not load or resolve. ``path`` names where, e.g.
    ``Resources.Ingest.Properties.Timeout``; the message starts with it."""

    code = "InvalidTemplate"

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}" if path else problem, path=path)
        self.path = path
        self.problem = problem


@dataclass(frozen=True, slots=True)
class CodeRef:
    """Where a function's code comes from, as the template says it.

    ``path``: a directory or .zip relative to the template's directory (SAM ``CodeUri``);
    ``inline``: source text of the handler module (SAM ``InlineCode``, ``Code.ZipFile``);
    ``artifact``: an already uploaded content-addressed artifact (``CodeUri: sha256:<hex>``).
    """

    kind: Literal["path", "inline", "artifact"]
    value: str


@dataclass(frozen=True, slots=True)
class Resource:
    """One resolved resource.

    ``properties`` is normalised per kind (keys below) and fully resolved:

    - function: ``name``, ``handler``, ``runtime``, ``memory_size``, ``timeout``, ``environment``
      (dict[str, str]), ``description``, ``reserved_concurrency`` (int | None), ``tags``, ``code`` (CodeRef),
      ``max_retry_attempts`` / ``max_event_age`` / ``on_failure`` (from SAM ``EventInvokeConfig``;
      None when not given);
    - schedule: ``name``, ``expression``, ``input`` (JSON text | None), ``enabled``, ``target`` (function
      name);
    - rule: ``name``, ``event_bus``, ``pattern`` (dict | None), ``schedule`` (str | None), ``enabled``,
      ``targets`` (list of {"id", "arn", "input"?});
    - event_bus: ``name``; state_machine: ``name``, ``definition`` (dict), ``type``;
      table: ``name``, ``key_schema``, ``attributes``, ``billing_mode``, ... (as written, resolved);
    - event_source (SAM ``DynamoDB`` events): ``table`` (its name), ``function``, ``starting_position``,
      ``batch_size``, ``max_attempts`` (deliveries of a batch: ``MaximumRetryAttempts`` + 1).

    ``properties`` is read-only: the results of :meth:`Resolutions.for_account
    <silo.templates.Resolutions.for_account>` for many accounts share one dict (and what it holds)
    wherever it cannot differ between them; a consumer that needs a changed copy makes one.
    """

    logical_id: str
    type: str
    kind: ResourceKind
    physical_name: str
    arn: str
    properties: dict[str, Any]
    depends_on: tuple[str, ...] = ()
    generated_by: str | None = None
    """For resources SAM generates (a function's ``Events``), the logical id of the function."""
    deletion_policy: str = "Delete"
    """The resource's ``DeletionPolicy`` (``Delete``, ``Retain``, ``RetainExceptOnCreate`` or
    ``Snapshot``). Stacks honour it for tables only: a retained table stays in the account, no longer
    managed by the stack, when the stack removes it."""

    @property
    def runnable(self) -> bool:
        return self.kind in RUNNABLE_KINDS


@dataclass(frozen=True, slots=True)
class Output:
    name: str
    value: Any
    description: str = ""
    export_name: str | None = None


@dataclass(frozen=True, slots=True)
class ResolvedTemplate:
    """Resources in dependency order (a resource comes after everything it references)."""

    resources: dict[str, Resource]
    outputs: dict[str, Output]
    parameters: dict[str, Any]
    description: str = ""
    not_runnable: tuple[str, ...] = field(default=())
    no_echo: frozenset[str] = field(default=frozenset())
    """The parameters declared ``NoEcho``: ``parameters`` holds their real values (resolution needs
    them); :meth:`shown_parameters` is what may be shown."""

    def shown_parameters(self) -> dict[str, Any]:
        """``parameters`` with every ``NoEcho`` value masked."""
        return mask_parameters(self.parameters, self.no_echo)
