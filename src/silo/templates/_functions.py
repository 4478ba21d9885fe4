"""Functions: ``AWS::Serverless::Function`` and ``AWS::Lambda::Function``, and SAM ``Globals``."""

from __future__ import annotations

import re
from typing import Any

from silo.templates import _names
from silo.templates._checks import (
    check_keys,
    integer,
    join,
    mapping,
    matching,
    optional_text,
    show,
    tag_list,
    tag_map,
    text,
)
from silo.templates._events import expand_events
from silo.templates._intrinsics import is_intrinsic
from silo.templates._resources import Builder, Built, Generated, ResourceType
from silo.templates._scope import Scope
from silo.templates.model import CodeRef, TemplateError

DEFAULT_RUNTIME = "python3.11"
_HANDLER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+")
_RUNTIME = re.compile(r"python3\.(1[1-9]|[2-9][0-9])")
_ENV_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_ARTIFACT = re.compile(r"sha256:[0-9a-f]{64}")

# Accepted and ignored: IAM, networking and hardware settings that mean nothing on Silo.
_IGNORED_COMMON = (
    "Role Architectures Layers VpcConfig KmsKeyArn EphemeralStorage LoggingConfig RuntimeManagementConfig "
    "CodeSigningConfigArn SnapStart"
)
_IGNORED_SAM = frozenset(
    f"{_IGNORED_COMMON} Policies PermissionsBoundary Tracing AssumeRolePolicyDocument RolePath".split()
)
_IGNORED_LAMBDA = frozenset(f"{_IGNORED_COMMON} TracingConfig".split())
_SHARED = (
    "Handler Runtime MemorySize Timeout Environment Description ReservedConcurrentExecutions Tags PackageType"
)
_USED_SAM = frozenset(f"{_SHARED} FunctionName CodeUri InlineCode Events EventInvokeConfig".split())
_USED_LAMBDA = frozenset(f"{_SHARED} FunctionName Code".split())
GLOBALS_ALLOWED = (_USED_SAM - {"FunctionName", "Events", "InlineCode"}) | _IGNORED_SAM


