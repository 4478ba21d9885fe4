"""An execution environment, from the moment a spare (``_spare``) takes a request: the rest of the
specialisation, init, then invocations until the host closes the socket.

By then the spare has done everything that does not depend on the function (fds, session, TMPDIR, log
file, fixed rlimits, umask, then, with the request, the drop to the environment's own user id and the
parent-death signal). What is left, before any function code runs: RLIMIT_AS for ``memory_mb``, a
clean environment (the function's variables and the reserved ones, nothing of the platform's), cwd and
``sys.path[0]`` = the code directory and the context constants. Init then imports the handler module
(timed) and reports INIT (with the init output, or the init error after which the environment exits).
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import json
import marshal
import os
import socket
import sys
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from silo.runtime import _context, _limits
from silo.runtime import _protocol as proto
from silo.runtime._serve import Logs, serve

_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_CACHE_TAG = sys.implementation.cache_tag


@dataclass(frozen=True, slots=True)
class Boot:
    """What every environment inherits from its zygote."""

    zygote_pid: int
    baseline_as: int
    drop: bool  # dedicated-user: each request names the uid/gid to become (see _uids)
    host_dir: str
    rehearsal_dir: str
    keep_fds: tuple[int, ...]  # see _paths


class InitFailure(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error["errorMessage"])
        self.error = error


def run(
    sock: socket.socket,
    reader: proto.FrameReader,
    req: dict[str, Any],
    boot: Boot,
    tmp_dir: str,
    started: float,
) -> int:
    """Specialise, import the handler, report INIT and serve; the process exit code."""
    logs = Logs()
    error: dict[str, Any] | None = None
    handler: Any = None
    try:
        specialise(req, boot, tmp_dir)
    except Exception as exc:
        error = _context.simple_error("Runtime.SandboxError", f"environment setup failed: {exc}")
    if error is None:
        try:
            handler = load_handler(req["handler"])
        except InitFailure as failure:
            error = failure.error
        except MemoryError:
            error = _context.simple_error("Runtime.OutOfMemory", "out of memory while importing the handler")
    if error is not None:
        _context.log_error(error)
    init_ms = (time.monotonic() - started) * 1000.0
    text = logs.take()
    body = b"" if error is None else json.dumps(error).encode()
    size = proto.INIT_HEAD.size - 5 + len(text) + len(body)
    head = proto.INIT_HEAD.pack(size, proto.INIT, init_ms, logs.offset, len(text))
    proto.send_parts(sock, (head, text, body))
    if error is not None:
        return 1
    return serve(sock, reader, handler, logs)


def specialise(req: dict[str, Any], boot: Boot, tmp_dir: str) -> None:
    _limits.limit_memory(req["memory_mb"], boot.baseline_as)
    replace_environ(environment_for(req, tmp_dir))
    code_dir = req["code_dir"]
    try:
        os.chdir(code_dir)
    except OSError as exc:
        raise OSError(f"the code directory is not accessible to uid {os.getuid()}: {exc}") from None
    sys.path.insert(0, code_dir)
    sys.dont_write_bytecode = True
    set_context(req)


def set_context(req: dict[str, Any]) -> None:
    """The per-environment constants of the handler's ``context``."""
    ctx = _context.LambdaContext
    ctx.function_name = req["function_name"]
    ctx.function_version = req["version"]
    ctx.memory_limit_in_mb = req["memory_mb"]
    ctx.invoked_function_arn = req["arn"]
    ctx.log_group_name = req["log_group"]
    ctx.log_stream_name = req["log_stream"]
    ctx.account_id = req["account_id"]


def environment_for(req: dict[str, Any], tmp_dir: str) -> dict[str, str]:
    """The function's own variables, then the reserved ones (which win)."""
    env = dict(req["environment"])
    env.update(
        AWS_LAMBDA_FUNCTION_NAME=req["function_name"],
        AWS_LAMBDA_FUNCTION_VERSION=req["version"],
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE=str(req["memory_mb"]),
        AWS_LAMBDA_LOG_GROUP_NAME=req["log_group"],
        AWS_LAMBDA_LOG_STREAM_NAME=req["log_stream"],
        LAMBDA_TASK_ROOT=req["code_dir"],
        _HANDLER=req["handler"],
        SILO_ACCOUNT_ID=req["account_id"],
        **base_environment(tmp_dir),
    )
    return env


