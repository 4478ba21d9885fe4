"""From a target selection (accounts, OUs, tags) to account ids, in one query per selection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sqlalchemy as sa

from silo.accounts import AccountStatus
from silo.errors import ValidationError
from silo.fleet.models import Targets
from silo.store.schema import account_tags, accounts, fleet_ous

_X = {"cross_account": True}


def select_accounts(conn: sa.Connection, targets: Targets, *, exclude: Sequence[str] = ()) -> list[str]:
    """Active accounts the selection names, in id order.

    Explicit ids must exist and be active (an error lists the ones that are not); OUs take their
    whole subtree; ``exclude`` (the management account) is never selected through an OU or a tag.
    """
    if targets.is_empty():
        raise ValidationError("targets: name accounts, OUs or tags", field="targets")
    chosen: set[str] = set()
    if targets.accounts:
        chosen |= _explicit(conn, targets.accounts)
    if targets.ous:
        chosen |= _under_ous(conn, targets.ous, exclude)
    if targets.tags:
        tagged = _tagged(conn, targets.tags, exclude)
        chosen = chosen & tagged if (targets.accounts or targets.ous) else tagged
    return sorted(chosen)


def _explicit(conn: sa.Connection, ids: Sequence[str]) -> set[str]:
    wanted = sorted(set(ids))
    rows = conn.execute(
        sa.select(accounts.c.account_id, accounts.c.status)
        .where(accounts.c.account_id.in_(wanted))
        .execution_options(**_X)
    ).all()
    status = {a: s for a, s in rows}
    missing = [a for a in wanted if a not in status]
    if missing:
        raise ValidationError(f"targets.accounts: no such accounts {missing[:10]}", field="targets.accounts")
    inactive = [a for a in wanted if status[a] != AccountStatus.ACTIVE.value]
    if inactive:
        raise ValidationError(f"targets.accounts: not active {inactive[:10]}", field="targets.accounts")
    return set(wanted)


def ou_paths(conn: sa.Connection, ous: Sequence[str]) -> dict[str, str]:
    rows = conn.execute(
        sa.select(fleet_ous.c.ou_id, fleet_ous.c.path).where(fleet_ous.c.ou_id.in_(list(ous)))
    ).all()
    found = {o: p for o, p in rows}
    missing = sorted(set(ous) - set(found))
    if missing:
        raise ValidationError(f"targets.ous: no such OUs {missing}", field="targets.ous")
    return found


def _under_ous(conn: sa.Connection, ous: Sequence[str], exclude: Sequence[str]) -> set[str]:
    paths = ou_paths(conn, ous)
    under = sa.or_(*(accounts.c.ou_path.startswith(p, autoescape=True) for p in paths.values()))
    query = sa.select(accounts.c.account_id).where(under, accounts.c.status == AccountStatus.ACTIVE.value)
    if exclude:
        query = query.where(accounts.c.account_id.not_in(list(exclude)))
    return set(conn.execute(query.execution_options(**_X)).scalars())


def _tagged(conn: sa.Connection, tags: Mapping[str, str], exclude: Sequence[str]) -> set[str]:
    query = sa.select(accounts.c.account_id).where(accounts.c.status == AccountStatus.ACTIVE.value)
    for key, value in tags.items():
        query = query.where(
            sa.exists().where(
                account_tags.c.account_id == accounts.c.account_id,
                account_tags.c.key == key,
                account_tags.c.value == value,
            )
        )
    if exclude:
        query = query.where(accounts.c.account_id.not_in(list(exclude)))
    return set(conn.execute(query.execution_options(**_X)).scalars())
