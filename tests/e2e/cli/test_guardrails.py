"""``silo guardrails``: create from a file or a string, attach, effective, detach, update, delete."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.e2e.cli.conftest import Cli

NO_BIG = {
    "Version": "2026-11-01",
    "Statement": [
        {
            "Sid": "NoBigFunctions",
            "Effect": "Deny",
            "Action": ["functions:Create"],
            "Condition": {"NumericGreaterThan": {"MemorySize": 1024}},
        }
    ],
}
NO_DELETE = {"Version": "2026-11-01", "Statement": [{"Effect": "Deny", "Action": "tables:Delete*"}]}


def _actions(document: dict[str, Any]) -> list[str]:
    """The denied actions (the server returns documents normalised: Action as a list, a Sid added)."""
    return [action for statement in document["Statement"] for action in statement["Action"]]


def test_guardrail_lifecycle(cli: Cli, tmp_path: Path) -> None:
    policy_file = tmp_path / "policy.json"
    policy_file.write_text(json.dumps(NO_BIG))
    made = cli.json(
        "guardrails", "create", "no-big", "--file", str(policy_file), "--description", "memory cap"
    )
    assert made["name"] == "no-big"
    assert made["document"]["Statement"][0]["Sid"] == "NoBigFunctions"
    assert made["description"] == "memory cap"
    policy = made["policy_id"]
    other = cli.json("guardrails", "create", "no-delete", "--document", json.dumps(NO_DELETE))
    assert _actions(other["document"]) == ["tables:Delete*"]

    assert {g["name"] for g in cli.json("guardrails", "list")["items"]} == {"no-big", "no-delete"}
    assert "no-big" in cli.ok("guardrails", "list").stdout
    assert cli.json("guardrails", "describe", policy)["policy_id"] == policy
    assert "NoBigFunctions" in cli.ok("guardrails", "describe", policy).stdout

    account = cli.json("accounts", "create", "--name", "guarded", "--owner-email", "g@example.com")[
        "account_id"
    ]
    attached = cli.json("guardrails", "attach", policy, account)
    assert account in attached["targets"]
    effective = cli.json("guardrails", "effective", account)
    assert [(e["policy_id"], e["target"]) for e in effective["items"]] == [(policy, account)]
    assert "no-big" in cli.ok("guardrails", "effective", account).stdout
    token = cli.json("keys", "issue", account, "k")["token"]
    assert [e["policy_id"] for e in cli.json("guardrails", "effective", key=token)["items"]] == [policy]

    updated = cli.json(
        "guardrails", "update", policy, "--document", json.dumps(NO_DELETE), "--description", "x"
    )
    assert _actions(updated["document"]) == ["tables:Delete*"]
    assert updated["description"] == "x"
    assert _actions(cli.json("guardrails", "update", policy, "--description", "y")["document"]) == [
        "tables:Delete*"
    ]
    assert account not in cli.json("guardrails", "detach", policy, account)["targets"]
    assert cli.json("guardrails", "delete", policy) == {"deleted": policy}
    assert cli("guardrails", "describe", policy).exit_code == 1


def test_document_from_stdin(cli: Cli) -> None:
    made = cli.json("guardrails", "create", "piped", "--file", "-", input=json.dumps(NO_DELETE))
    assert _actions(made["document"]) == ["tables:Delete*"]


def test_invalid_policy_is_an_api_error(cli: Cli) -> None:
    result = cli("guardrails", "create", "bad", "--document", json.dumps({"Statement": "nope"}))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: InvalidPolicy: ")
