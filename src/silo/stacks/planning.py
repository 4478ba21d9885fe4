"""What a deploy would change: desired resources against what the stack recorded. Pure."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from silo.stacks.models import Change


@dataclass(frozen=True, slots=True)
class Desired:
    """A resolved resource with its code bound to an artifact, ready to compare and write."""

    logical_id: str
    type: str
    kind: str
    physical_name: str
    arn: str
    properties: dict[str, Any]
    digest: str
    encoded: str = ""
    """``properties`` as canonical JSON (what ``digest`` hashes), written as is."""


@dataclass(frozen=True, slots=True)
class Recorded:
    """A resource as its stack last wrote it."""

    logical_id: str
    type: str
    kind: str
    physical_name: str
    properties: dict[str, Any]
    digest: str
    revision: str | None = None


def canonical(properties: Mapping[str, Any]) -> str:
    return json.dumps(properties, sort_keys=True, separators=(",", ":"), default=str)


def digest(properties: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(properties).encode()).hexdigest()


def plan(current: Mapping[str, Recorded], desired: Sequence[Desired], *, detail: bool = True) -> list[Change]:
    """Adds and modifications in dependency order, then removals in reverse recorded order.

    With ``detail`` a modification names the properties that differ (``current`` must then carry
    recorded properties); without it only digests are compared.
    """
    changes: list[Change] = []
    wanted = {d.logical_id for d in desired}
    for want in desired:
        have = current.get(want.logical_id)
        if have is None:
            changes.append(Change("Add", want.logical_id, want.type, want.kind, want.physical_name))
        elif have.digest != want.digest or have.physical_name != want.physical_name or have.type != want.type:
            replacement = have.physical_name != want.physical_name or have.kind != want.kind
            changes.append(
                Change(
                    "Modify",
                    want.logical_id,
                    want.type,
                    want.kind,
                    want.physical_name,
                    replacement=replacement,
                    properties=changed_properties(have.properties, want.properties) if detail else (),
                )
            )
    for logical_id in reversed(list(current)):
        if logical_id not in wanted:
            have = current[logical_id]
            changes.append(Change("Remove", logical_id, have.type, have.kind, have.physical_name))
    return changes


def changed_properties(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[str, ...]:
    keys = set(before) | set(after)
    return tuple(sorted(k for k in keys if before.get(k) != after.get(k)))
