"""The account factory: a workflow of the management account makes each account, visibly, and
leaves nothing half-made when a step fails."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from silo.accounts import AccountSpec, AccountStatus
from silo.errors import AccountNotActive, AuthenticationError, Conflict, NotFound, ValidationError
from silo.fleet import Preferences, Targets
from silo.fleet.models import Amount
from silo.functions import zip_directory
from silo.platform import AccountHandle, ManagementHandle, Platform
from silo.platform.account_factory import FACTORY
from tests.helpers.functions import wait_until

BASELINE = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Audit:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Runtime: python3.11
      CodeUri: src/
"""
DENY_STACKS = {"Statement": [{"Sid": "NoStacks", "Effect": "Deny", "Action": "stacks:CreateStack"}]}


@pytest.fixture
def baseline_code(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    directory = tmp_path_factory.mktemp("src")
    (directory / "app.py").write_text("def handler(event, context):\n    return 'audited'\n")
    return {"src/": zip_directory(directory)}


def _baseline_for(mgmt: ManagementHandle, ou: str, code: dict[str, bytes]) -> str:
    """A stack set that auto-deploys to ``ou``, already deployed to one account there."""
    first = mgmt.create_account(AccountSpec(f"first-in-{ou}", "ops@first.example", ou_id=ou))
    mgmt.fleet.create_stack_set("baseline", BASELINE, code=code, auto_deployment=True)
    fast = Preferences(max_concurrent=Amount(10), retry_base_seconds=0.01, retry_max_seconds=0.02)
    operation = mgmt.fleet.create_instances("baseline", Targets(ous=(ou,)), preferences=fast)
    wait_until(lambda: mgmt.fleet.get_operation(operation.operation_id).status.finished)
    return first.account_id


def test_a_requested_account_is_ready_with_its_key_and_a_visible_execution(
    platform: Platform, mgmt: ManagementHandle
) -> None:
    request, execution = mgmt.request_account(AccountSpec("acme", "ops@acme.example", tags={"tier": "gold"}))
    assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
    made = mgmt.describe_account(execution.output["account_id"])
    assert (made.name, made.status, made.tags["tier"]) == ("acme", AccountStatus.ACTIVE, "gold")
    handle = platform.account(platform.authenticate(request.token))
    assert handle.account_id == made.account_id
    # the execution is an ordinary execution of the management account, with its steps in history
    workflows = platform.account(platform.authenticate(_root_token(platform))).workflows
    assert workflows.describe_execution(request.execution_arn).status == "SUCCEEDED"
    entered = [
        e.details["name"]
        for e in workflows.history(request.execution_arn, limit=1000).items
        if e.type.endswith("StateEntered")
    ]
    assert entered == [
        "CreateAccount",
        "AttachToOu",
        "ApplyGuardrails",
        "IssueCredentials",
        "DeployBaseline",
        "CheckBaseline",
        "BaselineDone",
        "MarkReady",
        "Ready",
    ]
    assert request.token not in str(workflows.history(request.execution_arn, limit=1000).items)
    assert [e.name for e in workflows.list_executions(FACTORY).items] == [execution.name]


def test_the_factory_attaches_the_ou_and_guardrails_and_deploys_the_baseline_first(
    platform: Platform, mgmt: ManagementHandle, baseline_code: dict[str, bytes]
) -> None:
    tenants = mgmt.create_ou("tenants")
    first = _baseline_for(mgmt, tenants.ou_id, baseline_code)
    policy = mgmt.create_guardrail("no-keys", {"Statement": [{"Effect": "Deny", "Action": "keys:Create"}]})
    request, execution = mgmt.request_account(
        AccountSpec("beta", "ops@beta.example", ou_id=tenants.ou_id), guardrails=[policy.policy_id]
    )
    assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
    handle = platform.account(platform.authenticate(request.token))
    account = handle.describe()
    assert account.ou_id == tenants.ou_id
    assert [p.policy_id for p in handle.effective_guardrails()] == [policy.policy_id]
    assert handle.functions.get("baseline-Audit").name == "baseline-Audit"  # deployed before ready
    assert {i.account_id for i in mgmt.fleet.list_instances("baseline").items} == {first, account.account_id}


def test_a_failed_baseline_discards_the_account_and_everything_made_for_it(
    platform: Platform, mgmt: ManagementHandle, baseline_code: dict[str, bytes]
) -> None:
    tenants = mgmt.create_ou("locked")
    first = _baseline_for(mgmt, tenants.ou_id, baseline_code)
    deny = mgmt.create_guardrail("no-stacks", DENY_STACKS)
    mgmt.attach_guardrail(deny.policy_id, tenants.ou_id)
    request, execution = mgmt.request_account(AccountSpec("gamma", "ops@gamma.example", ou_id=tenants.ou_id))
    assert (execution.status, execution.error) == ("FAILED", "BaselineFailed")
    assert "stacks:CreateStack" in (execution.cause or "")
    assert [a.name for a in mgmt.list_accounts().items if a.name == "gamma"] == []
    assert [i.account_id for i in mgmt.fleet.list_instances("baseline").items] == [first]
    with pytest.raises(AuthenticationError):  # the key was removed with the account
        platform.authenticate(request.token)
    # the name is free again
    _, again = mgmt.request_account(AccountSpec("gamma", "ops@gamma.example"))
    assert again.status == "SUCCEEDED"


def test_bad_requests_are_refused_before_anything_starts(platform: Platform, mgmt: ManagementHandle) -> None:
    mgmt.request_account(AccountSpec("taken", "ops@taken.example"))
    for spec, error in (
        (AccountSpec("taken", "ops@taken.example"), Conflict),
        (AccountSpec("x y z!", "ops@bad.example"), ValidationError),
        (AccountSpec("fine", "not-an-email"), ValidationError),
        (AccountSpec("fine", "ops@fine.example", ou_id="ou-nope-nope"), (NotFound, ValidationError)),
    ):
        with pytest.raises(error):  # type: ignore[arg-type]
            mgmt.request_account(spec)
    with pytest.raises((NotFound, ValidationError)):
        mgmt.request_account(AccountSpec("fine", "ops@fine.example"), guardrails=["p-nope"])
    workflows = platform.account(platform.authenticate(_root_token(platform))).workflows
    assert len(workflows.list_executions(FACTORY).items) == 1


def test_a_provisioning_account_s_key_does_not_work_until_it_is_ready(
    platform: Platform, mgmt: ManagementHandle
) -> None:
    made = mgmt.provisioning.provision(AccountSpec("early", "ops@early.example"))
    key_id, token, secret_hash = mgmt.provisioning.prepare_key()
    mgmt.provisioning.register_key(made.account_id, "owner", key_id, secret_hash)
    with pytest.raises(AccountNotActive):
        platform.authenticate(token)
    mgmt.provisioning.activate(made.account_id)
    assert platform.account(platform.authenticate(token)).account_id == made.account_id


def test_tenant_workflows_cannot_call_the_factory_integrations(
    tenant: Callable[[str], AccountHandle],
) -> None:
    shop = tenant("shop")
    shop.workflows.create_state_machine(
        "sneaky",
        {
            "StartAt": "Make",
            "States": {
                "Make": {
                    "Type": "Task",
                    "Resource": "arn:silo:states:::accounts:createAccount",
                    "Parameters": {"request": {"name": "evil", "owner_email": "e@evil.example"}},
                    "End": True,
                }
            },
        },
    )
    arn = shop.workflows.start_execution("sneaky", {}).arn
    wait_until(lambda: shop.workflows.describe_execution(arn).status != "RUNNING")
    done = shop.workflows.describe_execution(arn)
    assert (done.status, done.error) == ("FAILED", "States.TaskFailed")
    assert "management account" in (done.cause or "")


def _root_token(platform: Platform) -> str:
    return platform.settings.root_key_path.read_text().strip()
