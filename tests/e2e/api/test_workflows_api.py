"""``/v1/account/workflows``: state machines created, listed, described, updated and deleted; an execution
started through the API runs a function of the account to completion; executions listed by status,
stopped, redriven, started again under the same name; history pages; task tokens answered through the
callbacks. A bad body is a 400 naming the field (a bad definition, its JSON path); what does not exist
is a 404; a state the request does not fit, a 409; no key, a 401."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers.functions import wait_until

from .conftest import Api
from .functions_helpers import Tenant

WORKFLOWS = "/v1/account/workflows"
MACHINES = f"{WORKFLOWS}/state-machines"
EXECUTIONS = f"{WORKFLOWS}/executions"
SUCCESS, FAILURE, HEARTBEAT = (
    f"{WORKFLOWS}/send-task-{kind}" for kind in ("success", "failure", "heartbeat")
)
PASS = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": {"x": 1}, "End": True}}}
WAIT = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}
DOUBLE = "def handler(event, context):\n    return {'n': event['n'] * 2}\n"
WAIT_FOR_TOKEN = {
    "StartAt": "Ask",
    "States": {
        "Ask": {
            "Type": "Task",
            "Resource": "arn:aws:states:::events:putEvents.waitForTaskToken",
            "Parameters": {
                "Entries": [{"Source": "wf", "DetailType": "ask", "Detail": {"token.$": "$$.Task.Token"}}]
            },
            "HeartbeatSeconds": 3600,
            "End": True,
        }
    },
}


def machine(name: str, *rest: str) -> str:
    return "/".join([MACHINES, name, *rest])


def execution(arn: str, *rest: str) -> str:
    return "/".join([EXECUTIONS, arn, *rest])


def finished(own: Api, arn: str) -> dict[str, Any]:
    wait_until(lambda: own.get(execution(arn))["status"] != "RUNNING", timeout=30)
    done: dict[str, Any] = own.get(execution(arn))
    return done


def task_token(own: Api, arn: str) -> str:
    """The token of the execution's waiting task, as its TaskScheduled event shows it."""
    events = own.get(execution(arn, "history"))["items"]
    [scheduled] = [e for e in events if e["type"] == "TaskScheduled"]
    token: str = scheduled["details"]["parameters"]["Entries"][0]["Detail"]["token"]
    return token


@pytest.fixture
def shop(api: Api) -> Tenant:
    return Tenant.make(api, "shop")


@pytest.fixture
def own(shop: Tenant) -> Api:
    return shop.api


def test_state_machines_create_list_describe_update_delete(shop: Tenant) -> None:
    own, arn = shop.api, f"arn:silo:states:local:{shop.account_id}:stateMachine:flow"
    made = own.post(MACHINES, {"name": "flow", "definition": PASS, "description": "first"}, 201)
    assert made == {
        "name": "flow",
        "arn": arn,
        "type": "STANDARD",
        "revision": made["revision"],
        "description": "first",
        "managed_by": None,
        "created_at": made["created_at"],
        "updated_at": made["updated_at"],
        "definition": PASS,
    }
    assert own.get(machine("flow")) == made == own.get(machine(arn))  # by name or by ARN
    own.post(MACHINES, {"name": "second", "definition": json.dumps(WAIT)}, 201)  # JSON text works too
    assert own.get(machine("second"))["definition"] == WAIT
    duplicate = own.post(MACHINES, {"name": "flow", "definition": WAIT}, 409)
    assert duplicate["code"] == "Conflict" and "flow already exists" in duplicate["message"]

    first = own.get(MACHINES, params={"limit": 1})
    assert [m["name"] for m in first["items"]] == ["flow"] and first["next_token"]
    assert "definition" not in first["items"][0]
    rest = own.get(MACHINES, params={"limit": 1, "next_token": first["next_token"]})
    assert [m["name"] for m in rest["items"]] == ["second"] and rest["next_token"] is None

    updated = own.put(machine("flow"), {"definition": WAIT, "description": "now waits"})
    assert updated["definition"] == WAIT and updated["description"] == "now waits"
    assert updated["revision"] != made["revision"] and updated["created_at"] == made["created_at"]
    own.delete(machine("flow"))
    own.delete(machine(f"arn:silo:states:local:{shop.account_id}:stateMachine:second"))
    missing = own.get(machine("flow"), 404)
    assert missing == {
        "code": "StateMachineDoesNotExist",
        "message": "State machine flow does not exist",
        "details": {"state_machine": "flow"},
    }
    assert own.get(MACHINES) == {"items": [], "next_token": None}


