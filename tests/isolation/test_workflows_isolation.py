"""Every workflow endpoint, seen from tenant A: nothing of tenant B's state machines, executions or task
tokens can be listed, read or changed, by B's names, B's ARNs or B's real tokens; and a workflow of A
cannot start one of B's.

The cases are keyed by (method, path) and checked against ``app.routes`` here, for the routes under
``/v1/account/workflows``; ``tests/isolation/test_api_isolation.py`` counts them as covered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI

from silo.platform import Initialised
from tests.e2e.api.conftest import Api, TestClient
from tests.e2e.api.test_workflows_api import PASS, WAIT, WAIT_FOR_TOKEN, task_token
from tests.helpers.functions import wait_until
from tests.isolation.conftest import api_routes, assert_cases_cover, caller_as, keyed_tenant

WORKFLOWS = "/v1/account/workflows"
MACHINES = f"{WORKFLOWS}/state-machines"
EXECUTIONS = f"{WORKFLOWS}/executions"


def machine(name: str, *rest: str) -> str:
    return "/".join([MACHINES, name, *rest])


def execution(arn: str, *rest: str) -> str:
    return "/".join([EXECUTIONS, arn, *rest])


@dataclass
class Tenants:
    root: Api
    a: dict[str, str]  # account_id, token
    b: dict[str, str]  # account_id, token, and the ARNs of its "running", "stopped" and "waiting"
    # executions (of "shared-flow", "shared-flow" and "b-ask") and the "task_token" "waiting" waits for

    def b_state(self) -> dict[str, Any]:
        """B's state machines, executions and histories, as B sees them."""
        own = self.root.as_(self.b["token"])
        names = [m["name"] for m in own.get(MACHINES)["items"]]
        arns = [self.b[kind] for kind in ("running", "stopped", "waiting")]
        return {
            "machines": [own.get(machine(name)) for name in names],
            "executions": {name: own.get(machine(name, "executions"))["items"] for name in names},
            "histories": {arn: own.get(execution(arn, "history"))["items"] for arn in arns},
        }

    def b_machine_refs(self, name: str = "shared-flow") -> tuple[str, str]:
        """B's state machine by name (the caller's own name space) and by B's ARN."""
        return name, f"arn:silo:states:local:{self.b['account_id']}:stateMachine:{name}"

    def b_execution_refs(self, kind: str = "running") -> tuple[str, str]:
        """B's execution by its ARN, and by the same ARN with the caller's own account in it."""
        arn = self.b[kind]
        return arn, arn.replace(f":{self.b['account_id']}:", f":{self.a['account_id']}:")


def refused(answer: Any, t: Tenants) -> None:
    """An ARN of B's account: a 400 that names only what the caller sent."""
    assert answer["code"] == "ValidationError" and "not this account" in answer["message"], answer


def not_found(answer: Any, t: Tenants) -> None:
    assert answer["code"] in ("StateMachineDoesNotExist", "ExecutionDoesNotExist"), answer
    assert t.b["account_id"] not in answer["message"]


# --- state machines: B has "shared-flow" and "b-ask"; A has "mine". -------------------------------
def own_machines(caller: Api, t: Tenants) -> None:
    assert [m["name"] for m in caller.get(MACHINES)["items"]] == ["mine"]


def create_machine(caller: Api, t: Tenants) -> None:
    made = caller.post(MACHINES, {"name": "shared-flow", "definition": PASS}, 201)  # B's name: A's own
    assert made["arn"] == f"arn:silo:states:local:{t.a['account_id']}:stateMachine:shared-flow"
    caller.delete(machine("shared-flow"))


def describe_machine(caller: Api, t: Tenants) -> None:
    name, arn = t.b_machine_refs()
    not_found(caller.get(machine(name), 404), t)
    refused(caller.get(machine(arn), 400), t)


