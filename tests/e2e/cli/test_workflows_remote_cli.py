"""``silo workflows create|update|describe|list|delete|start|describe-execution|executions|history|stop|
redrive|send-task-*`` through the API: an execution started from the CLI runs a function of the account
to completion; tables and ``--json``; JSON that does not parse (or a file that cannot be read) is a usage
error with exit 2, what the server refuses goes to stderr with exit 1."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.e2e.api.test_workflows_api import WAIT, WAIT_FOR_TOKEN
from tests.e2e.cli.conftest import Member
from tests.helpers.functions import wait_until

DOUBLE = "def handler(event, context):\n    return {'n': event['n'] * 2}\n"
CALL = {
    "StartAt": "Call",
    "States": {"Call": {"Type": "Task", "Resource": "double", "ResultPath": "$.doubled", "End": True}},
}
BAD = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Missing"}}}


def test_state_machines_and_executions_round_trip(
    member: Member, source: Callable[[str], Path], tmp_path: Path
) -> None:
    cli = member.cli
    cli.ok("functions", "create", "double", "--handler", "app.handler", "--code", str(source(DOUBLE)))
    definition = tmp_path / "flow.asl.json"
    definition.write_text(json.dumps(CALL, indent=2))
    made = cli.json(
        "workflows", "create", "flow", "--definition", f"@{definition}", "--description", "doubles"
    )
    assert (made["name"], made["description"], made["definition"]) == ("flow", "doubles", CALL)
    shown = cli.ok("workflows", "describe", made["arn"]).stdout
    assert "state machine flow" in shown and '"Resource": "double"' in shown
    assert "doubles" in cli.ok("workflows", "list").stdout

    started = cli.json("workflows", "start", "flow", "--input", '{"n": 21}', "--name", "first")
    arn = f"arn:silo:states:local:{member.account_id}:execution:flow:first"
    assert (started["arn"], started["status"]) == (arn, "RUNNING")
    wait_until(lambda: cli.json("workflows", "describe-execution", arn)["status"] != "RUNNING", timeout=30)
    done = cli.json("workflows", "describe-execution", arn)
    assert (done["status"], done["output"]) == ("SUCCEEDED", {"n": 21, "doubled": {"n": 42}})
    assert "execution first of flow" in cli.ok("workflows", "describe-execution", arn).stdout
    table = cli.ok("workflows", "executions", "flow", "--status", "succeeded").stdout
    assert "first" in table and "SUCCEEDED" in table
    assert cli.json("workflows", "executions", "flow", "--status", "FAILED")["items"] == []
    newest = cli.json("workflows", "history", arn, "--reverse", "--limit", "1")
    assert [e["type"] for e in newest["items"]] == ["ExecutionSucceeded"] and newest["next_token"]
    assert "TaskScheduled" in cli.ok("workflows", "history", arn).stdout

    updated = cli.json("workflows", "update", "flow", "--definition", json.dumps(WAIT))
    assert updated["definition"] == WAIT and updated["revision"] != made["revision"]
    slow = cli.json("workflows", "start", "flow")["arn"]
    assert cli.ok("workflows", "stop", slow, "--error", "Ops", "--cause", "why").stdout.startswith(
        f"stopped {slow} at "
    )
    aborted = cli.json("workflows", "describe-execution", slow)
    assert (aborted["status"], aborted["error"], aborted["cause"]) == ("ABORTED", "Ops", "why")
    assert set(cli.json("workflows", "redrive", slow)) == {"redriven_at"}
    assert cli.json("workflows", "describe-execution", slow)["redrive_count"] == 1
    assert cli.ok("workflows", "delete", "flow").stdout == "deleted state machine flow\n"

    for args, words in [
        (["create", "x", "--definition", "{not json"], "notJSON"),
        (["create", "x", "--definition", f"@{tmp_path / 'missing.json'}"], "missing.json"),
        (["create", "x"], "--definition"),
        (["start", "flow", "--input", "{"], "notJSON"),
        (["executions", "flow", "--status", "DONE"], "oneofRUNNING"),
        (["send-task-success", "token"], "--output"),
    ]:
        result = cli("workflows", *args)
        assert (result.exit_code, result.stdout) == (2, ""), (args, result.output)
        # Rich wraps the error box to the terminal width: compare the text without the wrapping
        assert words in "".join(result.stderr.replace("│", "").split()), (args, result.stderr)
    bad = cli("workflows", "create", "x", "--definition", json.dumps(BAD))
    assert bad.exit_code == 1
    assert bad.stderr == 'error: InvalidDefinition: $.States.A.Next: state "Missing" does not exist\n'
    missing = cli("workflows", "describe", "flow")
    assert missing.exit_code == 1
    assert missing.stderr == "error: StateMachineDoesNotExist: State machine flow does not exist\n"


def test_task_tokens_are_answered_from_the_cli(member: Member, tmp_path: Path) -> None:
    cli = member.cli
    cli.ok("workflows", "create", "ask", "--definition", json.dumps(WAIT_FOR_TOKEN))
    yes, no = (cli.json("workflows", "start", "ask", "--name", name)["arn"] for name in ("yes", "no"))

    def token(arn: str) -> str:
        events = cli.json("workflows", "history", arn, "--all")["items"]
        [scheduled] = [e for e in events if e["type"] == "TaskScheduled"]
        found: str = scheduled["details"]["parameters"]["Entries"][0]["Detail"]["token"]
        return found

    assert cli.ok("workflows", "send-task-heartbeat", token(yes)).stdout == "sent task heartbeat\n"
    output = tmp_path / "output.json"
    output.write_text('{"approved": true}')
    assert cli.json("workflows", "send-task-success", token(yes), "--output", f"@{output}") == {
        "sent": "success"
    }
    assert cli.json("workflows", "describe-execution", yes)["output"] == {"approved": True}
    cli.ok("workflows", "send-task-failure", token(no), "--error", "Declined", "--cause", "no stock")
    failed = cli.json("workflows", "describe-execution", no)
    assert (failed["status"], failed["error"], failed["cause"]) == ("FAILED", "Declined", "no stock")
    late = cli("workflows", "send-task-success", token(yes), "--output", "1")
    assert late.exit_code == 1 and late.stderr.startswith("error: TaskTimedOut: ")
