"""Request bodies and views of the function endpoints."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from silo.api.schemas import RequestBody, Text
from silo.api.views import View
from silo.dlq import DeadLetter
from silo.errors import ValidationError
from silo.functions import AsyncConfig, Function, FunctionSettings


class Code(RequestBody):
    zip_base64: str = Field(description="The function's files as a zip archive, base64-encoded.")

    def archive(self) -> bytes:
        try:
            return base64.b64decode(self.zip_base64, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError("code.zip_base64: not valid base64", field="code.zip_base64") from None


class OnFailure(RequestBody):
    function: Text


class AsyncSettings(RequestBody):
    max_retry_attempts: int = 2
    max_event_age: int = 21600
    on_failure: OnFailure | None = None

    def config(self) -> AsyncConfig:
        target = {"function": self.on_failure.function} if self.on_failure else None
        return AsyncConfig(self.max_retry_attempts, self.max_event_age, target)


class _Settings(RequestBody):
    handler: Text | None = None
    runtime: Text | None = None
    memory_size: int | None = None
    timeout: int | None = None
    environment: dict[Text, Text] | None = None
    description: Annotated[Text, Field(max_length=256)] | None = None
    reserved_concurrency: int | None = None
    tags: dict[Text, Text] | None = None
    async_config: AsyncSettings | None = None

    def settings(self, *, clear_reserved: bool = False) -> FunctionSettings:
        return FunctionSettings(
            handler=self.handler,
            runtime=self.runtime,
            memory_size=self.memory_size,
            timeout=self.timeout,
            environment=self.environment,
            description=self.description,
            reserved_concurrency=self.reserved_concurrency,
            clear_reserved_concurrency=clear_reserved,
            tags=self.tags,
            async_config=self.async_config.config() if self.async_config else None,
        )


class FunctionCreate(_Settings):
    name: Text
    handler: Text
    code: Code


class FunctionUpdate(_Settings):
    clear_reserved_concurrency: bool = False


class PublishVersion(RequestBody):
    description: Annotated[Text, Field(max_length=256)] | None = None


class AliasCreate(RequestBody):
    name: Text
    version: Text
    description: Annotated[Text, Field(max_length=256)] = ""


class AliasUpdate(RequestBody):
    version: Text
    description: Annotated[Text, Field(max_length=256)] = ""


class FunctionVersionView(View):
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


class AsyncConfigView(View):
    max_retry_attempts: int
    max_event_age: int
    on_failure: dict[str, str] | None


class FunctionView(FunctionVersionView):
    reserved_concurrency: int | None
    tags: dict[str, str]
    async_config: AsyncConfigView
    created_at: datetime
    last_version: int

    @classmethod
    def of(cls, function: Function) -> FunctionView:
        return cls.model_validate(
            {
                **FunctionVersionView.model_validate(function.config).model_dump(),
                "reserved_concurrency": function.reserved_concurrency,
                "tags": function.tags,
                "async_config": AsyncConfigView.model_validate(function.async_config),
                "created_at": function.created_at,
                "last_version": function.last_version,
            }
        )


class FunctionPage(BaseModel):
    items: list[FunctionView]
    next_token: str | None


class VersionList(BaseModel):
    items: list[FunctionVersionView]


class AliasView(View):
    function_name: str
    name: str
    version: str
    description: str
    created_at: datetime
    updated_at: datetime


class AliasList(BaseModel):
    items: list[AliasView]


class LogEventView(View):
    event_id: int
    at: datetime
    request_id: str | None
    message: str


class LogList(BaseModel):
    items: list[LogEventView]


class MetricView(BaseModel):
    sum: float
    count: int
    min: float
    max: float
    average: float


class MetricsView(BaseModel):
    function_name: str
    minutes: int
    metrics: dict[str, MetricView]


class Accepted(BaseModel):
    invocation_id: str


class DeadLetterView(BaseModel):
    entry_id: str
    account_id: str
    source: str
    target: dict[str, Any]
    payload: Any
    reason: str
    error: dict[str, Any] | None
    attempts: int
    first_at: datetime
    last_at: datetime
    redriven_at: datetime | None

    @classmethod
    def of(cls, entry: DeadLetter) -> DeadLetterView:
        try:
            payload: Any = json.loads(entry.payload)
        except ValueError:
            payload = entry.payload.decode("utf-8", "replace")
        return cls(
            entry_id=entry.entry_id,
            account_id=entry.account_id,
            source=entry.source,
            target=entry.target,
            payload=payload,
            reason=entry.reason,
            error=entry.error,
            attempts=entry.attempts,
            first_at=entry.first_at,
            last_at=entry.last_at,
            redriven_at=entry.redriven_at,
        )


class DeadLetterPage(BaseModel):
    items: list[DeadLetterView]
    next_token: str | None
