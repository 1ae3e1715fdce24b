"""Listing and searching establishments: one query builder behind the list, the exports and
the bulk grant, so the same filters always select the same establishments.

Search is diacritic-insensitive ("dam ha" finds "Đầm Hà", "đ" matches "d") over the name,
address and representative, through the folded `search_text` column. Order is stable (folded
name, then id), so pages never skip or repeat a row.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, exists, func, literal, select, text
from sqlalchemy.orm import Session

from services.accounts.domain import scope
from services.accounts.domain.establishments import EXPIRY_WARNING
from services.accounts.models import Account, Establishment, Unit
from shared.auth import Principal
from shared.text import fold

CERTIFICATE_FILTERS = ("valid", "expiring", "expired", "unknown")


def has_account_expr() -> Any:
    return exists().where(Account.establishment_id == Establishment.id, Account.status != "revoked")


def establishment_query(
    session: Session, principal: Principal, filters: dict[str, Any], *, today: date | None = None
) -> Select[Any]:
    """Establishments visible to `principal` that match `filters`, in a stable order."""
    if session.get_bind().dialect.name == "postgresql":
        # psycopg prepares a statement after 5 runs and PostgreSQL may then settle on a
        # generic plan that ignores the values: a search scoped by a unit's path went from
        # 1 ms to 100 ms. For this transaction, plans stay custom.
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    stmt = select(Establishment, has_account_expr().label("has_account"))
    if principal.role == "establishment":
        stmt = stmt.where(Establishment.id == principal.establishment_id)
    else:
        scope.require_manager(principal)
        if not principal.is_admin:  # an administrator's scope is everything: no filter
            stmt = stmt.where(Establishment.unit_id.in_(scope.units_in_scope(session, principal)))
    unit_id: uuid.UUID | None = filters.get("unit_id")
    if unit_id:
        unit = scope.get_unit_for(session, principal, unit_id)
        subtree = select(Unit.id).where(Unit.path.startswith(unit.path, autoescape=True))
        stmt = stmt.where(Establishment.unit_id.in_(subtree))
    if filters.get("food_safety_status"):
        stmt = stmt.where(Establishment.food_safety_status == filters["food_safety_status"])
    if filters.get("status"):
        stmt = stmt.where(Establishment.status == filters["status"])
    if filters.get("activity"):
        stmt = stmt.where(Establishment.activities.contains(f"|{filters['activity']}|"))
    if filters.get("sector"):
        stmt = stmt.where(Establishment.sectors.contains(f"|{filters['sector']}|"))
    if filters.get("ocop") is not None:
        stmt = stmt.where(Establishment.ocop.is_(filters["ocop"]))
    if filters.get("has_account") is not None:
        condition = has_account_expr()
        stmt = stmt.where(condition if filters["has_account"] else ~condition)
    if filters.get("certificate"):
        stmt = stmt.where(_certificate_condition(filters["certificate"], today))
    if filters.get("q"):
        needle = fold(filters["q"])
        for word in needle.split():
            stmt = stmt.where(Establishment.search_text.contains(word, autoescape=True))
    return stmt.order_by(Establishment.name_folded, Establishment.id)


def _certificate_condition(state: str, today: date | None) -> Any:
    today = today or date.today()  # noqa: DTZ011 - calendar dates are local
    expires = Establishment.certificate_expires_on
    certificate = Establishment.food_safety_status == "certificate"
    conditions = {
        "expired": and_(certificate, expires < today),
        "expiring": and_(certificate, expires >= today, expires <= today + EXPIRY_WARNING),
        "valid": and_(certificate, expires > today + EXPIRY_WARNING),
        "unknown": and_(certificate, expires.is_(None)),
    }
    return conditions[state]


# Below this many matches, sorting the matches beats walking the name index in order: with
# few matches and a LIMIT, PostgreSQL would otherwise scan the whole index looking for them.
SORT_MATCHES_BELOW = 5000


def rows_with_flags(
    session: Session,
    stmt: Select[Any],
    *,
    offset: int = 0,
    limit: int | None = None,
    matches: int | None = None,
) -> list[Establishment]:
    """Run the query; each establishment gets its `has_account` flag as an attribute.
    `matches` (the count the caller already has) picks the cheaper way to order."""
    if matches is not None and matches < SORT_MATCHES_BELOW:
        stmt = stmt.order_by(None).order_by(
            Establishment.name_folded + literal(""), Establishment.id
        )
    if limit is not None:
        stmt = stmt.offset(offset).limit(limit)
    out = []
    for establishment, has_account in session.execute(stmt):
        establishment.has_account = bool(has_account)
        out.append(establishment)
    return out


def search_page(
    session: Session, stmt: Select[Any], *, offset: int, limit: int
) -> tuple[list[Establishment], int]:
    """A page and the number of matches in ONE scan (`count(*) OVER ()`): a text search cannot
    use an index, so scanning once instead of twice (count, then page) halves its cost."""
    windowed = (
        stmt.add_columns(func.count().over().label("matches"))
        .order_by(None)
        .order_by(Establishment.name_folded + literal(""), Establishment.id)
    )
    out, total = [], None
    for establishment, has_account, matches in session.execute(
        windowed.offset(offset).limit(limit)
    ):
        establishment.has_account = bool(has_account)
        total = matches
        out.append(establishment)
    if total is None:  # a page past the end: count the matches on their own
        from shared.pagination import count

        total = count(session, stmt)
    return out, total
