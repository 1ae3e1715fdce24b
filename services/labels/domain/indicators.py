"""Counts the reports service compiles the plan's label indicators from (issue 6), per unit,
over a period of local days, and the products that carry a QR code as of a local day (see
`shared.indicators`). The reports service rolls units up into their parents.

Each row counts in the unit of its establishment as this service's directory copy has it now;
rows naming no establishment known to the copy (never-issued or forged codes) are not counted.
Over the period `from`..`to`:

- labels issued (tem đã cấp): the serials of the label batches ordered then (the sum of
  their range sizes), and the batches; a voided batch (lost, stolen, misprinted) is left out
  whenever it was voided;
- scans: every scan recorded then, whatever its outcome;
- counterfeit alerts: the alerts raised (first recorded) then, whatever their status now.

Products with codes, as of D (the end of local day D): every product with a product- or
lot-level QR code created by then and not voided, or with a label batch (item-level codes)
ordered by then and not voided by then. A QR code's voiding is not dated, so a voided one is
left out whatever the day.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select, union
from sqlalchemy.orm import Session

from services.labels.models import (
    CounterfeitAlert,
    DirectoryEstablishment,
    LabelBatch,
    QrCode,
    Scan,
)
from shared.indicators import end_of_day, period_bounds


@dataclass
class UnitCounts:
    unit_id: uuid.UUID
    labels_issued: int = 0
    batches: int = 0
    scans: int = 0
    counterfeit_alerts: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class LabelIndicators:
    units: list[UnitCounts]
    products_with_codes: list[uuid.UUID]


def compute(session: Session, *, as_of: date, start: date, end: date) -> LabelIndicators:
    """The labels service's indicators per unit (see the module's docstring)."""
    cutoff = end_of_day(as_of)
    lower, upper = period_bounds(start, end)
    units: dict[uuid.UUID, UnitCounts] = {}

    def add(unit_id: uuid.UUID, **counts: Any) -> None:
        row = units.setdefault(unit_id, UnitCounts(unit_id))
        for name, value in counts.items():
            setattr(row, name, getattr(row, name) + int(value or 0))

    unit = DirectoryEstablishment.unit_id
    for unit_id, n, serials in session.execute(
        select(
            unit,
            func.count(),
            func.sum(LabelBatch.serial_end - LabelBatch.serial_start + 1),
        )
        .select_from(LabelBatch)
        .join(DirectoryEstablishment, DirectoryEstablishment.id == LabelBatch.establishment_id)
        .where(
            LabelBatch.created_at >= lower,
            LabelBatch.created_at < upper,
            LabelBatch.voided_at.is_(None),
        )
        .group_by(unit)
    ):
        add(unit_id, labels_issued=serials, batches=n)

    for unit_id, n in session.execute(
        select(unit, func.count())
        .select_from(Scan)
        .join(DirectoryEstablishment, DirectoryEstablishment.id == Scan.establishment_id)
        .where(Scan.at >= lower, Scan.at < upper)
        .group_by(unit)
    ):
        add(unit_id, scans=n)

    for unit_id, n in session.execute(
        select(unit, func.count())
        .select_from(CounterfeitAlert)
        .join(
            DirectoryEstablishment, DirectoryEstablishment.id == CounterfeitAlert.establishment_id
        )
        .where(CounterfeitAlert.created_at >= lower, CounterfeitAlert.created_at < upper)
        .group_by(unit)
    ):
        add(unit_id, counterfeit_alerts=n)

    coded = union(
        select(QrCode.product_id).where(QrCode.created_at < cutoff, QrCode.status != "void"),
        select(LabelBatch.product_id).where(
            LabelBatch.created_at < cutoff,
            or_(LabelBatch.voided_at.is_(None), LabelBatch.voided_at >= cutoff),
        ),
    ).subquery()
    products = sorted(session.scalars(select(coded.c.product_id)), key=str)
    return LabelIndicators(
        units=sorted(units.values(), key=lambda r: str(r.unit_id)),
        products_with_codes=products,
    )
