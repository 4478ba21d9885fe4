"""Bus, rule and target rows of one account. Every statement filters by the context's account."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from silo.accounts import AccountContext
from silo.errors import Conflict, NotFound
from silo.events.models import (
    DEFAULT_BUS,
    SCHEDULE_GROUP_PREFIX,
    EventBus,
    RetryPolicy,
    Rule,
    RuleState,
    ScheduleSpec,
    Target,
    bus_arn,
    first_rules_version,
    rule_arn,
    target_ref,
)
from silo.store import utcnow
from silo.store.pages import Page, check_limit, decode_token, encode_token
from silo.store.schema import event_buses, event_rules, event_targets


class EventsRepository:
    def __init__(self, context: AccountContext) -> None:
        self._account = context.account_id

    # --- buses ----------------------------------------------------------------------------------
    def rules_version(self, conn: sa.Connection, bus: str) -> int | None:
        """The bus's rule version, or ``None`` when there is no such bus (``default`` always is)."""
        version = conn.execute(
            sa.select(event_buses.c.rules_version).where(
                event_buses.c.account_id == self._account, event_buses.c.name == bus
            )
        ).scalar()
        if version is None and bus == DEFAULT_BUS:
            return 0
        return None if version is None else int(version)

    def get_bus(self, conn: sa.Connection, name: str) -> EventBus:
        row = conn.execute(
            sa.select(event_buses).where(
                event_buses.c.account_id == self._account, event_buses.c.name == name
            )
        ).first()
        if row is None:
            if name == DEFAULT_BUS:
                return EventBus(DEFAULT_BUS, bus_arn(self._account, DEFAULT_BUS), "", None)
            raise NotFound(f"Event bus {name} does not exist.", event_bus=name)
        return self._bus(row)

    def create_bus(self, conn: sa.Connection, name: str, description: str) -> EventBus:
        if name == DEFAULT_BUS or self.rules_version(conn, name) is not None:
            raise Conflict(f"Event bus {name} already exists.", event_bus=name)
        conn.execute(
            event_buses.insert().values(
                account_id=self._account,
                name=name,
                description=description,
                rules_version=first_rules_version(),
                created_at=utcnow(),
            )
        )
        return self.get_bus(conn, name)

    def delete_bus(self, conn: sa.Connection, name: str) -> None:
        if name == DEFAULT_BUS:
            raise Conflict("The default event bus cannot be deleted.", event_bus=name)
        self.get_bus(conn, name)
        if self._rule_names(conn, name, limit=1):
            raise Conflict(f"Event bus {name} still has rules; delete them first.", event_bus=name)
        conn.execute(
            sa.delete(event_buses).where(
                event_buses.c.account_id == self._account, event_buses.c.name == name
            )
        )

    def list_buses(self, conn: sa.Connection, limit: int | None, next_token: str | None) -> Page[EventBus]:
        size = check_limit(limit)
        after = decode_token(next_token)
        query = (
            sa.select(event_buses)
            .where(
                event_buses.c.account_id == self._account,
                # schedule groups keep their rules_version in this table too; they are not buses
                sa.not_(event_buses.c.name.startswith(SCHEDULE_GROUP_PREFIX, autoescape=True)),
            )
            .order_by(event_buses.c.name)
            .limit(size + 1)
        )
        if isinstance(after, str):
            query = query.where(event_buses.c.name > after)
        rows = list(conn.execute(query).all())
        buses = [self._bus(r) for r in rows]
        if (after is None or after < DEFAULT_BUS) and self._default_is_virtual(conn):
            # ``default`` has no row until its first rule; it still sorts in its place
            buses = sorted([*buses, self.get_bus(conn, DEFAULT_BUS)], key=lambda b: b.name)
        more = len(buses) > size
        buses = buses[:size]
        return Page(buses, encode_token(buses[-1].name) if more else None)

    def _default_is_virtual(self, conn: sa.Connection) -> bool:
        return (
            conn.execute(
                sa.select(event_buses.c.name).where(
                    event_buses.c.account_id == self._account, event_buses.c.name == DEFAULT_BUS
                )
            ).first()
            is None
        )

    def bump(self, conn: sa.Connection, bus: str) -> None:
        """A rule or target of ``bus`` changed: cached indexes of it (on any node) are stale."""
        updated = conn.execute(
            sa.update(event_buses)
            .where(event_buses.c.account_id == self._account, event_buses.c.name == bus)
            .values(rules_version=event_buses.c.rules_version + 1)
        ).rowcount
        if not updated:  # the default bus and schedule groups get their row on first change
            conn.execute(
                event_buses.insert().values(
                    account_id=self._account,
                    name=bus,
                    description="",
                    rules_version=first_rules_version(),
                    created_at=utcnow(),
                )
            )

    # --- rules ----------------------------------------------------------------------------------
    def get_rule(self, conn: sa.Connection, bus: str, name: str) -> Rule:
        row = conn.execute(sa.select(event_rules).where(*self._rule_key(bus, name))).first()
        if row is None:
            raise NotFound(f"Rule {name} does not exist on EventBus {bus}.", rule=name, event_bus=bus)
        return self._rule(row)

    def put_rule(
        self,
        conn: sa.Connection,
        bus: str,
        name: str,
        *,
        pattern: str | None,
        schedule: ScheduleSpec | None,
        state: RuleState,
        description: str,
        managed_by: str | None,
    ) -> tuple[Rule, Rule | None]:
        """Create or replace a rule; returns it and what it replaced."""
        now = utcnow()
        values = {
            "pattern": pattern,
            "schedule_expression": schedule.expression if schedule else None,
            "schedule_timezone": schedule.timezone if schedule else None,
            "schedule_window_minutes": schedule.window_minutes if schedule else None,
            "state": state.value,
            "description": description,
            "updated_at": now,
        }
        try:
            before = self.get_rule(conn, bus, name)
        except NotFound:
            before = None
        if before is None:
            conn.execute(
                event_rules.insert().values(
                    account_id=self._account,
                    bus_name=bus,
                    name=name,
                    managed_by=managed_by,
                    created_at=now,
                    **values,
                )
            )
        else:
            if before.managed_by is not None and before.managed_by != managed_by:
                raise Conflict(
                    f"Rule {name} is managed by stack {before.managed_by}; change it there.", rule=name
                )
            conn.execute(sa.update(event_rules).where(*self._rule_key(bus, name)).values(**values))
        self.bump(conn, bus)
        return self.get_rule(conn, bus, name), before

    def delete_rule(
        self, conn: sa.Connection, bus: str, name: str, *, force: bool, managed_by: str | None
    ) -> Rule:
        rule = self.get_rule(conn, bus, name)
        if rule.managed_by is not None and rule.managed_by != managed_by and not force:
            raise Conflict(f"Rule {name} is managed by stack {rule.managed_by}; delete it there.", rule=name)
        if self.targets(conn, bus, name) and not force and managed_by is None:
            raise Conflict(f"Rule {name} still has targets; remove them first.", rule=name)
        conn.execute(sa.delete(event_targets).where(*self._target_key(bus, name)))
        conn.execute(sa.delete(event_rules).where(*self._rule_key(bus, name)))
        self.bump(conn, bus)
        return rule

    def list_rules(
        self, conn: sa.Connection, bus: str, prefix: str | None, limit: int | None, next_token: str | None
    ) -> Page[Rule]:
        size = check_limit(limit)
        after = decode_token(next_token)
        query = (
            sa.select(event_rules)
            .where(event_rules.c.account_id == self._account, event_rules.c.bus_name == bus)
            .order_by(event_rules.c.name)
            .limit(size + 1)
        )
        if prefix:
            query = query.where(event_rules.c.name.startswith(prefix, autoescape=True))
        if isinstance(after, str):
            query = query.where(event_rules.c.name > after)
        rows = conn.execute(query).all()
        return Page(
            [self._rule(r) for r in rows[:size]],
            encode_token(rows[size - 1].name) if len(rows) > size else None,
        )

    def set_state(self, conn: sa.Connection, bus: str, name: str, state: RuleState) -> Rule:
        self.get_rule(conn, bus, name)
        conn.execute(
            sa.update(event_rules)
            .where(*self._rule_key(bus, name))
            .values(state=state.value, updated_at=utcnow())
        )
        self.bump(conn, bus)
        return self.get_rule(conn, bus, name)

    # --- targets --------------------------------------------------------------------------------
    def targets(self, conn: sa.Connection, bus: str, rule: str) -> list[Target]:
        rows = conn.execute(
            sa.select(event_targets).where(*self._target_key(bus, rule)).order_by(event_targets.c.target_id)
        ).all()
        return [self._target(r) for r in rows]

    def put_targets(self, conn: sa.Connection, bus: str, rule: str, targets: Sequence[Target]) -> None:
        ids = [t.target_id for t in targets]
        conn.execute(
            sa.delete(event_targets).where(*self._target_key(bus, rule), event_targets.c.target_id.in_(ids))
        )
        now = utcnow()
        for t in targets:
            conn.execute(
                event_targets.insert().values(
                    account_id=self._account,
                    bus_name=bus,
                    rule_name=rule,
                    target_id=t.target_id,
                    arn=t.arn,
                    input=t.input,
                    retry_policy=t.retry_policy.to_json(),
                    created_at=now,
                )
            )
        self.bump(conn, bus)

    def remove_targets(self, conn: sa.Connection, bus: str, rule: str, ids: Iterable[str]) -> int:
        removed = conn.execute(
            sa.delete(event_targets).where(
                *self._target_key(bus, rule), event_targets.c.target_id.in_(list(ids))
            )
        ).rowcount
        self.bump(conn, bus)
        return int(removed)

    def bus_contents(self, conn: sa.Connection, bus: str) -> list[tuple[Rule, list[Target]]]:
        """Every enabled rule of ``bus`` with a pattern, and its targets (to build the bus's index)."""
        rules = conn.execute(
            sa.select(event_rules).where(
                event_rules.c.account_id == self._account,
                event_rules.c.bus_name == bus,
                event_rules.c.state == RuleState.ENABLED.value,
                event_rules.c.pattern.is_not(None),
            )
        ).all()
        targets: dict[str, list[Target]] = {}
        for row in conn.execute(
            sa.select(event_targets)
            .where(event_targets.c.account_id == self._account, event_targets.c.bus_name == bus)
            .order_by(event_targets.c.target_id)
        ).all():
            targets.setdefault(row.rule_name, []).append(self._target(row))
        return [(self._rule(r), targets.get(r.name, [])) for r in rules]

    def claim_fire(self, conn: sa.Connection, bus: str, rule: str, at: Any) -> bool:
        """Record that ``rule`` fired for ``at``; false if this or a later time was recorded already
        (another node fired it), so each fire time is delivered once."""
        return bool(
            conn.execute(
                sa.update(event_rules)
                .where(
                    *self._rule_key(bus, rule),
                    sa.or_(event_rules.c.last_fired_at.is_(None), event_rules.c.last_fired_at < at),
                )
                .values(last_fired_at=at)
            ).rowcount
        )

    # --- rows -------------------------------------------------------------------------------------
    def _rule_names(self, conn: sa.Connection, bus: str, *, limit: int) -> list[str]:
        return list(
            conn.execute(
                sa.select(event_rules.c.name)
                .where(event_rules.c.account_id == self._account, event_rules.c.bus_name == bus)
                .limit(limit)
            ).scalars()
        )

    def _rule_key(self, bus: str, name: str) -> tuple[sa.ColumnElement[bool], ...]:
        c = event_rules.c
        return (c.account_id == self._account, c.bus_name == bus, c.name == name)

    def _target_key(self, bus: str, rule: str) -> tuple[sa.ColumnElement[bool], ...]:
        c = event_targets.c
        return (c.account_id == self._account, c.bus_name == bus, c.rule_name == rule)

    def _bus(self, row: sa.Row[Any]) -> EventBus:
        return EventBus(row.name, bus_arn(self._account, row.name), row.description, row.created_at)

    def _rule(self, row: sa.Row[Any]) -> Rule:
        return rule_from_row(self._account, row)

    def _target(self, row: sa.Row[Any]) -> Target:
        policy = row.retry_policy or {}
        return Target(
            row.target_id,
            row.arn,
            target_ref(row.arn, self._account),
            row.input,
            RetryPolicy(
                policy.get("MaximumRetryAttempts", 185), policy.get("MaximumEventAgeInSeconds", 86400)
            ),
        )