def update_machine(caller: Api, t: Tenants) -> None:
    name, arn = t.b_machine_refs()
    not_found(caller.put(machine(name), {"definition": PASS}, 404), t)
    answer = caller.put(machine(arn), {"definition": PASS}, 400)  # update takes a name, never an ARN
    assert answer["code"] == "ValidationError" and answer["details"] == {"field": "name"}, answer


def delete_machine(caller: Api, t: Tenants) -> None:
    name, arn = t.b_machine_refs("b-ask")
    not_found(caller.delete(machine(name), 404), t)
    refused(caller.delete(machine(arn), 400), t)


def list_executions(caller: Api, t: Tenants) -> None:
    name, arn = t.b_machine_refs()
    not_found(caller.get(machine(name, "executions"), 404), t)
    refused(caller.get(machine(arn, "executions"), 400, params={"status": "RUNNING"}), t)
    assert [e["name"] for e in caller.get(machine("mine", "executions"))["items"]] == ["a-done"]


def start_execution(caller: Api, t: Tenants) -> None:
    name, arn = t.b_machine_refs()
    not_found(caller.post(machine(name, "executions"), {"name": "b-run"}, 404), t)
    refused(caller.post(machine(arn, "executions"), {"name": "b-run"}, 400), t)


# --- executions: B's "running", "stopped" (redrivable) and "waiting"; A's "a-done". ---------------
def describe_execution(caller: Api, t: Tenants) -> None:
    for kind in ("running", "stopped", "waiting"):
        theirs, mine = t.b_execution_refs(kind)
        refused(caller.get(execution(theirs), 400), t)
        not_found(caller.get(execution(mine), 404), t)


def execution_history(caller: Api, t: Tenants) -> None:
    theirs, mine = t.b_execution_refs()
    refused(caller.get(execution(theirs, "history"), 400, params={"reverse": "true"}), t)
    not_found(caller.get(execution(mine, "history"), 404), t)


def stop_execution(caller: Api, t: Tenants) -> None:
    theirs, mine = t.b_execution_refs()
    refused(caller.post(execution(theirs, "stop"), {"error": "ByA"}, 400), t)
    not_found(caller.post(execution(mine, "stop"), {"error": "ByA"}, 404), t)


def redrive_execution(caller: Api, t: Tenants) -> None:
    theirs, mine = t.b_execution_refs("stopped")
    refused(caller.post(execution(theirs, "redrive"), {}, 400), t)
    not_found(caller.post(execution(mine, "redrive"), {}, 404), t)


# --- task tokens: B's real token is not a token of A's account. -----------------------------------
def invalid_token(answer: Any, t: Tenants) -> None:
    assert answer["code"] == "InvalidToken" and t.b["account_id"] not in answer["message"], answer


def task_success(caller: Api, t: Tenants) -> None:
    invalid_token(
        caller.post(f"{WORKFLOWS}/send-task-success", {"task_token": t.b["task_token"], "output": 1}, 400), t
    )


def task_failure(caller: Api, t: Tenants) -> None:
    body = {"task_token": t.b["task_token"], "error": "ByA"}
    invalid_token(caller.post(f"{WORKFLOWS}/send-task-failure", body, 400), t)


def task_heartbeat(caller: Api, t: Tenants) -> None:
    invalid_token(caller.post(f"{WORKFLOWS}/send-task-heartbeat", {"task_token": t.b["task_token"]}, 400), t)