def test_an_execution_runs_a_function_task_to_completion(shop: Tenant, code: Callable[[str], bytes]) -> None:
    own = shop.api
    shop.create("double", code(DOUBLE))
    definition = {
        "StartAt": "Call",
        "States": {"Call": {"Type": "Task", "Resource": "double", "ResultPath": "$.doubled", "End": True}},
    }
    own.post(MACHINES, {"name": "flow", "definition": definition}, 201)
    started = own.post(machine("flow", "executions"), {"input": {"n": 21}, "name": "first"}, 201)
    arn = f"arn:silo:states:local:{shop.account_id}:execution:flow:first"
    assert (started["arn"], started["name"], started["state_machine"]) == (arn, "first", "flow")
    assert started["state_machine_arn"] == f"arn:silo:states:local:{shop.account_id}:stateMachine:flow"
    assert (started["status"], started["input"], started["output"]) == ("RUNNING", {"n": 21}, None)

    done = finished(own, arn)
    assert done == {
        **started,
        "status": "SUCCEEDED",
        "output": {"n": 21, "doubled": {"n": 42}},
        "stopped_at": done["stopped_at"],
    }
    assert own.get(machine("flow", "executions"))["items"] == [done]
    events = own.get(execution(arn, "history"))["items"]
    assert [e["type"] for e in events] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    assert [(e["id"], e["previous_id"]) for e in events] == [(n, n - 1) for n in range(1, 7)]
    assert events[0]["details"]["input"] == {"n": 21}
    page = own.get(execution(arn, "history"), params={"limit": 4})
    assert page["items"] == events[:4] and page["next_token"]
    last = own.get(execution(arn, "history"), params={"limit": 4, "next_token": page["next_token"]})
    assert last == {"items": events[4:], "next_token": None}
    newest = own.get(execution(arn, "history"), params={"reverse": "true", "limit": 2})["items"]
    assert [e["type"] for e in newest] == ["ExecutionSucceeded", "TaskStateExited"]


def test_executions_list_stop_redrive_and_start_again(own: Api) -> None:
    own.post(MACHINES, {"name": "slow", "definition": WAIT}, 201)
    arns = [own.post(machine("slow", "executions"), {"name": f"e{n}"}, 201)["arn"] for n in (1, 2, 3)]
    assert own.get(execution(arns[0]))["input"] == {}  # the default input
    stopped = own.post(execution(arns[0], "stop"), {"error": "Ops", "cause": "not needed"})
    aborted = own.get(execution(arns[0]))
    assert (aborted["status"], aborted["error"], aborted["cause"]) == ("ABORTED", "Ops", "not needed")
    assert stopped == {"stopped_at": aborted["stopped_at"]}
    assert own.call("POST", execution(arns[0], "stop")) == stopped  # no body; stopping again changes nothing

    newest_first = [e["name"] for e in own.get(machine("slow", "executions"))["items"]]
    assert newest_first == ["e3", "e2", "e1"]
    running = own.get(machine("slow", "executions"), params={"status": "RUNNING", "limit": 1})
    assert [e["name"] for e in running["items"]] == ["e3"] and running["next_token"]
    more = {"status": "RUNNING", "next_token": running["next_token"]}
    assert [e["name"] for e in own.get(machine("slow", "executions"), params=more)["items"]] == ["e2"]
    by_status = own.get(machine("slow", "executions"), params={"status": "ABORTED"})["items"]
    assert [e["name"] for e in by_status] == ["e1"]

    assert set(own.post(execution(arns[0], "redrive"))) == {"redriven_at"}
    again = own.get(execution(arns[0]))
    assert (again["status"], again["redrive_count"]) == ("RUNNING", 1)
    refused = own.post(execution(arns[1], "redrive"), None, 409)
    assert refused["code"] == "ExecutionNotRedrivable" and "is RUNNING" in refused["message"]

    same = own.post(machine("slow", "executions"), {"name": "e2"}, 201)  # same name and input: the same one
    assert same == own.get(execution(arns[1]))
    other = own.post(machine("slow", "executions"), {"name": "e2", "input": {"n": 1}}, 409)
    assert other["code"] == "ExecutionAlreadyExists" and arns[1] in other["message"]


