"""The account factory: a workflow the management account runs on Silo itself.

``request`` checks the request, then starts an execution of the ``silo-account-factory`` state
machine in the management account: create the account (PROVISIONING: no key works yet) -> attach
it to its OU -> apply guardrails -> register its first key -> deploy the stack sets that
auto-deploy to that OU -> wait for them -> mark it ACTIVE. A step that fails after the account
exists discards it with everything written for it, so nothing is left half-made; the execution
fails with the reason. Its history is visible like any other execution's.

The Task states call ``arn:silo:states:::accounts:*`` (and ``guardrails:``, ``credentials:``,
``fleet:``) integrations, which run only for executions of the management account. The new key's
secret never enters the execution: the requester keeps the token, the workflow carries its hash.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from silo.accounts import AccountSpec
from silo.errors import Conflict, NotFound, SiloError, ValidationError
from silo.workflows.errors import TASK_FAILED, StatesError
from silo.workflows.models import ExecutionInfo
from silo.workflows.service import Workflows

FACTORY = "silo-account-factory"
MANAGED_BY = "silo:platform"
INTEGRATIONS = ("accounts:", "guardrails:", "credentials:", "fleet:")
REQUEST_TAG = "silo:factory-request"
_P = "arn:silo:states:::"
_ID = "$.account.account_id"
_TO_DISCARD = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Discard"}]


def _task(
    action: str, parameters: dict[str, Any], result: str, next_state: str, **more: Any
) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": _P + action,
        "Parameters": parameters,
        "ResultPath": result,
        "Next": next_state,
        "Catch": _TO_DISCARD,
        **more,
    }


DEFINITION: dict[str, Any] = {
    "Comment": "Silo account factory: account -> OU -> guardrails -> credentials -> baseline -> ready",
    "StartAt": "CreateAccount",
    "States": {
        "CreateAccount": {
            **_task("accounts:createAccount", {"request.$": "$"}, "$.account", "AttachToOu"),
            # nothing exists yet to discard
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}],
        },
        "AttachToOu": _task(
            "accounts:attachToOu", {"account_id.$": _ID, "ou_id.$": "$.ou_id"}, "$.ou", "ApplyGuardrails"
        ),
        "ApplyGuardrails": _task(
            "guardrails:apply",
            {"account_id.$": _ID, "guardrails.$": "$.guardrails"},
            "$.guardrails_applied",
            "IssueCredentials",
        ),
        "IssueCredentials": _task(
            "credentials:register", {"account_id.$": _ID, "key.$": "$.key"}, "$.credentials", "DeployBaseline"
        ),
        "DeployBaseline": _task("fleet:deployBaseline", {"account_id.$": _ID}, "$.baseline", "CheckBaseline"),
        "CheckBaseline": _task(
            "fleet:baselineStatus",
            {"account_id.$": _ID},
            "$.baseline_status",
            "BaselineDone",
        ),
        "BaselineDone": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.baseline_status.state", "StringEquals": "SUCCEEDED", "Next": "MarkReady"},
                {"Variable": "$.baseline_status.state", "StringEquals": "FAILED", "Next": "BaselineFailed"},
            ],
            "Default": "WaitForBaseline",
        },
        "WaitForBaseline": {"Type": "Wait", "Seconds": 1, "Next": "CheckBaseline"},
        "BaselineFailed": {
            "Type": "Pass",
            "Parameters": {"Error": "BaselineFailed", "Cause.$": "$.baseline_status.reason"},
            "ResultPath": "$.error",
            "Next": "Discard",
        },
        "MarkReady": {**_task("accounts:markReady", {"account_id.$": _ID}, "$.ready", "Ready")},
        "Ready": {"Type": "Succeed", "OutputPath": "$.account"},
        "Discard": {
            "Type": "Task",
            "Resource": _P + "accounts:discard",
            "Parameters": {"account_id.$": _ID},
            "ResultPath": "$.discarded",
            "Next": "Failed",
        },
        "Failed": {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"},
    },
}


class AccountFactoryFailed(SiloError):
    """The factory execution failed; nothing of the account was left behind."""

    code = "AccountFactoryFailed"
    http_status = 409

    def __init__(self, execution_arn: str, error: str | None, cause: str | None) -> None:
        super().__init__(
            f"the account factory failed: {error}: {cause}",
            execution_arn=execution_arn,
            error=error,
            cause=cause,
        )


@dataclass(frozen=True, slots=True)
class AccountRequest:
    """A started factory execution and the new account's first key (its token is shown only here)."""

    execution_arn: str
    name: str
    key_id: str
    token: str


