"""``EventsEngine``: the platform-wide parts of the events service, shared by every account.

It owns no account's data: each account reaches it through its own ``Events`` scope. It keeps the
cache of compiled buses, the durable delivery queue and its one dispatcher, and delivers claimed
batches through the target kinds the platform registers (functions, state machines).

Delivery is push: accepting an event writes its deliveries and wakes the dispatcher; while nothing
is due the dispatcher sleeps without a timeout, so an idle platform has no wake-ups.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa

from silo.dlq import DeadLetterQueue
from silo.errors import NotFound, SiloError, Throttled, ValidationError
from silo.events.bus_index import BusIndexCache, CompiledBus, CompiledRule
from silo.events.deliveries import BATCH, Delivery, DeliveryQueue, delivery_of, delivery_row
from silo.events.models import (
    MAX_HOPS,
    METRICS_NAMESPACE,
    Rule,
    TargetKind,
    TargetRef,
    rule_dimension,
    target_ref,
)
from silo.events.repository import scheduled_rule, scheduled_rules
from silo.events.schedule_sync import RuleKey, ScheduleSync
from silo.events.throttle import InvocationRate
from silo.events.timer import Fire, ScheduleTimer, StaleSchedule, rule_key
from silo.store import Store, utcnow
from silo.telemetry import Metrics
from silo.transport import Dispatcher

if TYPE_CHECKING:
    from silo.events.service import Events

log = logging.getLogger(__name__)
NAMESPACE = METRICS_NAMESPACE
DLQ_SOURCE = "events"


class TargetBatch(Protocol):
    """One delivery batch's work for one kind of target."""

    def add(self, account: str, ref: TargetRef, payload: bytes, source: str) -> None:
        """Take one delivery, or raise a :class:`SiloError` (e.g. ``NotFound``) when the target
        cannot take it now; nothing is written yet."""

    def write(self, conn: sa.Connection) -> None:
        """Write what was taken, in the delivering transaction."""

    def after_commit(self) -> None: ...


class TargetKindHandler(Protocol):
    def batch(self) -> TargetBatch: ...


class EventLoop(SiloError):
    code = "EventLoopDetected"
    http_status = 400


