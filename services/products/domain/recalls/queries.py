"""Reading recalls: which ones a caller sees, and the list, the detail, the lots and the
recipients as the API shows them (those running a recall see all of it, the others their
part)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, false, or_, select, true
from sqlalchemy.orm import Session, selectinload

from services.products.domain import scope
from services.products.domain.recalls.steps import (
    FINISHED,
    HANDLING_NAMES,
    OPEN,
    STEP_NAMES,
    next_step,
    runs,
)
from services.products.domain.recalls.workflow import deadlines
from services.products.models import (
    DirectoryEstablishment,
    Lot,
    Product,
    Recall,
    RecallLot,
    RecallRecipient,
    Shipment,
)
from shared.auth import Principal
from shared.errors import NotFound

# A select of several columns (rows, not scalars).
Rows = Select[*tuple[Any, ...]]


def visible_filter(session: Session, principal: Principal) -> ColumnElement[bool]:
    """Recalls the principal sees: admin and services all; an agency those whose origin or any
    reached lot or recipient establishment is in its scope; an establishment those of its lots
    or reaching its lots (or goods on their way to it)."""
    if principal.is_admin or principal.is_service:
        return true()
    if principal.role == "agency":
        in_scope = scope.establishments_in_scope(session, principal)

        def match(column: Any) -> ColumnElement[bool]:
            return column.in_(in_scope)

    elif principal.role == "establishment" and principal.establishment_id is not None:
        own = principal.establishment_id

        def match(column: Any) -> ColumnElement[bool]:
            return column == own

    else:
        return false()
    return or_(
        match(Recall.establishment_id),
        Recall.id.in_(select(RecallLot.recall_id).where(match(RecallLot.establishment_id))),
        Recall.id.in_(
            select(RecallRecipient.recall_id)
            .join(Shipment, Shipment.id == RecallRecipient.shipment_id)
            .where(match(Shipment.recipient_establishment_id))
        ),
    )


def get_visible(session: Session, principal: Principal, recall_id: uuid.UUID) -> Recall:
    """The recall, or 404 when it does not exist or is outside the caller's view."""
    found = session.scalar(
        select(Recall).where(Recall.id == recall_id, visible_filter(session, principal))
    )
    if found is None:
        raise NotFound("Không tìm thấy đợt thu hồi.", "No such recall.", code="recall_not_found")
    return found


def sees_everything(session: Session, principal: Principal, recall: Recall) -> bool:
    """Those who run a recall (and services) see every lot and recipient it reaches; the
    others who see it (downstream establishments, their agencies) see only theirs."""
    return principal.is_service or runs(session, principal, recall)


def list_query(session: Session, principal: Principal, filters: dict[str, Any]) -> Rows:
    """Recalls the principal sees with their origin lot, product and establishment, newest
    first."""
    stmt: Rows = (
        select(Recall, Lot.code, Product.id, Product.name, DirectoryEstablishment.name)
        .join(Lot, Lot.id == Recall.lot_id)
        .join(Product, Product.id == Lot.product_id)
        .outerjoin(DirectoryEstablishment, DirectoryEstablishment.id == Recall.establishment_id)
        .where(visible_filter(session, principal))
        .options(selectinload(Recall.steps))
        .order_by(Recall.opened_at.desc(), Recall.id.desc())
    )
    if filters.get("status"):
        stmt = stmt.where(Recall.status == filters["status"])
    if filters.get("kind"):
        stmt = stmt.where(Recall.kind == filters["kind"])
    if filters.get("open") is not None:
        stmt = stmt.where(
            Recall.status.in_(OPEN) if filters["open"] else Recall.status.in_(FINISHED)
        )
    if filters.get("establishment_id"):
        stmt = stmt.where(Recall.establishment_id == filters["establishment_id"])
    if filters.get("lot_id"):
        stmt = stmt.where(
            Recall.id.in_(select(RecallLot.recall_id).where(RecallLot.lot_id == filters["lot_id"]))
        )
    return stmt


