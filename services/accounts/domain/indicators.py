"""Counts the reports service compiles Appendix 01 and 02 from (issue 6), per unit, as of a
date or over a period. Each establishment is counted once, in the unit that managed it at the
time (its assignment history; the current unit when it has none); the reports service rolls
units up into their parents, so nothing here sums a sub-tree.

"As of D" means at the end of day D in Asia/Ho_Chi_Minh. Establishments created later are not
counted. An establishment "has an account" at D when an operating account for it had been
granted by then and not revoked by then (a suspended account still counts: it was granted).
Food-safety status and OCOP are today's values (the registry keeps no history of them), which
the reports say.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select, text
from sqlalchemy.orm import Session

from services.accounts.models import Account, AuditEvent, Establishment, EstablishmentAssignment
from shared.clock import LOCAL_TZ
from shared.indicators import end_of_day


@dataclass(frozen=True)
class UnitCounts:
    unit_id: uuid.UUID
    establishments: int
    certificate_subject: int
    commitment_subject: int
    ocop: int
    with_account: int
    certificate_with_account: int
    commitment_with_account: int
    ocop_with_account: int

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def _unit_at(cutoff: datetime) -> Any:
    """The unit an establishment was assigned to just before `cutoff`, else its current one."""
    assigned = (
        select(EstablishmentAssignment.unit_id)
        .where(
            EstablishmentAssignment.establishment_id == Establishment.id,
            EstablishmentAssignment.valid_from < cutoff,
            or_(
                EstablishmentAssignment.valid_to.is_(None),
                EstablishmentAssignment.valid_to >= cutoff,
            ),
        )
        .order_by(EstablishmentAssignment.valid_from.desc())
        .limit(1)
        .correlate(Establishment)
        .scalar_subquery()
    )
    return func.coalesce(assigned, Establishment.unit_id)


def _account_states(session: Session, cutoff: datetime) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
    """Operating accounts revoked at `cutoff` though not now, and revoked now though not then,
    from the audit trail (both sets are small: revocations are rare)."""
    last: dict[uuid.UUID, str] = {}
    events = session.execute(
        select(AuditEvent.target_id, AuditEvent.action)
        .where(
            AuditEvent.target_type == "account",
            AuditEvent.action.in_(("account.grant", "account.regrant", "account.revoke")),
            AuditEvent.occurred_at < cutoff,
        )
        .order_by(AuditEvent.occurred_at, AuditEvent.id)
    )
    for target, action in events:
        try:
            last[uuid.UUID(target)] = action
        except ValueError:
            continue
    revoked_then = {account for account, action in last.items() if action == "account.revoke"}
    revoked_now = set(
        session.scalars(
            select(Account.id).where(Account.role == "establishment", Account.status == "revoked")
        )
    )
    live_then = {a for a in revoked_now if last.get(a) in ("account.grant", "account.regrant")}
    return revoked_then - revoked_now, live_then


def _had_account(session: Session, cutoff: datetime, today: bool) -> Any:
    """True for an establishment with a granted, unrevoked operating account at `cutoff`."""
    account = select(literal(1)).where(
        Account.establishment_id == Establishment.id,
        Account.role == "establishment",
        Account.created_at < cutoff,
    )
    if today:
        account = account.where(Account.status != "revoked")
    else:
        revoked_then, live_then = _account_states(session, cutoff)
        live = Account.status != "revoked"
        if live_then:
            live = or_(live, Account.id.in_(live_then))
        account = account.where(live)
        if revoked_then:
            account = account.where(Account.id.not_in(revoked_then))
    return account.correlate(Establishment).exists()


def establishment_counts(session: Session, as_of: date, *, today: date) -> list[UnitCounts]:
    """Appendix 01's columns per unit that directly manages establishments, as of `as_of`."""
    cutoff = end_of_day(as_of)
    if session.get_bind().dialect.name == "postgresql":
        # The correlated sub-queries' cost estimate sets off PostgreSQL's JIT, which spends
        # ~0.5 s compiling a query that runs in ~80 ms at 30,000 establishments.
        session.execute(text("SET LOCAL jit = off"))
    unit = _unit_at(cutoff).label("unit_id")
    has = _had_account(session, cutoff, today=as_of >= today)
    cert = Establishment.food_safety_status == "certificate"
    commit = Establishment.food_safety_status == "commitment"
    ocop = Establishment.ocop.is_(True)

    def count(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    inner = (
        select(
            unit,
            cert.label("cert"),
            commit.label("commit"),
            ocop.label("ocop"),
            has.label("has"),
        )
        .where(Establishment.created_at < cutoff, Establishment.status == "active")
        .subquery()
    )
    c = inner.c
    rows = session.execute(
        select(
            c.unit_id,
            func.count(),
            count(c.cert),
            count(c.commit),
            count(c.ocop),
            count(c.has),
            count(and_(c.cert, c.has)),
            count(and_(c.commit, c.has)),
            count(and_(c.ocop, c.has)),
        ).group_by(c.unit_id)
    )
    return [UnitCounts(row[0], *(int(v or 0) for v in row[1:])) for row in rows]


def grants_by_month(session: Session, start: date, end: date) -> list[dict[str, Any]]:
    """Operating accounts first granted per unit and local month, for `start`..`end`
    inclusive: Appendix 02's "actual" beside its plan. An account counts in the month it was
    created and in its establishment's unit at that time."""
    lower = end_of_day(start - timedelta(days=1))
    upper = end_of_day(end)
    assigned = (
        select(EstablishmentAssignment.unit_id)
        .where(
            EstablishmentAssignment.establishment_id == Account.establishment_id,
            EstablishmentAssignment.valid_from <= Account.created_at,
            or_(
                EstablishmentAssignment.valid_to.is_(None),
                EstablishmentAssignment.valid_to > Account.created_at,
            ),
        )
        .order_by(EstablishmentAssignment.valid_from.desc())
        .limit(1)
        .correlate(Account)
        .scalar_subquery()
    )
    current = (
        select(Establishment.unit_id)
        .where(Establishment.id == Account.establishment_id)
        .correlate(Account)
        .scalar_subquery()
    )
    rows = session.execute(
        select(func.coalesce(assigned, current), Account.created_at).where(
            Account.role == "establishment",
            Account.created_at >= lower,
            Account.created_at < upper,
        )
    )
    counts: dict[tuple[uuid.UUID, str], int] = {}
    for unit_id, created in rows:
        local = created.replace(tzinfo=UTC).astimezone(LOCAL_TZ)
        key = (unit_id, f"{local.year:04d}-{local.month:02d}")
        counts[key] = counts.get(key, 0) + 1
    return [
        {"unit_id": unit_id, "month": month, "granted": n}
        for (unit_id, month), n in sorted(counts.items(), key=lambda kv: (str(kv[0][0]), kv[0][1]))
    ]
