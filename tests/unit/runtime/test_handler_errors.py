"""The handler contract's failures: exceptions, init errors, marshalling, exits."""

from __future__ import annotations

import pytest

from silo.runtime import RuntimeHost

from .conftest import MakeFunction, spec_for

ECHO = """
def handler(event, context):
    return event
"""


def test_handler_exception(host: RuntimeHost, make_function: MakeFunction) -> None:
    code = make_function(
        """
        def helper(value):
            raise ValueError(f"bad value {value}")

        def handler(event, context):
            return helper(event["v"])
        """
    )
    spec = spec_for(code)
    result = host.invoke(spec, "r-err", b'{"v": 42}')
    assert result.payload is None
    assert result.error is not None
    assert result.error["errorType"] == "ValueError"
    assert result.error["errorMessage"] == "bad value 42"
    trace = result.error["stackTrace"]
    assert len(trace) == 2 and "in handler" in trace[0] and "in helper" in trace[1]
    assert "app.py" in trace[0] and "_serve.py" not in "".join(trace)
    assert "[ERROR] ValueError: bad value 42" in result.logs
    again = host.invoke(spec, "r-ok", b'{"v": 1}')  # an exception does not cost the environment
    assert not again.cold_start and again.env_id == result.env_id


@pytest.mark.parametrize(
    ("source", "handler", "error_type", "message"),
    [
        (
            ECHO,
            "nomod.handler",
            "Runtime.ImportModuleError",
            "Unable to import module 'nomod': No module named 'nomod'",
        ),
        (
            "import not_installed\n",
            "app.handler",
            "Runtime.ImportModuleError",
            "No module named 'not_installed'",
        ),
        (
            "def handler(event, context)\n    return 1\n",
            "app.handler",
            "Runtime.UserCodeSyntaxError",
            "Syntax error in module 'app'",
        ),
        (ECHO, "app.missing", "Runtime.HandlerNotFound", "Handler 'missing' missing on module 'app'"),
        (ECHO, "app", "Runtime.MalformedHandlerName", "Bad handler 'app'"),
        ("raise RuntimeError('init boom')\n", "app.handler", "RuntimeError", "init boom"),
    ],
)
def test_init_failures(
    host: RuntimeHost, make_function: MakeFunction, source: str, handler: str, error_type: str, message: str
) -> None:
    spec = spec_for(make_function(source), handler=handler, account_id="333333333333")
    result = host.invoke(spec, "r-init", b"{}")
    assert result.payload is None and result.error is not None
    assert result.error["errorType"] == error_type
    assert message in result.error["errorMessage"]
    assert result.cold_start and result.init_ms is not None
    assert f"[ERROR] {error_type}" in result.logs
    assert all("app.py" in frame for frame in result.error.get("stackTrace", []))  # no runtime frames
    assert host.environment_count("333333333333") == 0  # an init failure discards the environment


def test_package_handler(host: RuntimeHost, make_function: MakeFunction) -> None:
    code = make_function(
        "", files={"pkg/__init__.py": "", "pkg/api.py": "def handle(event, context):\n    return 'pkg'\n"}
    )
    result = host.invoke(spec_for(code, handler="pkg.api.handle"), "r", b"{}")
    assert result.payload == b'"pkg"'


def test_return_value_must_be_json(host: RuntimeHost, make_function: MakeFunction) -> None:
    code = make_function("def handler(event, context):\n    return {1, 2}\n")
    result = host.invoke(spec_for(code), "r", b"{}")
    assert result.error is not None
    assert result.error["errorType"] == "Runtime.MarshalError"
    assert "Object of type set is not JSON serializable" in result.error["errorMessage"]


def test_system_exit_is_an_exit_error(host: RuntimeHost, make_function: MakeFunction) -> None:
    code = make_function("import sys\ndef handler(event, context):\n    sys.exit(4)\n")
    result = host.invoke(spec_for(code), "r-exit", b"{}")
    assert result.error is not None and result.error["errorType"] == "Runtime.ExitError"
    assert result.error["errorMessage"].endswith("Runtime exited with error: exit status 4")


def test_invalid_json_payload(host: RuntimeHost, make_function: MakeFunction) -> None:
    result = host.invoke(spec_for(make_function(ECHO)), "r", b"{not json")
    assert result.error is not None and result.error["errorType"] == "Runtime.UnmarshalError"