def summary(
    recall: Recall,
    lot_code: str | None,
    product_id: uuid.UUID | None,
    product_name: str | None,
    establishment_name: str | None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A recall as the API shows it (without its lots and recipients)."""
    upcoming = next_step(recall)
    return {
        "id": recall.id,
        "number": recall.number,
        "lot_id": recall.lot_id,
        "lot_code": lot_code,
        "product_id": product_id,
        "product_name": product_name,
        "establishment_id": recall.establishment_id,
        "establishment_name": establishment_name,
        "unit_id": recall.unit_id,
        "kind": recall.kind,
        "reason": recall.reason,
        "hazard": recall.hazard,
        "found_at": recall.found_at,
        "opened_at": recall.opened_at,
        "opened_by_name": recall.opened_by_name,
        "opened_by_role": recall.opened_by_role,
        "status": recall.status,
        "status_label": STEP_NAMES[recall.status],
        "is_open": recall.status in OPEN,
        "next_step": upcoming,
        "handling": recall.handling,
        "handling_label": HANDLING_NAMES.get(recall.handling or ""),
        "decision_due_at": recall.decision_due_at,
        "reported_at": recall.reported_at,
        "handling_decision_due_at": recall.handling_decision_due_at,
        "closed_at": recall.closed_at,
        "affected_lots": recall.affected_lots,
        "affected_establishments": recall.affected_establishments,
        "deadlines": deadlines(recall, now),
        "version": recall.version,
        "created_at": recall.created_at,
        "updated_at": recall.updated_at,
    }


def describe(session: Session, recall: Recall) -> dict[str, Any]:
    """`summary` of one recall, reading its origin lot, product and establishment."""
    row = session.execute(
        select(Lot.code, Product.id, Product.name)
        .join(Product, Product.id == Lot.product_id)
        .where(Lot.id == recall.lot_id)
    ).one()
    name = session.scalar(
        select(DirectoryEstablishment.name).where(
            DirectoryEstablishment.id == recall.establishment_id
        )
    )
    return summary(recall, row[0], row[1], row[2], name)


def lots_query(session: Session, principal: Principal, recall: Recall) -> Rows:
    """The lots a recall reaches, as the principal may see them: all for those running it,
    only the ones in their scope for the others."""
    stmt: Rows = (
        select(
            RecallLot,
            Lot.code,
            Lot.status,
            Lot.product_id,
            Product.name,
            DirectoryEstablishment.name,
        )
        .join(Lot, Lot.id == RecallLot.lot_id)
        .join(Product, Product.id == Lot.product_id)
        .outerjoin(DirectoryEstablishment, DirectoryEstablishment.id == RecallLot.establishment_id)
        .where(RecallLot.recall_id == recall.id)
        .order_by(RecallLot.depth, Lot.code, RecallLot.lot_id)
    )
    if not sees_everything(session, principal, recall):
        stmt = stmt.where(scope.scope_filter(session, principal, RecallLot.establishment_id))
    return stmt


def lot_rows(rows: Iterable[Any]) -> list[dict[str, Any]]:
    return [
        {
            "lot_id": recall_lot.lot_id,
            "lot_code": code,
            "status": status,
            "status_before": recall_lot.status_before,
            "depth": recall_lot.depth,
            "product_id": product_id,
            "product_name": product_name,
            "establishment_id": recall_lot.establishment_id,
            "establishment_name": establishment_name,
        }
        for recall_lot, code, status, product_id, product_name, establishment_name in rows
    ]


def recipients(session: Session, principal: Principal, recall: Recall) -> list[dict[str, Any]]:
    """The shipments the recall must chase, as the principal may see them."""
    stmt = (
        select(RecallRecipient, Shipment, Lot.code)
        .join(Shipment, Shipment.id == RecallRecipient.shipment_id)
        .join(Lot, Lot.id == Shipment.lot_id)
        .where(RecallRecipient.recall_id == recall.id)
        .order_by(Shipment.shipped_at, RecallRecipient.id)
    )
    if not sees_everything(session, principal, recall):
        stmt = stmt.where(
            or_(
                scope.scope_filter(session, principal, Shipment.establishment_id),
                scope.scope_filter(session, principal, Shipment.recipient_establishment_id),
            )
        )
    return [
        {
            "id": recipient.id,
            "shipment_id": shipment.id,
            "name": recipient.name,
            "address": recipient.address,
            "code": shipment.recipient_code,
            "in_system_establishment_id": shipment.recipient_establishment_id,
            "lot_id": shipment.lot_id,
            "lot_code": code,
            "from_establishment_id": shipment.establishment_id,
            "quantity": shipment.quantity,
            "unit": shipment.unit,
            "shipped_at": shipment.shipped_at,
            "shipment_status": shipment.status,
        }
        for recipient, shipment, code in session.execute(stmt)
    ]
