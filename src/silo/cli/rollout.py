"""Options shared by the commands that start fleet operations: targets, waves and preferences.

Each turns into the API's objects (``targets``, ``waves``, ``preferences``); only what was given
is sent, so the server's defaults apply to the rest.
"""

from __future__ import annotations

import enum
import json
from typing import Annotated, Any

import typer

from silo.cli.options import TagPairs, pairs


class Mode(enum.StrEnum):
    strict = "strict"
    soft = "soft"


AccountTargets = Annotated[
    list[str] | None,
    typer.Option("--account", help="A target account id (repeatable).", show_default=False),
]
OuTargets = Annotated[
    list[str] | None,
    typer.Option("--ou", help="A target OU: every account below it (repeatable).", show_default=False),
]
TagTargets = TagPairs
WaveJson = Annotated[
    list[str] | None,
    typer.Option(
        "--wave",
        help='A wave, in order, as JSON: {"name": "canary", "ous": [...], "accounts": [...], '
        '"tags": {...}, "soak_seconds": 60, "halt_on_failure": true} (repeatable).',
        show_default=False,
    ),
]
MaxConcurrent = Annotated[
    str | None,
    typer.Option("--max-concurrent", help="Accounts deployed at once: a count (10) or a share (25%)."),
]
FailureTolerance = Annotated[
    str | None,
    typer.Option("--failure-tolerance", help="Failed accounts allowed before the operation stops (2 or 5%)."),
]
ConcurrencyMode = Annotated[
    Mode | None,
    typer.Option("--mode", help="strict: lower concurrency as failures add up; soft: keep it (StackSets)."),
]
MaxAttempts = Annotated[
    int | None,
    typer.Option("--max-attempts", min=1, max=20, help="Attempts per account for transient errors (1..20)."),
]
Watch = Annotated[
    bool, typer.Option("--watch", help="Follow the operation's progress live until it finishes.")
]


def targets_body(
    account: list[str] | None, ou: list[str] | None, tag: list[str] | None
) -> dict[str, Any] | None:
    """The API's ``targets`` from --account/--ou/--tag, or None when none was given."""
    targets: dict[str, Any] = {}
    if account:
        targets["accounts"] = list(account)
    if ou:
        targets["ous"] = list(ou)
    if tag:
        targets["tags"] = pairs(tag)
    return targets or None


def required_targets(
    account: list[str] | None, ou: list[str] | None, tag: list[str] | None
) -> dict[str, Any]:
    targets = targets_body(account, ou, tag)
    if targets is None:
        raise typer.BadParameter(
            "name the accounts: --account ID, --ou OU or --tag K=V", param_hint="'--account'"
        )
    return targets


def waves_body(waves: list[str] | None) -> list[dict[str, Any]]:
    """Each --wave JSON object as the API's wave; ``accounts``/``ous``/``tags`` may sit at its top level."""
    parsed: list[dict[str, Any]] = []
    for index, text in enumerate(waves or [], start=1):
        try:
            wave = json.loads(text)
        except json.JSONDecodeError as exc:
            raise typer.BadParameter(
                f"wave {index} is not valid JSON: {exc}", param_hint="'--wave'"
            ) from None
        if not isinstance(wave, dict):
            raise typer.BadParameter(f"wave {index}: expected a JSON object", param_hint="'--wave'")
        lifted = {k: wave.pop(k) for k in ("accounts", "ous", "tags") if k in wave}
        if lifted:
            if "targets" in wave:
                raise typer.BadParameter(
                    f"wave {index}: give targets, or accounts/ous/tags, not both", param_hint="'--wave'"
                )
            wave["targets"] = lifted
        parsed.append(wave)
    return parsed


def preferences_body(
    max_concurrent: str | None,
    failure_tolerance: str | None,
    mode: Mode | None,
    max_attempts: int | None,
) -> dict[str, Any] | None:
    """The API's ``preferences`` with the options that were given (None when none was)."""
    given: dict[str, Any] = {
        "max_concurrent": max_concurrent,
        "failure_tolerance": failure_tolerance,
        "concurrency_mode": mode.value if mode is not None else None,
        "max_attempts": max_attempts,
    }
    chosen = {k: v for k, v in given.items() if v is not None}
    return chosen or None
