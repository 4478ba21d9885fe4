"""Schedules changed on one node, armed on the others: PostgreSQL ``LISTEN``/``NOTIFY``.

Every node holds every enabled schedule in its own timer (decision 0011). A node that puts, changes,
enables, disables or deletes a scheduled rule arms it in its own timer at once and then tells the
other nodes with one ``NOTIFY`` (the rules' keys, after the commit). Each node has one listener
thread on a connection of its own, asleep in ``poll()`` on that connection's socket: while nothing
changes it never wakes (psycopg's own ``notifies()`` polls ten times a second, so it is not used).
A notification makes the node read those rules back and arm or drop them. After a lost connection
the listener connects again and re-arms every schedule, which covers what it missed; a fire that a
stale schedule would still make is refused by ``timer.fires_at`` in any case.

The channel is per database schema, so platforms in other schemas of the same database (tests) do
not hear each other. SQLite is one node: there is nobody to tell, and no listener.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import select
import threading
from collections.abc import Callable, Sequence

import psycopg
import sqlalchemy as sa

from silo.store import Store
from silo.store.ids import new_id

log = logging.getLogger(__name__)
RuleKey = tuple[str, str, str]
"""(account, bus, rule)"""
PAYLOAD_LIMIT = 7_000  # bytes of one notification (PostgreSQL's limit is 8,000)
RECONNECT_S = 5.0
_NOTIFY = sa.text("SELECT pg_notify(:channel, :payload)")


def channel_for(schema: str | None) -> str:
    return "silo_schedules_" + hashlib.sha256((schema or "public").encode()).hexdigest()[:16]


def payloads(node: str, keys: Sequence[RuleKey]) -> list[str]:
    """``keys`` as few notification payloads as fit (each ``{"node", "rules"}`` JSON)."""
    out: list[str] = []
    batch: list[RuleKey] = []
    size = 0
    for key in keys:
        entry = len(json.dumps(list(key))) + 1
        if batch and size + entry > PAYLOAD_LIMIT:
            out.append(json.dumps({"node": node, "rules": batch}))
            batch, size = [], 0
        batch.append(key)
        size += entry
    if batch:
        out.append(json.dumps({"node": node, "rules": batch}))
    return out


class ScheduleSync:
    """``publish`` tells the other nodes; ``start`` listens for them (PostgreSQL stores only)."""

    def __init__(
        self,
        store: Store,
        reload: Callable[[list[RuleKey]], None],
        reload_all: Callable[[], None],
    ) -> None:
        self._store = store
        self._reload = reload
        self._reload_all = reload_all
        self.node = new_id()
        self.channel = channel_for(store.schema)
        self._stop = threading.Event()
        self._wake_r, self._wake_w = os.pipe()
        self._thread: threading.Thread | None = None
        self.listening = threading.Event()  # set while a LISTEN is in place (for tests)
        self.backend_pid: int | None = None  # the listening connection's server process
        self.reconnect_s = RECONNECT_S

    def publish(self, keys: Sequence[RuleKey]) -> None:
        if not keys:
            return
        try:
            with self._store.engine.begin() as conn:
                for payload in payloads(self.node, keys):
                    conn.execute(_NOTIFY, {"channel": self.channel, "payload": payload})
        except sa.exc.SQLAlchemyError:  # the rule is stored; the others arm it when they reconnect
            log.exception("could not tell the other nodes about %d changed schedules", len(keys))

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="silo-schedule-sync", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")
        if self._thread is not None:
            self._thread.join(timeout=10)
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    # --- the listener ---------------------------------------------------------------------------
    def _run(self) -> None:
        first = True
        while not self._stop.is_set():
            try:
                with self._connect() as conn:
                    if not first:
                        self._reload_all()
                    first = False
                    self.listening.set()
                    self._listen(conn)
            except Exception:
                if self._stop.is_set():
                    return
                log.exception("schedule notifications lost; listening again in %.1f s", self.reconnect_s)
            finally:
                self.listening.clear()
            self._stop.wait(self.reconnect_s)

    def _connect(self) -> psycopg.Connection[tuple[object, ...]]:
        url = self._store.engine.url.set(drivername="postgresql")
        options = f"-csearch_path={self._store.schema}" if self._store.schema else ""
        conn = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True, options=options)
        conn.execute(f'LISTEN "{self.channel}"')
        self.backend_pid = conn.info.backend_pid
        return conn

    def _listen(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        pgconn = conn.pgconn
        poller = select.poll()
        poller.register(pgconn.socket, select.POLLIN | select.POLLERR | select.POLLHUP)
        poller.register(self._wake_r, select.POLLIN)
        while True:
            ready = dict(poller.poll())
            if self._stop.is_set() or self._wake_r in ready:
                return
            pgconn.consume_input()  # raises once the connection is gone
            keys: list[RuleKey] = []
            while (note := pgconn.notifies()) is not None:
                keys += self._keys(note.extra.decode())
            if keys:
                self._reload(keys)
            if ready.get(pgconn.socket, 0) & (select.POLLERR | select.POLLHUP):
                raise ConnectionError("the notification connection was closed")

    def _keys(self, payload: str) -> list[RuleKey]:
        try:
            body = json.loads(payload)
            if body.get("node") == self.node:
                return []  # our own change: armed already
            return [(str(a), str(b), str(r)) for a, b, r in body["rules"]]
        except (ValueError, TypeError, KeyError, AttributeError):
            log.warning("ignoring a malformed schedule notification: %.200s", payload)
            return []