Check = Callable[[Api, Tenants], None]
CASES: dict[tuple[str, str], Check] = {
    ("GET", MACHINES): own_machines,
    ("POST", MACHINES): create_machine,
    ("GET", f"{MACHINES}/{{name}}"): describe_machine,
    ("PUT", f"{MACHINES}/{{name}}"): update_machine,
    ("DELETE", f"{MACHINES}/{{name}}"): delete_machine,
    ("GET", f"{MACHINES}/{{name}}/executions"): list_executions,
    ("POST", f"{MACHINES}/{{name}}/executions"): start_execution,
    ("GET", f"{EXECUTIONS}/{{execution_arn}}"): describe_execution,
    ("GET", f"{EXECUTIONS}/{{execution_arn}}/history"): execution_history,
    ("POST", f"{EXECUTIONS}/{{execution_arn}}/stop"): stop_execution,
    ("POST", f"{EXECUTIONS}/{{execution_arn}}/redrive"): redrive_execution,
    ("POST", f"{WORKFLOWS}/send-task-success"): task_success,
    ("POST", f"{WORKFLOWS}/send-task-failure"): task_failure,
    ("POST", f"{WORKFLOWS}/send-task-heartbeat"): task_heartbeat,
}


@pytest.fixture
def tenants(client: TestClient, init: Initialised) -> Tenants:
    root = Api(client, init.root_key.token)
    a, b = keyed_tenant(root, "tenant-a"), keyed_tenant(root, "tenant-b")
    own_a, own_b = root.as_(a["token"]), root.as_(b["token"])
    own_a.post(MACHINES, {"name": "mine", "definition": PASS}, 201)
    own_a.post(machine("mine", "executions"), {"name": "a-done"}, 201)
    own_b.post(MACHINES, {"name": "shared-flow", "definition": WAIT}, 201)
    own_b.post(MACHINES, {"name": "b-ask", "definition": WAIT_FOR_TOKEN}, 201)
    for kind, flow, name in (("running", "shared-flow", "b-run"), ("stopped", "shared-flow", "b-stopped")):
        b[kind] = own_b.post(machine(flow, "executions"), {"name": name}, 201)["arn"]
    own_b.post(execution(b["stopped"], "stop"), {"error": "ByB"})
    b["waiting"] = own_b.post(machine("b-ask", "executions"), {"name": "b-wait"}, 201)["arn"]
    b["task_token"] = task_token(own_b, b["waiting"])
    return Tenants(root, a, b)


def test_every_workflow_endpoint_has_an_isolation_case(app: FastAPI) -> None:
    assert_cases_cover(api_routes(app, WORKFLOWS), CASES, "workflow ")


@pytest.mark.parametrize("as_", ["account key", "assumed session"])
def test_a_cannot_see_or_touch_b_workflows_through_any_endpoint(
    tenants: Tenants, client: TestClient, as_: str, subtests: pytest.Subtests
) -> None:
    t = tenants
    caller = caller_as(t.root, client, t.a, as_)
    before = t.b_state()
    for (method, path), case in CASES.items():
        with subtests.test(f"{method} {path}"):
            case(caller, t)
            if method != "GET":
                assert t.b_state() == before
    assert t.b_state() == before
    own_b = t.root.as_(t.b["token"])  # B's token still answers B's task
    own_b.post(f"{WORKFLOWS}/send-task-success", {"task_token": t.b["task_token"], "output": "b"}, 204)
    assert own_b.get(execution(t.b["waiting"]))["output"] == "b"


def test_a_workflow_cannot_start_b_state_machine(tenants: Tenants) -> None:
    t, caller = tenants, tenants.root.as_(tenants.a["token"])
    _, b_arn = t.b_machine_refs()
    definition = {
        "StartAt": "Start",
        "States": {
            "Start": {
                "Type": "Task",
                "Resource": "arn:aws:states:::states:startExecution",
                "Parameters": {"StateMachineArn": b_arn, "Name": "by-a"},
                "End": True,
            }
        },
    }
    before = t.b_state()
    caller.post(MACHINES, {"name": "reach", "definition": definition}, 201)
    arn = caller.post(machine("reach", "executions"), {}, 201)["arn"]
    wait_until(lambda: caller.get(execution(arn))["status"] != "RUNNING", timeout=30)
    done = caller.get(execution(arn))
    assert (done["status"], done["error"]) == ("FAILED", "States.TaskFailed")
    assert "not this account" in done["cause"]
    assert t.b_state() == before
