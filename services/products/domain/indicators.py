"""Counts the reports service compiles the plan's product indicators from (issue 6), per unit,
as of a local day or over a period of local days (see `shared.indicators`). The reports service
rolls units up into their parents, so nothing here sums a sub-tree.

Each product, lot and recall counts in the unit of its establishment as this service's
directory copy has it now (the copy keeps no history of re-assignments): a product or lot whose
establishment is missing from the copy is not counted; a recall falls back to the unit it was
opened in.

As of D (the end of local day D):

- products: created by then, not discontinued, of an establishment not closed (as the
  accounts service's counts leave closed establishments out). These statuses, OCOP and the
  key-product and packaged-processed flags are today's values (no history is kept). An
  OCOP product (sản phẩm OCOP) has a star rating whose decision is dated D or before (or
  undated) and which had not expired before D.
- packaged-processed products traceable: those with at least one lot with a diary entry
  (stage event) recorded by then and not voided by then — the plan's "80 % of packaged
  processed products traceable".
- recalls open: opened by then, neither closed nor cancelled by then.
- target products: every OCOP or key product counted, with its unit; the reports service
  intersects them with the labels service's products that have QR codes.

Over the period: lots created, recalls opened, and recalls closed (the authority's decision
on the handling, the last step; a cancelled recall is not "closed").
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from services.products.models import (
    DirectoryEstablishment,
    Lot,
    Product,
    Recall,
    RecallStep,
    StageEvent,
)
from shared.indicators import end_of_day, period_bounds


@dataclass
class UnitCounts:
    unit_id: uuid.UUID
    products: int = 0
    ocop_products: int = 0
    key_products: int = 0
    packaged_processed: int = 0
    packaged_processed_traceable: int = 0
    lots_created: int = 0
    recalls_opened: int = 0
    recalls_closed: int = 0
    recalls_open: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def is_zero(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self) if f.name != "unit_id")


@dataclass(frozen=True)
class ProductIndicators:
    units: list[UnitCounts]
    # (product id, unit id) of every OCOP or key product counted
    target_products: list[tuple[uuid.UUID, uuid.UUID]]


def _count(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _ocop(as_of: date) -> Any:
    return and_(
        Product.ocop_stars.is_not(None),
        or_(Product.ocop_decision_date.is_(None), Product.ocop_decision_date <= as_of),
        or_(Product.ocop_expires_on.is_(None), Product.ocop_expires_on >= as_of),
    )


def _existing(cutoff: Any) -> Any:
    """Created before `cutoff`, not discontinued, of an establishment not closed (today's
    statuses); to be joined with the directory copy."""
    return and_(
        Product.created_at < cutoff,
        Product.status == "active",
        DirectoryEstablishment.status == "active",
    )


def _traced(cutoff: Any) -> Any:
    """The product has a lot with a diary entry recorded before `cutoff` and not voided then."""
    return exists(
        select(StageEvent.id)
        .join(Lot, Lot.id == StageEvent.lot_id)
        .where(
            Lot.product_id == Product.id,
            StageEvent.created_at < cutoff,
            or_(StageEvent.voided_at.is_(None), StageEvent.voided_at >= cutoff),
        )
        .correlate(Product)
    )


def compute(session: Session, *, as_of: date, start: date, end: date) -> ProductIndicators:
    """The products service's indicators per unit (see the module's docstring)."""
    cutoff = end_of_day(as_of)
    lower, upper = period_bounds(start, end)
    units: dict[uuid.UUID, UnitCounts] = {}

    def add(unit_id: uuid.UUID | None, **counts: Any) -> None:
        if unit_id is None:
            return
        row = units.setdefault(unit_id, UnitCounts(unit_id))
        for name, value in counts.items():
            setattr(row, name, getattr(row, name) + int(value or 0))

    unit = DirectoryEstablishment.unit_id
    by_establishment = DirectoryEstablishment.id == Product.establishment_id
    for unit_id, n, ocop, key, packaged in session.execute(
        select(
            unit,
            func.count(),
            _count(_ocop(as_of)),
            _count(Product.is_key_product.is_(True)),
            _count(Product.is_packaged_processed.is_(True)),
        )
        .select_from(Product)
        .join(DirectoryEstablishment, by_establishment)
        .where(_existing(cutoff))
        .group_by(unit)
    ):
        add(unit_id, products=n, ocop_products=ocop, key_products=key, packaged_processed=packaged)

    # Separately, so the diary is probed for packaged-processed products only.
    for unit_id, n in session.execute(
        select(unit, func.count())
        .select_from(Product)
        .join(DirectoryEstablishment, by_establishment)
        .where(_existing(cutoff), Product.is_packaged_processed.is_(True), _traced(cutoff))
        .group_by(unit)
    ):
        add(unit_id, packaged_processed_traceable=n)

    for unit_id, n in session.execute(
        select(unit, func.count())
        .select_from(Lot)
        .join(DirectoryEstablishment, DirectoryEstablishment.id == Lot.establishment_id)
        .where(Lot.created_at >= lower, Lot.created_at < upper)
        .group_by(unit)
    ):
        add(unit_id, lots_created=n)

    cancelled = exists(
        select(RecallStep.id).where(
            RecallStep.recall_id == Recall.id,
            RecallStep.step == "cancelled",
            RecallStep.at < cutoff,
        )
    )
    is_open = and_(
        Recall.opened_at < cutoff,
        or_(Recall.closed_at.is_(None), Recall.closed_at >= cutoff),
        ~cancelled,
    )
    recall_unit = func.coalesce(DirectoryEstablishment.unit_id, Recall.unit_id)
    for unit_id, opened, closed, still_open in session.execute(
        select(
            recall_unit,
            _count(and_(Recall.opened_at >= lower, Recall.opened_at < upper)),
            _count(and_(Recall.closed_at >= lower, Recall.closed_at < upper)),
            _count(is_open),
        )
        .select_from(Recall)
        .outerjoin(DirectoryEstablishment, DirectoryEstablishment.id == Recall.establishment_id)
        .where(Recall.opened_at < max(cutoff, upper))
        .group_by(recall_unit)
    ):
        add(unit_id, recalls_opened=opened, recalls_closed=closed, recalls_open=still_open)

    targets = session.execute(
        select(Product.id, unit)
        .select_from(Product)
        .join(DirectoryEstablishment, by_establishment)
        .where(_existing(cutoff), or_(_ocop(as_of), Product.is_key_product.is_(True)))
        .order_by(unit, Product.id)
    ).all()
    return ProductIndicators(
        units=sorted(
            (row for row in units.values() if not row.is_zero()), key=lambda r: str(r.unit_id)
        ),
        target_products=[(product_id, unit_id) for product_id, unit_id in targets],
    )