class EventsEngine:
    def __init__(
        self,
        store: Store,
        dlq: DeadLetterQueue,
        metrics: Metrics,
        *,
        retry_base: timedelta = timedelta(seconds=1),
        retry_max: timedelta = timedelta(minutes=5),
        lease: timedelta = timedelta(seconds=60),
        workers: int = 2,
        invocations_per_s: float = 10_000.0,
    ) -> None:
        self.store = store
        self.dlq = dlq
        self.metrics = metrics
        self.cache = BusIndexCache()
        self.queue = DeliveryQueue(store)
        self.retry_base = retry_base
        self.retry_max = retry_max
        self.rate = InvocationRate(invocations_per_s)
        self._handlers: dict[TargetKind, TargetKindHandler] = {}
        self._scope_for: Callable[[str], Events] | None = None
        self.timer = ScheduleTimer(self.fire)
        self.sync = (
            ScheduleSync(store, self._rearm, self._rearm_all) if store.dialect == "postgresql" else None
        )
        self.dispatcher: Dispatcher[list[Delivery]] = Dispatcher(
            self.queue, self.deliver_batch, workers=workers, lease=lease, name="silo-events"
        )

    def bind(
        self, scope_for: Callable[[str], Events], handlers: Mapping[TargetKind, TargetKindHandler]
    ) -> None:
        """The platform says how to act inside an account, and who takes each kind of target."""
        self._scope_for = scope_for
        self._handlers = dict(handlers)

    def resume(self) -> None:
        """After a restart: arm every schedule, and deliver what was accepted but not delivered."""
        self._rearm_all()
        if self.sync is not None:
            self.sync.start()
        if self.queue.pending():
            self.dispatcher.wake()

    def close(self) -> None:
        if self.sync is not None:
            self.sync.close()
        self.timer.stop()
        self.dispatcher.stop()

    # --- schedules ------------------------------------------------------------------------------
    def schedules_changed(self, account: str, rules: Sequence[Rule]) -> None:
        """(After the commit.) ``rules`` were put or their state changed: arm them here, and tell the
        other nodes in one notification."""
        told: list[RuleKey] = []
        for rule in rules:
            if rule.schedule is not None or rule_key(account, rule.bus, rule.name) in self.timer:
                self.timer.changed(account, rule)
                told.append((account, rule.bus, rule.name))
        if self.sync is not None:
            self.sync.publish(told)

    def schedules_removed(self, account: str, rules: Sequence[Rule]) -> None:
        told: list[RuleKey] = []
        for rule in rules:
            if rule.schedule is not None:
                self.timer.removed(account, rule.bus, rule.name)
                told.append((account, rule.bus, rule.name))
        if self.sync is not None:
            self.sync.publish(told)

    def _rearm(self, keys: list[RuleKey]) -> None:
        """(Another node changed these rules.) Arm them as stored, or drop them."""
        with self.store.read() as conn:
            rules = [(key, scheduled_rule(conn, *key)) for key in keys]
        for (account, bus, name), rule in rules:
            if rule is None:
                self.timer.removed(account, bus, name)
            else:
                self.timer.changed(account, rule)

    def _rearm_all(self) -> None:
        """(Start, and after lost notifications.) Arm every enabled schedule as stored."""
        with self.store.read() as conn:
            self.timer.load(scheduled_rules(conn))

    def fire(self, fires: Sequence[Fire]) -> None:
        """Deliver due schedule fires (the timer's batch) in one transaction."""
        assert self._scope_for is not None, "bind was not called"
        rows: list[dict[str, Any]] = []
        samples: dict[str, list[tuple[str, str, float]]] = {}
        gone: list[tuple[str, str, str]] = []
        stale: list[StaleSchedule] = []
        with self.store.write() as conn:
            for account, bus, rule, at in fires:
                try:
                    fired = self._scope_for(account).fire_schedule(conn, bus, rule, at)
                except NotFound:  # deleted or disabled on another node, or the account was purged
                    gone.append((account, bus, rule))
                    continue
                except StaleSchedule as outdated:  # changed on another node: not a fire time any more
                    stale.append(outdated)
                    continue
                if fired is not None:
                    rows += fired[0]
                    samples.setdefault(account, []).extend(fired[1])
            self.queue.add(conn, rows)
        for account, bus, rule in gone:
            self.timer.removed(account, bus, rule)
        for again in stale:
            self.timer.changed(again.account, again.rule)
        for account, counted in samples.items():
            self.accepted(account, [], counted)
        self.run_deliveries(rows)

    # --- accepting ------------------------------------------------------------------------------
    def route(
        self,
        account: str,
        bus: str,
        compiled: CompiledBus,
        events: Sequence[Mapping[str, Any]],
        *,
        hops: int,
        now: datetime,
    ) -> tuple[list[dict[str, Any]], list[tuple[str, str, float]]]:
        """Deliveries (rows) and metric samples for ``events`` accepted on ``bus``."""
        rows: list[dict[str, Any]] = []
        samples: list[tuple[str, str, float]] = []
        lease = self._lease(now)
        for event in events:
            matched = compiled.match(event)
            if not matched:
                continue
            samples.append(("MatchedEvents", bus, 1))
            for rule in matched:
                dimension = rule_dimension(bus, rule.rule.name)
                samples.append(("MatchedEvents", dimension, 1))
                samples.append(("TriggeredRules", dimension, 1))
                rows += _rows(account, rule, event, hops, now, lease)
        return rows, samples

    def route_scheduled(
        self, account: str, rule: CompiledRule, event: Mapping[str, Any]
    ) -> tuple[list[dict[str, Any]], list[tuple[str, str, float]]]:
        """Deliveries and samples for a schedule firing ``rule``."""
        dimension = rule_dimension(rule.rule.bus, rule.rule.name)
        now = utcnow()
        return _rows(account, rule, event, 0, now, self._lease(now)), [("TriggeredRules", dimension, 1)]

    def accepted(
        self, account: str, rows: Sequence[dict[str, Any]], samples: Sequence[tuple[str, str, float]]
    ) -> None:
        """After the accepting transaction committed: count, and deliver what it accepted."""
        if samples:
            self.metrics.record_many(account, NAMESPACE, samples)
        self.run_deliveries(rows)

    def run_deliveries(self, rows: Sequence[dict[str, Any]]) -> None:
        """(After the accepting commit.) Leased rows go straight to this process's dispatcher, in
        batches; the rest wait for a claim."""
        leased = [delivery_of(r) for r in rows if r["next_attempt_at"] > r["received_at"]]
        for start in range(0, len(leased), BATCH):
            self.dispatcher.offer(leased[start : start + BATCH])
        if len(leased) < len(rows):
            self.dispatcher.wake()

    def _lease(self, now: datetime) -> datetime | None:
        return now + self.dispatcher.lease if self.dispatcher.can_take() else None

    # --- delivering -----------------------------------------------------------------------------
    def deliver_batch(self, batch: list[Delivery]) -> None:
        """Deliver claimed rows in one transaction: each either reaches its target, is retried
        later, or goes to the central DLQ with its account; none is lost."""
        now = utcnow()
        done: list[Delivery] = []
        outcomes: dict[str, list[tuple[str, str, float]]] = {}
        batches: dict[TargetKind, TargetBatch] = {}
        allowed = self._allowed(batch)
        with self.store.write() as conn:
            for item in batch:
                samples = outcomes.setdefault(item.account_id, [])
                dimension = rule_dimension(item.bus_name, item.rule_name)
                if not allowed[item.account_id]:
                    if self._throttled(conn, item, now, samples, dimension):
                        done.append(item)
                    continue
                allowed[item.account_id] -= 1
                try:
                    ref = target_ref(item.arn, item.account_id)
                    self._deliver(conn, item, ref, batches)
                except SiloError as exc:
                    reason = self._failed(conn, item, exc, now)
                    if reason is not None:
                        done.append(item)
                        samples += _dead_lettered(dimension, invoked=reason != "EventLoop")
                    continue
                done.append(item)
                samples.append(("Invocations", dimension, 1))
            for staged in batches.values():
                staged.write(conn)
            self.queue.finish(conn, done)
        if len(done) < len(batch):  # some are due again later: the dispatcher must know when
            self.dispatcher.wake()
        for account, samples in outcomes.items():
            if samples:
                self.metrics.record_many(account, NAMESPACE, samples)
        for staged in batches.values():
            staged.after_commit()

    def _allowed(self, batch: Sequence[Delivery]) -> dict[str, int]:
        wanted: dict[str, int] = {}
        for item in batch:
            wanted[item.account_id] = wanted.get(item.account_id, 0) + 1
        return {account: self.rate.take(account, n) for account, n in wanted.items()}

    def _throttled(
        self,
        conn: sa.Connection,
        item: Delivery,
        now: datetime,
        samples: list[tuple[str, str, float]],
        dimension: str,
    ) -> bool:
        """Over the account's invocation rate: try again soon without spending a retry attempt
        (EventBridge retries throttled deliveries within the event's maximum age); true when the
        event is too old for that and went to the DLQ."""
        at = now + timedelta(seconds=self.rate.wait_s() * (1 + random.random()))
        if (at - item.received_at).total_seconds() > item.max_age_s:
            exc = Throttled("the account's event invocation rate was exceeded until the event expired")
            self._dead_letter(conn, item, exc, "EventAgeExceeded", item.attempts)
            samples += _dead_lettered(dimension, invoked=False)
            return True
        self.queue.retry_at(conn, item, at, attempts=item.attempts, error=None)
        samples.append(("ThrottledRules", dimension, 1))
        return False

    def _deliver(
        self, conn: sa.Connection, item: Delivery, ref: TargetRef, batches: dict[TargetKind, TargetBatch]
    ) -> None:
        source = f"events:{item.bus_name}/{item.rule_name}"[:64]
        if ref.kind is TargetKind.BUS:
            if item.hops + 1 > MAX_HOPS:
                raise EventLoop(f"the event passed {MAX_HOPS} buses; a rule chain loops", hops=item.hops)
            assert self._scope_for is not None, "bind was not called"
            self._scope_for(item.account_id).forward(
                conn, ref.name, json.loads(item.payload), hops=item.hops + 1
            )
            return
        handler = self._handlers.get(ref.kind)
        if handler is None:
            raise ValidationError(f"targets of kind {ref.kind.value} cannot be delivered by this Silo")
        staged = batches.get(ref.kind)
        if staged is None:
            staged = batches[ref.kind] = handler.batch()
        staged.add(item.account_id, ref, item.payload, source)

    def _failed(self, conn: sa.Connection, item: Delivery, exc: SiloError, now: datetime) -> str | None:
        """Retry ``item`` later (``None``), or put it in the DLQ and return why: after its maximum
        retries, past its maximum age, or at once when retrying cannot help (an event loop)."""
        attempts = item.attempts + 1
        age = (now - item.received_at).total_seconds()
        delay = self._backoff(attempts)
        if isinstance(exc, EventLoop):
            reason = "EventLoop"
        elif attempts > item.max_attempts:
            reason = "RetriesExhausted"
        elif age + delay.total_seconds() > item.max_age_s:
            reason = "EventAgeExceeded"
        else:
            self.queue.retry_at(conn, item, now + delay, attempts=attempts, error=exc.to_dict())
            return None
        self._dead_letter(conn, item, exc, reason, attempts)
        return reason

    def _dead_letter(
        self, conn: sa.Connection, item: Delivery, exc: SiloError, reason: str, attempts: int
    ) -> None:
        try:
            ref: TargetRef | None = target_ref(item.arn, item.account_id)
        except ValidationError:  # an ARN no target of this account has (the entry cannot be redriven)
            ref = None
        target: dict[str, Any] = {
            "type": ref.kind.value if ref is not None else "invalid",
            "arn": item.arn,
            "event_bus": item.bus_name,
            "rule": item.rule_name,
            "target_id": item.target_id,
        }
        if ref is None:
            pass
        elif ref.kind is TargetKind.FUNCTION:
            target |= {"function": ref.name, "qualifier": ref.qualifier or "$LATEST"}
        elif ref.kind is TargetKind.WORKFLOW:
            target["state_machine"] = ref.name
        else:
            target["bus"] = ref.name
        self.dlq.put(
            conn,
            item.account_id,
            source=DLQ_SOURCE,
            target=target,
            payload=item.payload,
            reason=reason,
            error=exc.to_dict() | {"event_id": item.event_id},
            attempts=attempts,
            first_at=item.received_at,
        )

    def _backoff(self, attempts: int) -> timedelta:
        """Exponential with full jitter in its upper half, capped (EventBridge: "exponential back off
        and jitter")."""
        ceiling = min(self.retry_base.total_seconds() * 2 ** (attempts - 1), self.retry_max.total_seconds())
        return timedelta(seconds=ceiling * (0.5 + random.random() / 2))


