"""``StacksEngine``: the platform-wide parts of stacks, shared by every account and the fleet.

It owns the content-addressed template bodies (a stack set's template is stored once, parsed once
per process) and the code archives that come with templates, and tells the other engines what a
committed deploy changed.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from silo.errors import NotFound
from silo.events.models import Rule
from silo.functions import ArtifactStore
from silo.functions.packaging import CodeArchive
from silo.store import Store, utcnow
from silo.store.schema import fleet_templates
from silo.templates import Template, load_template, mask_parameters

if TYPE_CHECKING:
    from silo.stacks.deployer import DeployOutcome

MAX_PARSED_TEMPLATES = 64
MAX_NO_ECHO = 4096

FunctionsChanged = Callable[[str, Iterable[str]], None]
"""Told (account, function names) after a commit that changed those functions."""
TablesChanged = Callable[[str, Iterable[str]], None]
"""Told (account, table names) after a commit that created, changed or deleted those tables."""


class SchedulesListener(Protocol):
    """Told about the rules a committed deploy put or removed (the events engine's schedule timer)."""

    def schedules_changed(self, account: str, rules: Sequence[Rule]) -> None: ...

    def schedules_removed(self, account: str, rules: Sequence[Rule]) -> None: ...


class StacksEngine:
    def __init__(
        self,
        store: Store,
        artifacts: ArtifactStore,
        functions_changed: FunctionsChanged,
        schedules: SchedulesListener | None = None,
        tables_changed: TablesChanged | None = None,
    ) -> None:
        self.store = store
        self.artifacts = artifacts
        self.functions_changed = functions_changed
        self.schedules = schedules
        self.tables_changed = tables_changed
        self._lock = threading.Lock()
        self._parsed: OrderedDict[str, Template] = OrderedDict()
        self._no_echo: OrderedDict[str, frozenset[str]] = OrderedDict()

    def committed(self, outcome: DeployOutcome) -> None:
        """After the transaction that wrote ``outcome`` committed: drop cached function targets and
        table definitions, and arm or disarm the schedules of the rules it put or removed."""
        account = outcome.job.account_id
        if outcome.functions_changed:
            self.functions_changed(account, outcome.functions_changed)
        if outcome.tables_changed and self.tables_changed is not None:
            self.tables_changed(account, outcome.tables_changed)
        if self.schedules is not None:
            self.schedules.schedules_removed(account, outcome.rules_removed)
            self.schedules.schedules_changed(account, outcome.rules_changed)

    def put_template(self, conn: sa.Connection, body: str) -> str:
        """Store a template body (once per distinct text); returns its sha256."""
        sha = hashlib.sha256(body.encode()).hexdigest()
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        conn.execute(
            insert(fleet_templates)
            .values(sha256=sha, body=body, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["sha256"])
        )
        return sha

    def put_code(self, conn: sa.Connection, archives: Mapping[str, CodeArchive]) -> None:
        stored: set[str] = set()
        for archive in archives.values():
            if archive.sha256 not in stored:
                self.artifacts.put(conn, archive)
                stored.add(archive.sha256)

    def template(self, conn: sa.Connection, sha: str) -> Template:
        """The parsed template stored under ``sha`` (cached: templates never change)."""
        with self._lock:
            hit = self._parsed.get(sha)
            if hit is not None:
                self._parsed.move_to_end(sha)
                return hit
        body = conn.execute(sa.select(fleet_templates.c.body).where(fleet_templates.c.sha256 == sha)).scalar()
        if body is None:
            raise NotFound(f"template {sha} is not stored")
        parsed = load_template(body)
        with self._lock:
            self._parsed[sha] = parsed
            while len(self._parsed) > MAX_PARSED_TEMPLATES:
                self._parsed.popitem(last=False)
        return parsed

    def no_echo(self, conn: sa.Connection, sha: str) -> frozenset[str]:
        """The ``NoEcho`` parameters of the template stored under ``sha``: what every description of
        a stack, change set, stack set or instance masks. A pure function of the (immutable)
        template, so it is cached apart from the parsed templates, for many more of them."""
        with self._lock:
            hit = self._no_echo.get(sha)
            if hit is not None:
                self._no_echo.move_to_end(sha)
                return hit
        found = self.template(conn, sha).no_echo
        with self._lock:
            self._no_echo[sha] = found
            while len(self._no_echo) > MAX_NO_ECHO:
                self._no_echo.popitem(last=False)
        return found

    def shown_parameters(self, conn: sa.Connection, sha: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """``values`` (parameters or overrides for the template ``sha``) as a description shows them:
        ``NoEcho`` values masked. Rows keep the real values; only what is returned is masked."""
        return mask_parameters(values, self.no_echo(conn, sha))

    def template_body(self, conn: sa.Connection, sha: str) -> str:
        body = conn.execute(sa.select(fleet_templates.c.body).where(fleet_templates.c.sha256 == sha)).scalar()
        if body is None:
            raise NotFound(f"template {sha} is not stored")
        return str(body)