def test_task_tokens_answer_waiting_tasks(own: Api) -> None:
    own.post(MACHINES, {"name": "ask", "definition": WAIT_FOR_TOKEN}, 201)
    first = own.post(machine("ask", "executions"), {"name": "yes"}, 201)["arn"]
    second = own.post(machine("ask", "executions"), {"name": "no"}, 201)["arn"]
    token = task_token(own, first)
    assert own.post(HEARTBEAT, {"task_token": token}, 204) is None
    assert own.post(SUCCESS, {"task_token": token, "output": [1, "two"]}, 204) is None
    answered = own.get(execution(first))
    assert (answered["status"], answered["output"]) == ("SUCCEEDED", [1, "two"])
    late = own.post(SUCCESS, {"task_token": token, "output": None}, 404)
    assert late["code"] == "TaskTimedOut"
    assert own.post(HEARTBEAT, {"task_token": token}, 404)["code"] == "TaskTimedOut"

    failure = {"task_token": task_token(own, second), "error": "Declined", "cause": "out of stock"}
    own.post(FAILURE, failure, 204)
    failed = own.get(execution(second))
    assert (failed["status"], failed["error"], failed["cause"]) == ("FAILED", "Declined", "out of stock")

    for path, body in [
        (SUCCESS, {"task_token": "not-a-token", "output": {}}),
        (FAILURE, {"task_token": "a.b.1.0"}),
        (HEARTBEAT, {"task_token": f"{token.split('.')[0]}.forged.1.0"}),
    ]:
        refused = own.post(path, body, 400)
        assert refused["code"] == "InvalidToken" and refused["message"].startswith("Invalid Token: "), refused


BAD = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Missing"}}}