class AccountFactory:
    """The factory's requests and its Task integrations. ``management`` acts on the management plane
    as the factory's own principal (audited as such)."""

    def __init__(
        self,
        management: Callable[[str], Any],
        workflows_for: Callable[[str], Workflows],
        management_id: Callable[[], str | None],
    ) -> None:
        self._management = management  # principal key id -> ManagementHandle
        self._workflows_for = workflows_for
        self._management_id = management_id
        self._machine_ready = False

    # --- requests -------------------------------------------------------------------------------
    def request(
        self, spec: AccountSpec, *, guardrails: Sequence[str] = (), key_name: str = "owner"
    ) -> AccountRequest:
        """Start making an account; refuses a bad request at once (nothing is started)."""
        mgmt = self._management("silo:account-factory")
        mgmt.provisioning.check_specs([spec])
        for policy in guardrails:
            mgmt.describe_guardrail(policy)
        key_id, token, secret_hash = mgmt.provisioning.prepare_key()
        request_id = uuid.uuid4().hex
        payload = {
            "request_id": request_id,
            "name": spec.name,
            "owner_email": spec.owner_email,
            "ou_id": spec.ou_id,
            "tags": dict(spec.tags),
            "concurrency_limit": spec.concurrency_limit,
            "guardrails": list(guardrails),
            "key": {"key_id": key_id, "secret_hash": secret_hash, "name": key_name},
        }
        workflows = self._workflows()
        started = workflows.start_execution(FACTORY, payload, name=f"account-{request_id}")
        return AccountRequest(started.arn, spec.name, key_id, token)

    def wait(self, request: AccountRequest, timeout: float) -> ExecutionInfo:
        """The factory execution, once finished or when ``timeout`` seconds have passed."""
        workflows = self._workflows()
        end = time.monotonic() + timeout
        pause = 0.005
        while True:
            described = workflows.describe_execution(request.execution_arn)
            if described.status != "RUNNING" or time.monotonic() >= end:
                return described
            time.sleep(pause)
            pause = min(pause * 1.5, 0.05)  # a factory run takes tens of ms: answer soon after

    def _workflows(self) -> Workflows:
        management = self._management_id()
        if management is None:
            raise NotFound("the platform is not initialised yet")
        workflows = self._workflows_for(management)
        if not self._machine_ready:
            current = json.dumps(DEFINITION, sort_keys=True)
            try:
                same = json.loads(workflows.describe_state_machine(FACTORY).definition) == DEFINITION
            except NotFound:
                same = False
            if not same:
                workflows.put_state_machine(
                    FACTORY, current, managed_by=MANAGED_BY, description="Account factory"
                )
            self._machine_ready = True
        return workflows

    # --- integrations ---------------------------------------------------------------------------
    def handles(self, account: str, resource: str) -> bool:
        """Whether ``resource`` is a factory integration that this account's execution may call."""
        if not resource.startswith(_P) or not resource[len(_P) :].startswith(INTEGRATIONS):
            return False
        if account != self._management_id():
            raise StatesError(TASK_FAILED, f"{resource}: only the management account's workflows may call it")
        return True

    def run(self, resource: str, input: Any) -> Any:
        action = resource[len(_P) :]
        step = _STEPS.get(action)
        if step is None:
            raise StatesError(TASK_FAILED, f"{resource}: not an integration Silo runs")
        if not isinstance(input, dict):
            raise StatesError(TASK_FAILED, f"{resource}: the input must be an object")
        mgmt = self._management("silo:account-factory")
        try:
            return step(mgmt, input)
        except (ValidationError, Conflict, NotFound) as exc:
            raise StatesError(exc.code, exc.message) from None


def _create(mgmt: Any, input: Mapping[str, Any]) -> Any:
    request = input["request"]
    spec = AccountSpec(
        request["name"],
        request["owner_email"],
        tags={**request["tags"], REQUEST_TAG: request["request_id"]},
        concurrency_limit=request["concurrency_limit"],
    )
    try:
        made = mgmt.provisioning.provision(spec)
    except Conflict:
        made = mgmt.provisioning.find(REQUEST_TAG, request["request_id"])  # this step ran already
        if made is None:
            raise
    return {"account_id": made.account_id, "name": made.name}


def _attach(mgmt: Any, input: Mapping[str, Any]) -> Any:
    if input.get("ou_id"):
        moved = mgmt.move_account(input["account_id"], input["ou_id"])
        return {"ou_id": moved.ou_id}
    return {"ou_id": mgmt.describe_account(input["account_id"]).ou_id}


def _guardrails(mgmt: Any, input: Mapping[str, Any]) -> Any:
    account = input["account_id"]
    for policy in input.get("guardrails") or []:
        with contextlib.suppress(Conflict):  # attached by an earlier run of this step
            mgmt.attach_guardrail(policy, account)
    return {"effective": sorted({p.policy_id for p in mgmt.effective_guardrails(account)})}


def _credentials(mgmt: Any, input: Mapping[str, Any]) -> Any:
    key = input["key"]
    registered = mgmt.provisioning.register_key(
        input["account_id"], key["name"], key["key_id"], key["secret_hash"]
    )
    return {"key_id": registered.key_id}


def _deploy(mgmt: Any, input: Mapping[str, Any]) -> Any:
    return {"operations": [op.operation_id for op in mgmt.provisioning.deploy_baseline(input["account_id"])]}


def _baseline(mgmt: Any, input: Mapping[str, Any]) -> Any:
    # every deployment to the new account counts, also those its move to the OU queued
    statuses = mgmt.provisioning.baseline_statuses(input["account_id"])
    failed = [
        f"{op}: {reason or status}"
        for op, (status, reason) in statuses.items()
        if status in ("FAILED", "CANCELLED")
    ]
    if failed:
        return {"state": "FAILED", "reason": "; ".join(failed)}
    done = all(s == "SUCCEEDED" for s, _ in statuses.values())
    return {"state": "SUCCEEDED" if done else "RUNNING", "reason": ""}


def _ready(mgmt: Any, input: Mapping[str, Any]) -> Any:
    ready = mgmt.provisioning.activate(input["account_id"], drop_tags=[REQUEST_TAG])
    return {"status": ready.status.value}


def _discard(mgmt: Any, input: Mapping[str, Any]) -> Any:
    return {"discarded": mgmt.provisioning.discard(input["account_id"])}


_STEPS: dict[str, Callable[[Any, Mapping[str, Any]], Any]] = {
    "accounts:createAccount": _create,
    "accounts:attachToOu": _attach,
    "guardrails:apply": _guardrails,
    "credentials:register": _credentials,
    "fleet:deployBaseline": _deploy,
    "fleet:baselineStatus": _baseline,
    "accounts:markReady": _ready,
    "accounts:discard": _discard,
}

__all__ = ["DEFINITION", "FACTORY", "AccountFactory", "AccountFactoryFailed", "AccountRequest"]