def _dead_lettered(dimension: str, *, invoked: bool) -> list[tuple[str, str, float]]:
    """The metrics of a delivery that went to the DLQ, as EventBridge counts them: a target that
    was invoked and failed for good is an ``Invocation`` and a ``FailedInvocation``; one that was
    never invoked (an event loop, an event that expired while throttled) is a
    ``DeadLetterInvocation`` only. Either way it is an ``InvocationsSentToDlq``."""
    if invoked:
        counted = [("Invocations", dimension, 1.0), ("FailedInvocations", dimension, 1.0)]
    else:
        counted = [("DeadLetterInvocations", dimension, 1.0)]
    return [*counted, ("InvocationsSentToDlq", dimension, 1.0)]


def _rows(
    account: str,
    rule: CompiledRule,
    event: Mapping[str, Any],
    hops: int,
    now: datetime,
    leased_until: datetime | None,
) -> list[dict[str, Any]]:
    rows = []
    for target in rule.targets:
        t = target.target
        rows.append(
            delivery_row(
                account,
                rule.rule.bus,
                rule.rule.name,
                t.target_id,
                t.arn,
                str(event["id"]),
                target.input.render(event, ingestion_time=now),
                hops=hops,
                max_attempts=t.retry_policy.maximum_retry_attempts,
                max_age_s=t.retry_policy.maximum_event_age_s,
                now=now,
                leased_until=leased_until,
            )
        )
    return rows
