"""Plain data for functions, versions and aliases, and the checks on what users send."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from silo.accounts.models import check_tags
from silo.errors import ValidationError

LATEST = "$LATEST"
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_HANDLER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
_RUNTIME = re.compile(r"^python3\.(1[1-9])$")
_ALIAS = re.compile(r"^(?!^[0-9]+$)[A-Za-z0-9_-]{1,128}$")
_ENV_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_RESERVED_ENV = re.compile(r"^(AWS_|LAMBDA_|SILO_|_HANDLER$|TZ$|PATH$|TMPDIR$|LANG$|PYTHON)")
MAX_ENV_BYTES = 4096
MIN_MEMORY, MAX_MEMORY = 128, 10240
MIN_TIMEOUT, MAX_TIMEOUT = 1, 900
DEFAULT_RUNTIME = "python3.11"


@dataclass(frozen=True, slots=True)
class FunctionConfig:
    """The settings of one function version (``$LATEST`` or a published number)."""

    name: str
    version: str
    handler: str
    runtime: str
    memory_size: int
    timeout: int
    environment: dict[str, str]
    description: str
    code_sha256: str
    code_size: int
    revision: str
    last_modified: datetime


@dataclass(frozen=True, slots=True)
class AsyncConfig:
    """What happens to ``Event`` invocations: retries on error, maximum age, where failures go."""

    max_retry_attempts: int = 2
    max_event_age: int = 21600
    on_failure: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Function:
    """``$LATEST`` plus the function-level settings that versions do not snapshot."""

    config: FunctionConfig
    reserved_concurrency: int | None
    tags: dict[str, str]
    async_config: AsyncConfig
    created_at: datetime
    last_version: int = 0

    @property
    def name(self) -> str:
        return self.config.name


@dataclass(frozen=True, slots=True)
class Alias:
    function_name: str
    name: str
    version: str
    description: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class FunctionSettings:
    """What a caller may set on create/update; ``None`` means "leave as is" on update."""

    handler: str | None = None
    runtime: str | None = None
    memory_size: int | None = None
    timeout: int | None = None
    environment: Mapping[str, str] | None = None
    description: str | None = None
    reserved_concurrency: int | None = None
    clear_reserved_concurrency: bool = False
    tags: Mapping[str, str] | None = None
    async_config: AsyncConfig | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def check_function_name(value: object, where: str = "name") -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValidationError(f"{where}: 1-64 letters, digits, '-' or '_'; got {value!r}", field=where)
    return value


def check_alias_name(value: object, where: str = "alias") -> str:
    if not isinstance(value, str) or not _ALIAS.match(value):
        raise ValidationError(
            f"{where}: 1-128 letters, digits, '-' or '_', not all digits; got {value!r}", field=where
        )
    return value


def check_settings(s: FunctionSettings, *, creating: bool) -> None:
    """Raise ``ValidationError`` naming the first bad field."""
    if creating and s.handler is None:
        raise ValidationError("handler: required, as module.function (e.g. app.handler)", field="handler")
    if s.handler is not None and (
        not isinstance(s.handler, str) or len(s.handler) > 128 or not _HANDLER.match(s.handler)
    ):
        raise ValidationError(
            f"handler: expected module.function (e.g. app.handler), got {s.handler!r}", field="handler"
        )
    if s.runtime is not None and (not isinstance(s.runtime, str) or not _RUNTIME.match(s.runtime)):
        raise ValidationError(
            f"runtime: python3.11 or later (python3.NN), got {s.runtime!r}", field="runtime"
        )
    _int_in(s.memory_size, "memory_size", MIN_MEMORY, MAX_MEMORY)
    _int_in(s.timeout, "timeout", MIN_TIMEOUT, MAX_TIMEOUT)
    _int_in(s.reserved_concurrency, "reserved_concurrency", 0, 100_000)
    if s.description is not None and (not isinstance(s.description, str) or len(s.description) > 256):
        raise ValidationError("description: at most 256 characters", field="description")
    if s.environment is not None:
        check_environment(s.environment)
    if s.tags is not None:
        check_tags(dict(s.tags))
    if s.async_config is not None:
        _int_in(s.async_config.max_retry_attempts, "max_retry_attempts", 0, 2)
        _int_in(s.async_config.max_event_age, "max_event_age", 60, 21600)
        target = s.async_config.on_failure
        if target is not None:
            if not isinstance(target, dict) or set(target) != {"function"}:
                raise ValidationError(
                    'on_failure: {"function": NAME} (a function of the same account)', field="on_failure"
                )
            check_function_name(target["function"], "on_failure.function")


def check_environment(env: Mapping[str, str]) -> None:
    if not isinstance(env, Mapping):
        raise ValidationError("environment: an object of NAME -> string", field="environment")
    for key, value in env.items():
        if not isinstance(key, str) or not _ENV_KEY.match(key):
            raise ValidationError(f"environment: bad variable name {key!r}", field="environment")
        if _RESERVED_ENV.match(key):
            raise ValidationError(f"environment.{key}: reserved by the runtime", field="environment")
        if not isinstance(value, str):
            raise ValidationError(
                f"environment.{key}: values are strings, got {type(value).__name__}", field="environment"
            )
    if len(json.dumps(dict(env))) > MAX_ENV_BYTES:
        raise ValidationError(f"environment: at most {MAX_ENV_BYTES} bytes in total", field="environment")


def _int_in(value: object, where: str, low: int, high: int) -> None:
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValidationError(f"{where}: an integer from {low} to {high}, got {value!r}", field=where)
