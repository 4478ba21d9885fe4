"""What a handler sees inside an environment: the Lambda-style context object, logging, error shapes.

Everything here is set up once in the zygote, so a forked environment only fills in its constants.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import sys
import time
import traceback
from types import TracebackType
from typing import Any, ClassVar, TextIO

current_request_id = ""


class LambdaContext:
    """The ``context`` argument: per-invocation request id and deadline, per-environment constants."""

    __slots__ = ("_deadline", "aws_request_id")

    function_name: ClassVar[str] = ""
    function_version: ClassVar[str] = ""
    memory_limit_in_mb: ClassVar[int] = 0
    invoked_function_arn: ClassVar[str] = ""
    log_group_name: ClassVar[str] = ""
    log_stream_name: ClassVar[str] = ""
    account_id: ClassVar[str] = ""
    identity: ClassVar[Any] = None
    client_context: ClassVar[Any] = None
    logger: ClassVar[logging.Logger]

    def __init__(self, request_id: str, deadline: float) -> None:
        self.aws_request_id = request_id
        self._deadline = deadline

    @property
    def request_id(self) -> str:
        return self.aws_request_id

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    def __repr__(self) -> str:
        return f"LambdaContext(aws_request_id={self.aws_request_id!r}, function_name={self.function_name!r})"


class _Formatter(logging.Formatter):
    converter = staticmethod(time.gmtime)
    default_time_format = "%Y-%m-%dT%H:%M:%S"
    default_msec_format = "%s.%03dZ"

    def format(self, record: logging.LogRecord) -> str:
        record.aws_request_id = current_request_id
        return super().format(record)


def install_logging(stream: TextIO) -> logging.Logger:
    """Lambda's logging setup: a root handler with its format; root stays at WARNING, the
    ``context.logger`` at INFO. Returns that logger."""
    handler: logging.Handler = logging.StreamHandler(stream)
    handler.setFormatter(_Formatter("[%(levelname)s]\t%(asctime)s\t%(aws_request_id)s\t%(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    logger = logging.getLogger("silo.function")
    logger.setLevel(logging.INFO)
    LambdaContext.logger = logger
    return logger


_HIDDEN = (
    os.path.dirname(os.path.abspath(__file__)),
    os.path.dirname(importlib.__file__),
    "<frozen importlib",
)


def _frames(tb: TracebackType | None) -> list[str]:
    """The function's own frames: the runtime's and importlib's are left out."""
    if tb is None:
        return []
    frames = [frame for frame in traceback.extract_tb(tb) if not frame.filename.startswith(_HIDDEN)]
    return traceback.format_list(frames)


def error_from(
    exc: BaseException, error_type: str | None = None, message: str | None = None
) -> dict[str, Any]:
    """A Lambda error document for ``exc``."""
    tb = exc.__traceback__
    return {
        "errorType": error_type or type(exc).__name__,
        "errorMessage": str(exc) if message is None else message,
        "stackTrace": _frames(tb),
    }


def syntax_error(exc: SyntaxError, message: str) -> dict[str, Any]:
    """Lambda's shape for a syntax error: the file, the line number and the line."""
    where = f'  File "{exc.filename}" Line {exc.lineno}\n'
    if exc.text:
        where += f"        {exc.text.strip()}\n"
    return {"errorType": "Runtime.UserCodeSyntaxError", "errorMessage": message, "stackTrace": [where]}


def simple_error(error_type: str, message: str) -> dict[str, Any]:
    return {"errorType": error_type, "errorMessage": message, "stackTrace": []}


def log_error(error: dict[str, Any]) -> None:
    """Print an error the way Lambda's runtime does, so it shows up in the invocation's logs."""
    lines = [f"[ERROR] {error['errorType']}: {error['errorMessage']}\n"]
    if error.get("stackTrace"):
        lines.append("Traceback (most recent call last):\n")
        lines.extend(error["stackTrace"])
    stream = sys.__stderr__
    if stream is not None:
        with contextlib.suppress(OSError, ValueError):
            stream.write("".join(lines))