def test_bad_bodies_are_a_400_naming_the_field(own: Api) -> None:
    own.post(MACHINES, {"name": "flow", "definition": WAIT}, 201)
    starts = machine("flow", "executions")
    arn = own.post(starts, {"name": "running"}, 201)["arn"]
    big = {"pad": "x" * (256 * 1024)}
    bad = "ValidationError"
    cases: list[tuple[str, str, Any, str, str]] = [
        ("POST", MACHINES, {"definition": PASS}, bad, "body.name: Field required"),
        ("POST", MACHINES, {"name": "x"}, bad, "body.definition: Field required"),
        ("POST", MACHINES, {"name": "x", "definition": [PASS]}, bad, "body.definition: expected"),
        ("POST", MACHINES, {"name": "x", "definition": PASS, "type": "EXPRESS"}, bad, "body.type: Extra"),
        ("POST", MACHINES, {"name": "x y", "definition": PASS}, bad, "name: 1-80 letters"),
        ("POST", MACHINES, {"name": 5, "definition": PASS}, bad, "body.name: Input should be"),
        ("POST", MACHINES, {"name": "x", "definition": PASS, "description": "d" * 257}, bad,
         "body.description: Value should have at most 256"),
        ("POST", MACHINES, {"name": "x", "definition": BAD}, "InvalidDefinition", "$.States.A.Next: "),
        ("POST", MACHINES, {"name": "x", "definition": "{"}, "InvalidDefinition", "$: not valid JSON"),
        ("PUT", machine("flow"), {"definition": BAD}, "InvalidDefinition", "$.States.A.Next: "),
        ("PUT", machine("flow"), {"description": "no definition"}, bad, "body.definition"),
        ("POST", starts, {"name": "has space"}, bad, "name: 1-80 letters"),
        ("POST", starts, {"input": big}, bad, "input: 262155 bytes; at most 262144 bytes"),
        ("POST", starts, {"inputs": {}}, bad, "body.inputs: Extra inputs are not permitted"),
        ("POST", execution(arn, "stop"), {"error": "e" * 257}, bad, "body.error: Value should have at most"),
        ("POST", execution(arn, "redrive"), {"force": True}, bad, "body.force: Extra inputs"),
        ("POST", SUCCESS, {"task_token": "t"}, bad, "body.output: Field required"),
        ("POST", FAILURE, {"output": 1}, bad, "body.task_token: Field required"),
        ("POST", HEARTBEAT, {"task_token": 1}, bad, "body.task_token: Input should be a valid string"),
    ]  # fmt: skip
    for method, path, body, code, message in cases:
        error = own.call(method, path, 400, json=body)
        assert error["code"] == code and error["message"].startswith(message), (body, error)
    assert own.get(machine("flow"))["definition"] == WAIT
    assert [m["name"] for m in own.get(MACHINES)["items"]] == ["flow"]
    assert [e["status"] for e in own.get(starts)["items"]] == ["RUNNING"]

    for path, params, field in [
        (machine("flow", "executions"), {"status": "DONE"}, "statusFilter"),
        (machine("flow", "executions"), {"limit": 0}, "query.limit"),
        (execution("not-an-arn"), None, "executionArn"),
    ]:
        error = own.get(path, 400, params=params)
        assert error["message"].startswith(field), error
    definition = own.post(MACHINES, {"name": "x", "definition": BAD}, 400)
    assert definition["details"] == {"path": "$.States.A.Next"}


@pytest.mark.parametrize(
    ("method", "path", "body", "code"),
    [
        ("GET", machine("ghost"), None, "StateMachineDoesNotExist"),
        ("PUT", machine("ghost"), {"definition": PASS}, "StateMachineDoesNotExist"),
        ("DELETE", machine("ghost"), None, "StateMachineDoesNotExist"),
        ("GET", machine("ghost", "executions"), None, "StateMachineDoesNotExist"),
        ("POST", machine("ghost", "executions"), {}, "StateMachineDoesNotExist"),
        ("GET", execution("{arn}"), None, "ExecutionDoesNotExist"),
        ("GET", execution("{arn}", "history"), None, "ExecutionDoesNotExist"),
        ("POST", execution("{arn}", "stop"), {}, "ExecutionDoesNotExist"),
        ("POST", execution("{arn}", "redrive"), {}, "ExecutionDoesNotExist"),
    ],
)
def test_what_does_not_exist_is_a_404(shop: Tenant, method: str, path: str, body: Any, code: str) -> None:
    ghost = f"arn:silo:states:local:{shop.account_id}:execution:ghost:run"
    error = shop.api.call(method, path.replace("{arn}", ghost), 404, json=body)
    assert error["code"] == code


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", MACHINES),
        ("POST", MACHINES),
        ("GET", machine("flow")),
        ("PUT", machine("flow")),
        ("DELETE", machine("flow")),
        ("GET", machine("flow", "executions")),
        ("POST", machine("flow", "executions")),
        ("GET", execution("arn")),
        ("GET", execution("arn", "history")),
        ("POST", execution("arn", "stop")),
        ("POST", execution("arn", "redrive")),
        ("POST", SUCCESS),
        ("POST", FAILURE),
        ("POST", HEARTBEAT),
    ],
)
def test_every_route_needs_a_key(api: Api, method: str, path: str) -> None:
    assert api.as_(None).call(method, path, 401, json={})["code"] == "Unauthenticated"
