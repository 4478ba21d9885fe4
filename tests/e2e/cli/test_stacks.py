"""``silo templates validate`` (local, no server) and ``silo stacks``: deploy with packaged code, diff
(a change set, --execute), and every read; errors name the template path and exit 1."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from silo.api import create_app
from silo.platform import Platform
from tests.e2e.api.stacks_helpers import TEMPLATE
from tests.e2e.cli.conftest import Cli, Member

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

APP = "def handler(event, context):\n    return event\n"


@pytest.fixture
def service(tmp_path: Path) -> Path:
    """A service directory: ``template.yaml`` and its code in ``src/`` next to it."""
    root = tmp_path / "service"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text(APP)
    template = root / "template.yaml"
    template.write_text(TEMPLATE)
    return template


def _variant(template: Path, name: str, old: str, new: str) -> Path:
    changed = template.parent / name
    changed.write_text(template.read_text().replace(old, new))
    return changed


def test_validate_works_locally_without_a_server(service: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SILO_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("SILO_HOME", str(service.parent / "no-home"))
    monkeypatch.delenv("COLUMNS", raising=False)  # tables and lines at the pipe width
    local = Cli(key=None)
    summary = local.json("templates", "validate", str(service), "--param", "Memory=512")
    assert summary["parameters"] == {"Memory": "512", "Greeting": "hello"}
    assert [(r["logical_id"], r["runnable"]) for r in summary["resources"]] == [
        ("Echo", True),
        ("Nightly", True),
    ]
    assert summary["not_runnable"] == [] and summary["code_paths"] == ["src"]
    human = local.ok("templates", "validate", str(service)).stdout
    assert "template.yaml: valid (2 resources, 0 not yet runnable, 1 output)" in human
    assert "AWS::Events::Rule" in human and "validate-Nightly" in human and "validate-Echo" in human


@pytest.mark.parametrize(
    ("old", "new", "args", "path"),
    [
        (
            "Runtime: python3.11",
            "Runtime: python3.11\n      Timeout: 5000",
            (),
            "Resources.Echo.Properties.Timeout",
        ),
        ("", "", ("--param", "Memory=lots"), "Parameters.Memory"),
        ("", "", ("--param", "Colour=red"), "Parameters.Colour"),
        ("AWS::Events::Rule", "AWS::Nope::Thing", (), "Resources.Nightly.Type"),
        ("!GetAtt Echo.Arn", "!GetAtt Nothing.Arn", (), "Resources.Nightly"),
        ("CodeUri: src/", "CodeUri: missing/", (), "Resources.Echo.Properties.CodeUri"),
    ],
    ids=["bad value", "bad parameter", "undeclared parameter", "unknown type", "unresolved ref", "no code"],
)
def test_validate_reports_the_path_and_exits_1(
    service: Path, old: str, new: str, args: tuple[str, ...], path: str
) -> None:
    template = _variant(service, "bad.yaml", old, new) if old else service
    local = Cli(key=None)
    result = local("templates", "validate", str(template), *args)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error: InvalidTemplate: ") and path in result.stderr
    assert f"at {path}" in result.stderr and result.stdout == ""
    as_json = local("templates", "validate", str(template), *args, "--json")
    assert as_json.exit_code == 1
    error = json.loads(as_json.stdout)
    assert error["code"] == "InvalidTemplate" and error["details"]["path"].startswith(path)


def test_no_echo_values_are_masked_locally_and_by_the_server(member: Member, service: Path) -> None:
    secret = _variant(service, "secret.yaml", "    Type: String\n", "    Type: String\n    NoEcho: true\n")
    masked = {"Memory": "256", "Greeting": "****"}
    local = Cli(key=None)
    assert (
        local.json("templates", "validate", str(secret), "--param", "Greeting=s3cret")["parameters"] == masked
    )
    assert "s3cret" not in local.ok("templates", "validate", str(secret), "--param", "Greeting=s3cret").stdout
    deployed = member.cli.json("stacks", "deploy", "shop", "-t", str(secret), "--param", "Greeting=s3cret")
    assert deployed["stack"]["parameters"] == masked
    assert member.cli.json("stacks", "get", "shop")["parameters"] == masked
    shown = member.cli.ok("stacks", "get", "shop").stdout
    assert "****" in shown and "s3cret" not in shown
    assert member.cli.json("functions", "get", "shop-Echo")["environment"] == {"GREETING": "s3cret"}


def test_local_validate_shows_what_the_server_would(served: Platform, member: Member, service: Path) -> None:
    local = member.cli.json("templates", "validate", str(service))
    client = TestClient(create_app(served))
    remote = client.post(
        "/v1/account/templates/validate",
        json={"template": TEMPLATE},
        headers={"Authorization": f"Bearer {member.cli.key}"},
    ).json()
    assert json.loads(json.dumps(local).replace("000000000000", member.account_id)) == remote


def test_deploy_packages_code_next_to_the_template(member: Member, service: Path) -> None:
    deployed = member.cli.json(
        "stacks", "deploy", "shop", "--template", str(service), "--param", "Greeting=hi"
    )
    assert deployed["stack"]["status"] == "CREATE_COMPLETE"
    assert [(c["action"], c["logical_id"]) for c in deployed["changes"]] == [
        ("Add", "Echo"),
        ("Add", "Nightly"),
    ]
    function = member.cli.json("functions", "get", "shop-Echo")
    assert (function["memory_size"], function["environment"]) == (256, {"GREETING": "hi"})
    assert json.loads(member.cli.ok("invoke", "shop-Echo", "--payload", '{"n": 1}').stdout) == {"n": 1}
    again = member.cli.ok("stacks", "deploy", "shop", "-t", str(service), "--param", "Greeting=hi").stdout
    assert "no changes" in again and "stack shop: UPDATE_COMPLETE (0 changes)" in again


def test_diff_previews_and_execute_applies(member: Member, service: Path) -> None:
    member.cli.ok("stacks", "deploy", "shop", "--template", str(service))
    preview = member.cli.ok("stacks", "diff", "shop", "--template", str(service), "--param", "Memory=512")
    lines = preview.stdout.splitlines()
    assert lines[0].startswith("change set diff-") and lines[0].endswith("of stack shop: 1 change")
    assert "ACTION" in preview.stdout and "REPLACEMENT" in preview.stdout and "PROPERTIES" in preview.stdout
    row = next(line for line in lines if line.strip().startswith("Modify"))
    assert "Echo" in row and "AWS::Serverless::Function" in row and "no" in row and "memory_size" in row
    assert "apply it: silo stacks execute shop diff-" in preview.stderr
    assert member.cli.json("functions", "get", "shop-Echo")["memory_size"] == 256

    change_sets = member.cli.json("stacks", "change-sets", "shop")["items"]
    assert [c["status"] for c in change_sets] == ["CREATE_COMPLETE"]
    executed = member.cli.json("stacks", "execute", "shop", change_sets[0]["name"])
    assert executed["stack"]["status"] == "UPDATE_COMPLETE"
    assert member.cli.json("functions", "get", "shop-Echo")["memory_size"] == 512

    applied = member.cli.json(
        "stacks",
        "diff",
        "shop",
        "-t",
        str(service),
        "--param",
        "Memory=1024",
        "--change-set",
        "more",
        "--execute",
    )
    assert (applied["name"], applied["status"]) == ("more", "EXECUTE_COMPLETE")
    assert [c["properties"] for c in applied["changes"]] == [["memory_size"]]
    assert member.cli.json("functions", "get", "shop-Echo")["memory_size"] == 1024
    human = member.cli.ok("stacks", "diff", "shop", "-t", str(service), "--param", "Memory=1024", "--execute")
    assert "no changes" in human.stdout and "executed: stack shop is UPDATE_COMPLETE" in human.stdout


def test_reads_drift_and_delete(member: Member, service: Path) -> None:
    member.cli.ok("stacks", "deploy", "shop", "--template", str(service))
    assert [s["name"] for s in member.cli.json("stacks", "list")["items"]] == ["shop"]
    assert "CREATE_COMPLETE" in member.cli.ok("stacks", "list").stdout
    stack = member.cli.json("stacks", "get", "shop")
    assert stack["outputs"]["EchoName"]["value"] == "shop-Echo"
    assert "stack shop" in member.cli.ok("stacks", "get", "shop").stdout
    assert member.cli.json("stacks", "outputs", "shop") == stack["outputs"]
    outputs = member.cli.ok("stacks", "outputs", "shop").stdout
    assert "EchoName" in outputs and "shop-Echo" in outputs
    resources = member.cli.ok("stacks", "resources", "shop").stdout
    assert "CREATE_COMPLETE" in resources and "shop-Nightly" in resources and "shop-Echo" in resources
    events = member.cli.json("stacks", "events", "shop", "--all")["items"]
    assert events[0]["status"] == "CREATE_COMPLETE"
    assert "ADD_COMPLETE" in member.cli.ok("stacks", "events", "shop").stdout
    assert member.cli.ok("stacks", "template", "shop").stdout == TEMPLATE
    assert member.cli.json("stacks", "template", "shop") == {"template": TEMPLATE}

    assert "no drift" in member.cli.ok("stacks", "drift", "shop").stdout
    member.cli.ok("functions", "update", "shop-Echo", "--memory", "1024")
    drift = member.cli.json("stacks", "drift", "shop")
    assert drift["drifted"] and drift["items"][0]["properties"] == ["memory_size"]
    assert "MODIFIED" in member.cli.ok("stacks", "drift", "shop").stdout

    assert member.cli.json("stacks", "delete", "shop") == {"deleted": "shop"}
    assert member.cli.json("stacks", "list")["items"] == []
    assert member.cli("functions", "get", "shop-Echo").exit_code == 1


def test_errors_exit_1_with_the_path(member: Member, service: Path, cli: Cli) -> None:
    missing = _variant(service, "missing.yaml", "CodeUri: src/", "CodeUri: nowhere/")
    result = member.cli("stacks", "deploy", "shop", "--template", str(missing))
    assert result.exit_code == 1
    assert "error: InvalidTemplate: Resources.Echo.Properties.CodeUri" in result.stderr
    too_big = _variant(service, "big.yaml", "MemorySize: !Ref Memory", "MemorySize: 99999")
    result = member.cli("stacks", "deploy", "shop", "--template", str(too_big))
    assert result.exit_code == 1 and "Resources.Echo.Properties.MemorySize" in result.stderr
    unknown = member.cli("stacks", "get", "nope")
    assert unknown.exit_code == 1 and "error: NotFound: stack not found: nope" in unknown.stderr
    assert member.cli("stacks", "deploy", "shop").exit_code == 2  # --template is required
    assert member.cli.json("stacks", "list")["items"] == []