def merge_globals(defaults: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """SAM's merge: mappings merge key by key (the function wins), anything else the function overrides."""
    out = dict(defaults)
    for key, value in own.items():
        base = out.get(key)
        if (
            isinstance(base, dict)
            and isinstance(value, dict)
            and not is_intrinsic(base)
            and not is_intrinsic(value)
        ):
            out[key] = merge_globals(base, value)
        else:
            out[key] = value
    return out


def _build(sam: bool) -> Builder:
    def build(logical_id: str, props: dict[str, Any], scope: Scope, path: str) -> Built:
        name = _names.physical_name(
            props, "FunctionName", scope.stack, logical_id, _names.FUNCTION_NAME, path
        )
        if props.get("PackageType", "Zip") != "Zip":
            raise TemplateError(join(path, "PackageType"), "only Zip packages are supported in Silo")
        if "Handler" not in props:
            raise TemplateError(join(path, "Handler"), "required, as module.function (e.g. app.handler)")
        properties: dict[str, Any] = {
            "name": name,
            "handler": matching(
                props["Handler"], _HANDLER, "module.function (e.g. app.handler)", (path, "Handler")
            ),
            "runtime": matching(
                props.get("Runtime", DEFAULT_RUNTIME),
                _RUNTIME,
                "python3.11 or later (python3.NN)",
                (path, "Runtime"),
            ),
            "memory_size": integer(props.get("MemorySize", 128), (path, "MemorySize"), 128, 10240),
            "timeout": integer(props.get("Timeout", 3), (path, "Timeout"), 1, 900),
            "environment": _environment(props.get("Environment"), path),
            "description": optional_text(props, "Description", path, ""),
            "reserved_concurrency": None,
            "tags": {},
            "code": _sam_code(props, path) if sam else _lambda_code(props, path),
            "max_retry_attempts": None,
            "max_event_age": None,
            "on_failure": None,
        }
        if len(properties["description"]) > 256:
            raise TemplateError(join(path, "Description"), "at most 256 characters")
        if "ReservedConcurrentExecutions" in props:
            where = join(path, "ReservedConcurrentExecutions")
            properties["reserved_concurrency"] = integer(
                props["ReservedConcurrentExecutions"], where, 0, 100_000
            )
        if "Tags" in props:
            properties["tags"] = (tag_map if sam else tag_list)(props["Tags"], (path, "Tags"))
        if "EventInvokeConfig" in props:
            _invoke_config(props["EventInvokeConfig"], properties, scope, join(path, "EventInvokeConfig"))
        generated: tuple[Generated, ...] = ()
        if "Events" in props:
            generated = expand_events(props["Events"], logical_id, name, scope, join(path, "Events"))
        return Built(name, _names.Arn("lambda", f"function:{name}"), properties, generated=generated)

    return build


def _environment(value: object, path: str) -> dict[str, str]:
    if value is None:
        return {}
    environment = mapping(value, (path, "Environment"))
    check_keys(environment, ("Variables",), (path, "Environment"))
    base = join(path, "Environment.Variables")
    out = {}
    for key, item in mapping(environment.get("Variables", {}), base).items():
        out[key] = item if type(item) is str else text(item, (base, key))
        if not _ENV_KEY.fullmatch(key):
            raise TemplateError(join(base, key), "variable names are a letter then letters, digits or '_'")
    return out


def _sam_code(props: dict[str, Any], path: str) -> CodeRef:
    if ("CodeUri" in props) == ("InlineCode" in props):
        raise TemplateError(path, "needs exactly one of CodeUri and InlineCode")
    if "InlineCode" in props:
        return CodeRef("inline", text(props["InlineCode"], (path, "InlineCode")))
    uri = props["CodeUri"]
    if isinstance(uri, dict):
        raise TemplateError(
            join(path, "CodeUri"), "S3 locations are not supported; use a local path or sha256:<hex>"
        )
    uri = text(uri, (path, "CodeUri"))
    if not uri:
        raise TemplateError(join(path, "CodeUri"), "empty path")
    if uri.startswith("sha256:"):
        return CodeRef(
            "artifact", matching(uri, _ARTIFACT, "sha256: and 64 lowercase hex digits", join(path, "CodeUri"))
        )
    if uri.startswith("s3://"):
        raise TemplateError(
            join(path, "CodeUri"), "S3 locations are not supported; use a local path or sha256:<hex>"
        )
    return CodeRef("path", uri)


def _lambda_code(props: dict[str, Any], path: str) -> CodeRef:
    where = join(path, "Code")
    code = mapping(props.get("Code"), where)
    if set(code) != {"ZipFile"}:
        raise TemplateError(
            where,
            "only Code.ZipFile (inline source) is supported; for a directory use "
            "AWS::Serverless::Function CodeUri",
        )
    return CodeRef("inline", text(code["ZipFile"], join(where, "ZipFile")))


def _invoke_config(value: object, properties: dict[str, Any], scope: Scope, path: str) -> None:
    config = mapping(value, path)
    check_keys(config, ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig"), path)
    if "MaximumRetryAttempts" in config:
        where = join(path, "MaximumRetryAttempts")
        properties["max_retry_attempts"] = integer(config["MaximumRetryAttempts"], where, 0, 2)
    if "MaximumEventAgeInSeconds" in config:
        where = join(path, "MaximumEventAgeInSeconds")
        properties["max_event_age"] = integer(config["MaximumEventAgeInSeconds"], where, 60, 21600)
    if "DestinationConfig" not in config:
        return
    where = join(path, "DestinationConfig")
    destinations = mapping(config["DestinationConfig"], where)
    if "OnSuccess" in destinations:
        raise TemplateError(join(where, "OnSuccess"), "on-success destinations are not supported in Silo")
    check_keys(destinations, ("OnFailure",), where)
    if "OnFailure" not in destinations:
        return
    where = join(where, "OnFailure")
    failure = mapping(destinations["OnFailure"], where)
    check_keys(failure, ("Type", "Destination"), where)
    if failure.get("Type", "Lambda") != "Lambda":
        raise TemplateError(
            join(where, "Type"),
            f"only Lambda destinations are supported in Silo, got {show(failure['Type'])}",
        )
    destination = text(failure.get("Destination"), join(where, "Destination"))
    if destination.startswith("arn:"):
        prefix = scope.arn("lambda", "function:")
        if not destination.startswith(prefix):
            raise TemplateError(
                join(where, "Destination"), f"{show(destination)} is not a function of this account"
            )
        destination = destination[len(prefix) :]
    name = matching(
        destination, _names.FUNCTION_NAME[0], "a function name or ARN", join(where, "Destination")
    )
    properties["on_failure"] = {"function": name}


_DESTINATION = ("EventInvokeConfig", "DestinationConfig", "OnFailure", "Destination")
FUNCTION_TYPES = (
    ResourceType(
        "AWS::Serverless::Function",
        "function",
        _USED_SAM,
        _IGNORED_SAM,
        ("Arn",),
        _build(sam=True),
        account_paths=(
            _DESTINATION,
            ("Events", "*", "Properties", "EventBusName"),
            ("Events", "*", "Properties", "Stream"),
        ),
    ),
    ResourceType(
        "AWS::Lambda::Function", "function", _USED_LAMBDA, _IGNORED_LAMBDA, ("Arn",), _build(sam=False)
    ),
)