def rule_from_row(account: str, row: sa.Row[Any]) -> Rule:
    schedule = None
    if row.schedule_expression is not None:
        schedule = ScheduleSpec(
            row.schedule_expression, row.schedule_timezone or "UTC", row.schedule_window_minutes
        )
    return Rule(
        row.name,
        row.bus_name,
        rule_arn(account, row.bus_name, row.name),
        row.pattern,
        schedule,
        RuleState(row.state),
        row.description,
        row.managed_by,
        row.created_at,
        row.updated_at,
    )


def scheduled_rules(conn: sa.Connection, *, batch: int = 10_000) -> Iterator[tuple[str, Rule]]:
    """(Platform start.) Every enabled rule with a schedule, of every account, for the one timer."""
    c = event_rules.c
    after: tuple[str, str, str] = ("", "", "")
    while True:
        rows = conn.execute(
            sa.select(event_rules)
            .where(
                c.schedule_expression.is_not(None),
                c.state == RuleState.ENABLED.value,
                sa.tuple_(c.account_id, c.bus_name, c.name) > sa.tuple_(*after),
            )
            .order_by(c.account_id, c.bus_name, c.name)
            .limit(batch)
            .execution_options(cross_account=True)
        ).all()
        for row in rows:
            yield row.account_id, rule_from_row(row.account_id, row)
        if len(rows) < batch:
            return
        after = (rows[-1].account_id, rows[-1].bus_name, rows[-1].name)


def scheduled_rule(conn: sa.Connection, account: str, bus: str, name: str) -> Rule | None:
    """(Another node changed it.) The rule, if it is still an enabled schedule of ``account``."""
    c = event_rules.c
    row = conn.execute(
        sa.select(event_rules)
        .where(
            c.account_id == account,
            c.bus_name == bus,
            c.name == name,
            c.schedule_expression.is_not(None),
            c.state == RuleState.ENABLED.value,
        )
        .execution_options(cross_account=True)
    ).first()
    return None if row is None else rule_from_row(account, row)
