"""From a resolved template to desired resources: code bound to artifacts, function settings checked.

Code arrives with the template (the CLI zips each ``CodeUri`` directory, as ``sam package`` does) and
is stored content-addressed when a stack, change set or stack set is created; what the rows keep is
the *code map*, ``code key -> {"sha256", "size"}``. Templates may not name an artifact by hash: an
account could otherwise deploy code it never had.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from pathlib import PurePosixPath
from typing import Any

from silo.errors import ValidationError
from silo.functions.models import AsyncConfig, FunctionSettings, check_function_name, check_settings
from silo.functions.packaging import CodeArchive, check_archive, zip_sources
from silo.stacks.planning import Desired, canonical
from silo.templates import CodeRef, ResolvedTemplate, Resource, TemplateError

CodeMap = dict[str, dict[str, Any]]
"""code key -> {"sha256": hex, "size": bytes}, as stored on stacks, change sets and stack sets."""

_TEMPLATE_NAMES = {
    "handler": "Handler",
    "runtime": "Runtime",
    "memory_size": "MemorySize",
    "timeout": "Timeout",
    "environment": "Environment",
    "description": "Description",
    "reserved_concurrency": "ReservedConcurrentExecutions",
    "tags": "Tags",
    "max_retry_attempts": "EventInvokeConfig.MaximumRetryAttempts",
    "max_event_age": "EventInvokeConfig.MaximumEventAgeInSeconds",
    "on_failure": "EventInvokeConfig.DestinationConfig.OnFailure",
}


@functools.lru_cache(maxsize=1024)
def code_key(ref: CodeRef) -> str:
    if ref.kind == "inline":
        return "inline:" + hashlib.sha256(ref.value.encode()).hexdigest()
    if ref.kind == "path":
        return "path:" + normalise_code_path(ref.value)
    return f"{ref.kind}:{ref.value}"


@functools.lru_cache(maxsize=1024)
def normalise_code_path(path: str) -> str:
    """``src/``, ``./src`` and ``src`` name the same directory."""
    return str(PurePosixPath(path.replace("\\", "/"))) or "."


def function_code_refs(resolved: ResolvedTemplate) -> Iterator[tuple[Resource, CodeRef]]:
    for resource in resolved.resources.values():
        if resource.kind == "function":
            yield resource, resource.properties["code"]


def code_paths(resolved: ResolvedTemplate) -> set[str]:
    """The directories (or zips) the client must package and send with the template."""
    return {normalise_code_path(ref.value) for _, ref in function_code_refs(resolved) if ref.kind == "path"}


def package_code(
    resolved: ResolvedTemplate, bundle: Mapping[str, bytes], *, known: CodeMap | None = None
) -> tuple[CodeMap, dict[str, CodeArchive]]:
    """Check and key every archive the template's functions need; refuse what is missing or extra.

    Returns the code map and the archives to store. A path not in ``bundle`` but in ``known`` (the
    code map of the previous version) keeps its earlier code.
    """
    given = {normalise_code_path(path): data for path, data in bundle.items()}
    archives: dict[str, CodeArchive] = {}
    kept: CodeMap = {}
    for resource, ref in function_code_refs(resolved):
        where = f"Resources.{resource.logical_id}.Properties.CodeUri"
        key = code_key(ref)
        if key in archives or key in kept:
            continue
        if ref.kind == "path" and known and key in known and normalise_code_path(ref.value) not in given:
            kept[key] = known[key]
            continue
        if ref.kind == "artifact":
            raise TemplateError(
                where, "code is deployed with the template; naming an artifact by hash is not allowed"
            )
        if ref.kind == "inline":
            archives[key] = check_archive(zip_sources({"index.py": ref.value}))
            continue
        path = normalise_code_path(ref.value)
        if path not in given:
            raise TemplateError(
                where, f"no code was sent for {ref.value!r} (package the directory with the template)"
            )
        try:
            archives[key] = check_archive(given[path])
        except ValidationError as exc:
            raise TemplateError(where, exc.message) from None
    unused = set(given) - {k.removeprefix("path:") for k in archives}
    if unused:
        raise ValidationError(f"code: sent for paths no function uses: {sorted(unused)}", field="code")
    return {**kept, **code_map(archives)}, archives


def code_map(archives: Mapping[str, CodeArchive]) -> CodeMap:
    return {key: {"sha256": a.sha256, "size": a.size} for key, a in archives.items()}


def desired_resources(resolved: ResolvedTemplate, code: CodeMap) -> list[Desired]:
    """Every resource of ``resolved`` in dependency order, functions checked and bound to their code.

    The resolved ``properties`` are read-only (:func:`silo.templates.prepare` shares them between
    accounts), and so are the ``properties`` of the results, which may be shared the same way.
    """
    desired: list[Desired] = []
    for resource in resolved.resources.values():
        properties, sha, encoded = _encoded(resource, code)
        desired.append(
            Desired(
                logical_id=resource.logical_id,
                type=resource.type,
                kind=resource.kind,
                physical_name=resource.physical_name,
                arn=resource.arn,
                properties=properties,
                digest=sha,
                encoded=encoded,
            )
        )
    return desired


_Encoded = tuple[dict[str, Any], str, str]
"""Desired properties, their digest and their canonical JSON."""

# A fleet deploys the same properties (one dict, shared by prepare()) to thousands of accounts: the
# binding, encoding, digest and checks of a dict are done once. Keyed by the dict's id, whose entry
# keeps the dict alive so that the id is not reused, and by everything else the result depends on.
# Only a dict seen before (by id: a reused id only admits a dict early) is kept, so that the dicts
# made for one account do not fill the cache.
_ENCODED: OrderedDict[tuple[Any, ...], tuple[dict[str, Any], _Encoded]] = OrderedDict()
_SEEN: dict[tuple[Any, ...], None] = {}
_ENCODED_MAX = 8192
_ENCODED_LOCK = threading.Lock()


def _encoded(resource: Resource, code: CodeMap) -> _Encoded:
    source = resource.properties
    key: tuple[Any, ...] = (id(source), resource.kind, resource.deletion_policy)
    if resource.kind == "function":
        bound = code.get(code_key(source["code"]))
        if bound is None:
            return _encode(resource, code)  # the error
        key += (resource.logical_id, resource.physical_name, bound.get("sha256"), bound.get("size"))
        try:
            hash(key)
        except TypeError:  # not a code map this module wrote
            return _encode(resource, code)
    with _ENCODED_LOCK:
        found = _ENCODED.get(key)
        if found is not None:
            _ENCODED.move_to_end(key)
            return found[1]
    result = _encode(resource, code)
    with _ENCODED_LOCK:
        if _SEEN.pop(key, False) is None:
            _ENCODED[key] = (source, result)
            if len(_ENCODED) > _ENCODED_MAX:
                _ENCODED.popitem(last=False)
        else:
            _SEEN[key] = None
            if len(_SEEN) > _ENCODED_MAX:
                del _SEEN[next(iter(_SEEN))]
    return result


def _encode(resource: Resource, code: CodeMap) -> _Encoded:
    properties = resource.properties
    if resource.kind == "function":
        properties = _bind_function(resource, code)
    elif resource.kind == "table":
        # recorded with the table, so that removing it (the template gone) knows whether to keep it
        properties = {**properties, "deletion_policy": resource.deletion_policy}
    encoded = canonical(properties)
    sha = hashlib.sha256(encoded.encode()).hexdigest()
    if resource.kind == "function" and sha not in _CHECKED:
        properties = _check_function(resource, properties)
        encoded = canonical(properties)
        sha = hashlib.sha256(encoded.encode()).hexdigest()
        _CHECKED[sha] = None
        if len(_CHECKED) > 4096:
            _CHECKED.pop(next(iter(_CHECKED)))
    return properties, sha, encoded


# Digests of function properties that passed the checks: a fleet deploys the same function to
# thousands of accounts, and the checks depend on nothing else.
_CHECKED: dict[str, None] = {}


def _bind_function(resource: Resource, code: CodeMap) -> dict[str, Any]:
    props = dict(resource.properties)
    bound = code.get(code_key(props["code"]))
    if bound is None:
        raise TemplateError(f"Resources.{resource.logical_id}.Properties.CodeUri", "no packaged code for it")
    props["code"] = {"sha256": bound["sha256"], "size": bound["size"]}
    props["name"] = resource.physical_name
    props["max_retry_attempts"] = _default(props.get("max_retry_attempts"), 2)
    props["max_event_age"] = _default(props.get("max_event_age"), 21600)
    return props


def _check_function(resource: Resource, props: dict[str, Any]) -> dict[str, Any]:
    try:
        check_function_name(resource.physical_name)
    except ValidationError as exc:
        raise TemplateError(f"Resources.{resource.logical_id}.Properties.FunctionName", exc.message) from None
    settings = FunctionSettings(
        handler=props["handler"],
        runtime=props["runtime"],
        memory_size=props["memory_size"],
        timeout=props["timeout"],
        environment=props["environment"],
        description=props["description"],
        reserved_concurrency=props.get("reserved_concurrency"),
        tags=props["tags"],
        async_config=AsyncConfig(
            props["max_retry_attempts"], props["max_event_age"], props.get("on_failure")
        ),
    )
    try:
        check_settings(settings, creating=True)
    except ValidationError as exc:
        field = str(exc.details.get("field", ""))
        name = _TEMPLATE_NAMES.get(field, field)
        raise TemplateError(f"Resources.{resource.logical_id}.Properties.{name}", exc.message) from None
    return props


def _default(value: Any, fallback: int) -> int:
    return fallback if value is None else int(value)
