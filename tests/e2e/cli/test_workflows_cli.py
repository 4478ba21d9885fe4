"""``silo workflows run-local``: a definition runs here, without a server or a key, and prints one JSON
object {"status", "output", "error", "cause"} (exit 0 whether it succeeded or failed); Task states call
real functions of ``--functions-dir`` in a throwaway platform (every Resource form, the function's own
error names matched by Retry and Catch, its timeout as States.Timeout), which is closed and removed
afterwards; a definition that does not validate, or bad ``--input``, exits 2."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from silo.bench.stats import scratch_settings
from silo.cli import workflows_local as local_platform
from silo.platform import Platform
from silo.settings import Settings
from tests.e2e.cli.conftest import Cli
from tests.e2e.cli.test_events_cli import local  # noqa: F401  (a fixture: no server, no key)

FUNCTIONS = {
    "double": "def handler(event, context):\n    return {'n': event['n'] * 2}\n",
    "stock": (  # fails with OutOfStock on the first `failures` attempts (counted in a shared file)
        "import os\n\n"
        "class OutOfStock(Exception):\n    pass\n\n"
        "def handler(event, context):\n"
        "    with open(os.environ['COUNTER'], 'a') as counter:\n        counter.write('x')\n"
        "    with open(os.environ['COUNTER']) as counter:\n        attempts = len(counter.read())\n"
        "    if attempts <= event['failures']:\n"
        "        raise OutOfStock(f\"{event['sku']}: attempt {attempts}\")\n"
        "    return {'sku': event['sku'], 'attempts': attempts}\n"
    ),
    "slow": "import time\n\ndef handler(event, context):\n    time.sleep(5)\n",
}
CHOOSE = {
    "StartAt": "Size",
    "States": {
        "Size": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"}],
            "Default": "Small",
        },
        "Big": {"Type": "Pass", "Result": "big", "ResultPath": "$.size", "End": True},
        "Small": {"Type": "Pass", "Result": "small", "ResultPath": "$.size", "End": True},
    },
}


def task(resource: str, **fields: Any) -> dict[str, Any]:
    """A definition of one Task state."""
    return {
        "StartAt": "Call",
        "States": {"Call": {"Type": "Task", "Resource": resource, **fields, "End": True}},
    }


@pytest.fixture
def functions(tmp_path: Path, outbox: Path) -> Path:
    """``double``, ``stock`` (counting its attempts in ``outbox``) and ``slow`` (1 s timeout)."""
    root = tmp_path / "functions"
    for name, source in FUNCTIONS.items():
        (root / name).mkdir(parents=True)
        (root / name / "app.py").write_text(source)
    (root / "stock" / "function.json").write_text(json.dumps({"environment": {"COUNTER": str(outbox)}}))
    (root / "slow" / "function.json").write_text(json.dumps({"timeout": 1}))
    return root


@pytest.fixture
def homes(monkeypatch: pytest.MonkeyPatch, shared_dir: Path) -> Iterator[list[Path]]:
    """The throwaway platforms' homes; each must be gone, and its platform closed, after the command.
    Their functions may write to the tests' shared directory (the outbox), as ``SILO_SANDBOX_SHARED_DIRS``
    lets them."""
    monkeypatch.setenv("SILO_SANDBOX_SHARED_DIRS", str(shared_dir))
    made: list[Path] = []
    closed: list[Platform] = []
    close = Platform.close

    @contextmanager
    def recorded(**overrides: object) -> Iterator[Settings]:
        with scratch_settings(**overrides) as settings:
            made.append(settings.home)
            yield settings

    def closing(platform: Platform) -> None:
        closed.append(platform)
        close(platform)

    monkeypatch.setattr(local_platform, "scratch_settings", recorded)
    monkeypatch.setattr(Platform, "close", closing)
    yield made
    assert len(closed) == len(made)
    assert not [home for home in made if home.exists()]


@pytest.fixture
def here(local: Cli, homes: list[Path]) -> Cli:  # noqa: F811
    """The CLI with no server and no key, checking that every throwaway platform is cleaned up."""
    return local


def run(cli: Cli, tmp_path: Path, definition: object, *args: str) -> tuple[int, Any, str]:
    """Exit code, the JSON on the last line of stdout (or the whole stdout) and stderr."""
    path = tmp_path / "definition.json"
    path.write_text(definition if isinstance(definition, str) else json.dumps(definition))
    result = cli("workflows", "run-local", str(path), *args)
    lines = result.stdout.splitlines()
    printed = json.loads(lines[-1]) if "--json" in args and result.exit_code == 0 else result.stdout
    return result.exit_code, printed, result.stderr


@pytest.mark.parametrize(("n", "size"), [(3, "small"), (42, "big")])
def test_pass_and_choice_without_functions(here: Cli, tmp_path: Path, n: int, size: str) -> None:
    code, printed, err = run(here, tmp_path, CHOOSE, "--input", json.dumps({"n": n}), "--json")
    assert (code, err) == (0, "")
    assert printed == {"status": "SUCCEEDED", "output": {"n": n, "size": size}, "error": None, "cause": None}


def test_input_from_a_file_and_a_readable_summary(here: Cli, tmp_path: Path) -> None:
    (tmp_path / "input.json").write_text('{"n": 11}')
    code, printed, _ = run(here, tmp_path, CHOOSE, "--input", f"@{tmp_path / 'input.json'}")
    assert code == 0
    assert "SUCCEEDED" in printed and '"size": "big"' in printed


def test_a_task_without_functions_fails_saying_so(here: Cli, tmp_path: Path) -> None:
    code, printed, _ = run(here, tmp_path, task("double"), "--input", '{"n": 2}', "--json")
    assert code == 0
    assert (printed["status"], printed["error"]) == ("FAILED", "States.TaskFailed")
    assert "no functions were given" in printed["cause"]


@pytest.mark.parametrize(
    "resource",
    [
        "double",
        "arn:silo:lambda:local:123456789012:function:double",
        "arn:aws:lambda:eu-west-1:210987654321:function:double:$LATEST",
    ],
)
def test_a_task_calls_a_function(
    here: Cli,
    tmp_path: Path,
    functions: Path,
    homes: list[Path],
    resource: str,
) -> None:
    code, printed, err = run(
        here, tmp_path, task(resource), "--input", '{"n": 21}', "--functions-dir", str(functions), "--json"
    )
    assert (code, err) == (0, "")
    assert printed == {"status": "SUCCEEDED", "output": {"n": 42}, "error": None, "cause": None}
    assert len(homes) == 1


def test_the_lambda_invoke_integration(here: Cli, tmp_path: Path, functions: Path) -> None:
    definition = task(
        "arn:aws:states:::lambda:invoke",
        Parameters={"FunctionName": "double", "Payload.$": "$.order"},
        ResultSelector={"doubled.$": "$.Payload.n", "status.$": "$.StatusCode"},
    )
    code, printed, _ = run(
        here, tmp_path, definition, "--input", '{"order": {"n": 4}}',
        "--functions-dir", str(functions), "--json",
    )  # fmt: skip
    assert code == 0
    assert printed["output"] == {"doubled": 8, "status": 200}


def test_catch_matches_the_functions_own_error(
    here: Cli,
    tmp_path: Path,
    functions: Path,
    outbox: Path,
) -> None:
    definition = {
        "StartAt": "Reserve",
        "States": {
            "Reserve": {
                "Type": "Task",
                "Resource": "stock",
                "Catch": [{"ErrorEquals": ["OutOfStock"], "ResultPath": "$.problem", "Next": "Backorder"}],
                "End": True,
            },
            "Backorder": {"Type": "Pass", "End": True},
        },
    }
    code, printed, _ = run(
        here, tmp_path, definition, "--input", '{"sku": "A-1", "failures": 9}',
        "--functions-dir", str(functions), "--json",
    )  # fmt: skip
    assert code == 0
    assert printed["status"] == "SUCCEEDED"
    assert printed["output"]["problem"] == {"Error": "OutOfStock", "Cause": "A-1: attempt 1"}
    assert outbox.read_text() == "x"


@pytest.mark.parametrize(
    ("max_attempts", "status", "attempts"), [(2, "SUCCEEDED", 3), (1, "FAILED", 2)], ids=["enough", "too few"]
)
def test_retry_on_the_functions_own_error(
    here: Cli,
    tmp_path: Path,
    functions: Path,
    outbox: Path,
    max_attempts: int,
    status: str,
    attempts: int,
) -> None:
    retry = [{"ErrorEquals": ["OutOfStock"], "IntervalSeconds": 30, "MaxAttempts": max_attempts}]
    code, printed, _ = run(
        here, tmp_path, task("stock", Retry=retry), "--input", '{"sku": "B-2", "failures": 2}',
        "--functions-dir", str(functions), "--json",
    )  # fmt: skip
    assert code == 0
    assert printed["status"] == status
    assert len(outbox.read_text()) == attempts
    if status == "SUCCEEDED":
        assert printed["output"] == {"sku": "B-2", "attempts": 3}
    else:
        assert (printed["error"], printed["cause"]) == ("OutOfStock", "B-2: attempt 2")


@pytest.mark.parametrize(
    ("resource", "error", "cause"),
    [
        ("slow", "States.Timeout", "Task timed out after 1.00 seconds"),
        ("missing", "States.TaskFailed", "function not found: missing"),
    ],
    ids=["timeout", "unknown function"],
)
def test_task_failures(
    here: Cli,
    tmp_path: Path,
    functions: Path,
    resource: str,
    error: str,
    cause: str,
) -> None:
    code, printed, _ = run(here, tmp_path, task(resource), "--functions-dir", str(functions), "--json")
    assert code == 0
    assert (printed["status"], printed["error"]) == ("FAILED", error)
    assert cause in printed["cause"]


def test_a_bad_function_config_still_removes_the_platform(
    here: Cli,
    tmp_path: Path,
    functions: Path,
    homes: list[Path],
) -> None:
    (functions / "double" / "function.json").write_text('{"handler": "app.handler", "memory": 128}')
    code, _, err = run(here, tmp_path, task("double"), "--functions-dir", str(functions), "--json")
    assert code == 1
    assert err.startswith("error: ValidationError: ") and "unknown keys memory" in err
    assert len(homes) == 1


def test_an_invalid_definition_exits_2_naming_its_path(here: Cli, tmp_path: Path, homes: list[Path]) -> None:
    definition = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nope"}}}
    code, out, err = run(here, tmp_path, definition, "--json")
    assert (code, out) == (2, "")
    assert err == 'error: InvalidDefinition: $.States.A.Next: state "Nope" does not exist\n'
    assert homes == []  # checked before any platform starts


@pytest.mark.parametrize("value", ['{"n": ', "@no-such-file.json"], ids=["not JSON", "no file"])
def test_bad_input_exits_2(here: Cli, tmp_path: Path, value: str) -> None:
    code, out, err = run(here, tmp_path, CHOOSE, "--input", value, "--json")
    assert (code, out) == (2, "")
    assert "Invalid value for '--input'" in err