def base_environment(tmp_dir: str) -> dict[str, str]:
    """The reserved variables that do not depend on the function (a spare sets them ahead)."""
    return {"TZ": ":UTC", "LANG": "C.UTF-8", "PATH": _PATH, "TMPDIR": tmp_dir, "HOME": tmp_dir}


def replace_environ(env: dict[str, str]) -> None:
    """Make both the C-level environment and ``os.environ`` exactly ``env``, changing only what differs.

    Done with putenv/unsetenv and ``os.environ``'s own dict instead of ``os.environ.clear()`` +
    ``update()``: those run MutableMapping's Python code per key, and every page that code touches is a
    copy-on-write fault in a forked child (about a hundred of them, several microseconds each).
    """
    data: dict[bytes, bytes] = getattr(os.environ, "_data")  # noqa: B009 - shared with os.environb
    wanted = {name.encode(): value.encode() for name, value in env.items()}
    for key in [key for key in data if key not in wanted]:
        os.unsetenv(key)
        del data[key]
    for key, value in wanted.items():
        if data.get(key) != value:
            os.putenv(key, value)
            data[key] = value


def load_handler(spec: str) -> Any:
    """Import ``module.function`` (or ``pkg.module.function``); Lambda's error types on failure."""
    module_name, dot, attr = spec.rpartition(".")
    if not dot or not module_name or not attr:
        message = f"Bad handler '{spec}': expected 'module.function' (not enough values to unpack)"
        raise InitFailure(_context.simple_error("Runtime.MalformedHandlerName", message))
    module_name = module_name.replace("/", ".")
    try:
        module = _import_from_pyc(module_name) or importlib.import_module(module_name)
    except SyntaxError as exc:
        message = f"Syntax error in module '{module_name}': {exc}"
        raise InitFailure(_context.syntax_error(exc, message)) from None
    except ImportError as exc:
        message = f"Unable to import module '{module_name}': {exc}"
        raise InitFailure(_context.simple_error("Runtime.ImportModuleError", message)) from None
    except MemoryError:
        raise
    except BaseException as exc:
        raise InitFailure(_context.error_from(exc)) from None
    func = getattr(module, attr, None)
    if func is None or not callable(func):
        missing = "missing on" if func is None else "is not callable in"
        message = f"Handler '{attr}' {missing} module '{module_name}'"
        raise InitFailure(_context.simple_error("Runtime.HandlerNotFound", message))
    return func


def _import_from_pyc(name: str) -> ModuleType | None:
    """Import a top-level module of the code directory (``sys.path[0]``) straight from its pyc.

    It is what the path finder would do, minus its machinery (a few hundred microseconds in a fresh
    fork), for the case ``prepare_code_dir`` sets up: ``name.py`` with an unchecked-hash pyc and
    nothing that would take precedence (a package ``name/`` or an extension module). Anything else
    returns None and goes through ``importlib``.
    """
    if "." in name or name in sys.modules:
        return None
    code_dir = sys.path[0]
    entries = os.listdir(code_dir)
    if (
        f"{name}.py" not in entries
        or name in entries
        or any(entry.startswith(f"{name}.") and entry.endswith(".so") for entry in entries)
    ):
        return None
    source = f"{code_dir}/{name}.py"
    if sys.pycache_prefix is None and _CACHE_TAG is not None:
        cached = f"{code_dir}/__pycache__/{name}.{_CACHE_TAG}.pyc"  # what cache_from_source gives
    else:
        cached = importlib.util.cache_from_source(source)
    try:
        with open(cached, "rb") as pyc:
            data = pyc.read()
    except OSError:
        return None
    if data[:4] != importlib.util.MAGIC_NUMBER or int.from_bytes(data[4:8], "little") != 0b01:
        return None
    code = marshal.loads(memoryview(data)[16:])
    loader = importlib.machinery.SourceFileLoader(name, source)
    spec = importlib.machinery.ModuleSpec(name, loader, origin=source)
    spec.has_location = True
    spec.cached = cached
    # What module_from_spec sets for a top-level source module, without its generic machinery.
    module = ModuleType(name)
    module.__spec__ = spec
    module.__loader__ = loader
    module.__package__ = ""
    module.__file__ = source
    module.__cached__ = cached  # type: ignore[attr-defined]
    sys.modules[name] = module
    try:
        exec(code, module.__dict__)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module
