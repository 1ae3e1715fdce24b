"""Lots (lô) and their production diary (nhật ký sản xuất).

A lot belongs to one product of one establishment; its code is unique within the product.
It is made from input lots (one step back in the system: `lot_links`), from supplies of
outside parties (`lot_sources`), split into parts, or received from another establishment
(see `shipments`). Records are kept for the Circular's retention (`retain_until`) and never
deleted: a wrong diary entry is voided with a reason, an unusable lot is held or destroyed.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from services.products.domain import audit, scope
from services.products.domain.products import check_version
from services.products.models import (
    Lot,
    LotLink,
    LotSource,
    Product,
    Recall,
    RecallLot,
    StageEvent,
)
from shared.auth import Principal
from shared.db import utcnow
from shared.errors import Conflict, InvalidInput, Message, NotFound
from shared.text import nfc

OPEN_RECALL = ("requested", "assessed", "plan_approved", "executed", "handled", "reported")


def retain_until(lot: Lot, product: Product) -> date:
    """Circular 17/2021 Art. 6: 12 months past a printed expiry; else 6 months (fresh) or
    2 years (frozen or processed) from production."""
    if lot.expiry_date is not None:
        return _add_months(lot.expiry_date, 12)
    start = lot.production_date or (lot.created_at or utcnow()).date()
    return _add_months(start, 6 if product.preservation == "fresh" else 24)


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _text(value: Any) -> Any:
    return (nfc(value) or None) if isinstance(value, str) else value


def get_lot(session: Session, lot_id: uuid.UUID) -> Lot:
    lot = session.get(Lot, lot_id)
    if lot is None:
        raise NotFound()
    return lot


def get_lot_for(session: Session, principal: Principal, lot_id: uuid.UUID) -> Lot:
    """A lot the caller may read (own, managed, or shipped to them), else 404."""
    lot = get_lot(session, lot_id)
    scope.require_lot_read(session, principal, lot)
    return lot


def lot_query(session: Session, principal: Principal, args: Mapping[str, Any]) -> Select[Any]:
    stmt = select(Lot).where(scope.scope_filter(session, principal, Lot.establishment_id))
    if args.get("product_id"):
        stmt = stmt.where(Lot.product_id == args["product_id"])
    if args.get("establishment_id"):
        stmt = stmt.where(Lot.establishment_id == args["establishment_id"])
    if args.get("status"):
        stmt = stmt.where(Lot.status == args["status"])
    if args.get("code"):
        stmt = stmt.where(Lot.code.startswith(nfc(args["code"]), autoescape=True))
    if args.get("produced_from"):
        stmt = stmt.where(Lot.production_date >= args["produced_from"])
    if args.get("produced_to"):
        stmt = stmt.where(Lot.production_date <= args["produced_to"])
    return stmt.order_by(Lot.created_at.desc(), Lot.id)


def open_recalls(session: Session, lot_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Recall]]:
    """Open recalls reaching each of these lots."""
    found: dict[uuid.UUID, list[Recall]] = {}
    if not lot_ids:
        return found
    rows = session.execute(
        select(RecallLot.lot_id, Recall)
        .join(Recall, Recall.id == RecallLot.recall_id)
        .where(RecallLot.lot_id.in_(list(lot_ids)), Recall.status.in_(OPEN_RECALL))
        .order_by(Recall.opened_at)
    )
    for lot_id, recall in rows:
        found.setdefault(lot_id, []).append(recall)
    return found


def _managed_product(session: Session, actor: Principal, product_id: uuid.UUID) -> Product:
    product = session.get(Product, product_id)
    if product is None or not scope.manages(session, actor, product.establishment_id):
        raise InvalidInput.field(
            "product_id",
            "Không có sản phẩm này trong phạm vi của bạn.",
            "No such product in your scope.",
            code="product_not_in_scope",
        )
    if product.status != "active":
        raise InvalidInput.field(
            "product_id",
            "Sản phẩm đã ngừng sản xuất.",
            "The product is discontinued.",
            code="product_discontinued",
        )
    return product


def _code_free(
    session: Session, product_id: uuid.UUID, code: str, lot_id: uuid.UUID | None
) -> None:
    clash = session.scalar(
        select(Lot.id).where(Lot.product_id == product_id, Lot.code == code, Lot.id != lot_id)
    )
    if clash is not None:
        raise Conflict(
            "Sản phẩm đã có lô với số lô này.",
            "This product already has a lot with this code.",
            code="duplicate_lot_code",
            fields={"code": [Message("Số lô đã dùng.", "Lot code already used.")]},
        )


def _inputs(
    session: Session, establishment_id: uuid.UUID, items: Sequence[Mapping[str, Any]]
) -> list[tuple[Lot, Mapping[str, Any]]]:
    """Input lots must be the establishment's own (a received lot is its own once received)."""
    out = []
    seen: set[uuid.UUID] = set()
    for position, item in enumerate(items):
        lot = session.get(Lot, item["lot_id"])
        if lot is None or lot.establishment_id != establishment_id:
            raise InvalidInput.field(
                f"inputs.{position}.lot_id",
                "Lô đầu vào phải là lô của chính cơ sở (lô nhận từ nơi khác cần được nhận trước).",
                "An input lot must be the establishment's own (receive a shipment first).",
                code="input_not_own",
            )
        if lot.id in seen:
            raise InvalidInput.field(
                f"inputs.{position}.lot_id", "Lô đầu vào bị lặp.", "The input lot is repeated."
            )
        if lot.status in {"recalled", "destroyed"}:
            raise Conflict(
                f"Lô đầu vào {lot.code} đang bị thu hồi hoặc đã tiêu huỷ.",
                f"Input lot {lot.code} is recalled or destroyed.",
                code="input_unusable",
            )
        seen.add(lot.id)
        out.append((lot, item))
    return out


def create(session: Session, *, actor: Principal, data: Mapping[str, Any]) -> Lot:
    product = _managed_product(session, actor, data["product_id"])
    code = nfc(data["code"])
    _code_free(session, product.id, code, None)
    inputs = _inputs(session, product.establishment_id, data.get("inputs") or [])
    if inputs and all(lot.product_id == product.id for lot, _ in inputs) and len(inputs) > 1:
        origin, link_kind = "merged", "merge"
    elif inputs:
        origin, link_kind = "processed", "input"
    else:
        origin, link_kind = "produced", "input"
    lot = Lot(
        id=uuid.uuid4(),
        product_id=product.id,
        establishment_id=product.establishment_id,
        code=code,
        production_date=data.get("production_date"),
        expiry_date=data.get("expiry_date"),
        quantity=data.get("quantity"),
        unit=_text(data.get("unit")),
        origin=origin,
        status="active",
        created_at=utcnow(),
    )
    lot.retain_until = retain_until(lot, product)
    session.add(lot)
    session.flush()
    now = utcnow()
    for source, item in inputs:
        session.add(
            LotLink(
                source_lot_id=source.id,
                target_lot_id=lot.id,
                kind=link_kind,
                quantity=item.get("quantity"),
                unit=_text(item.get("unit")) or source.unit,
                occurred_at=now,
            )
        )
    for item in data.get("sources") or []:
        add_source(session, lot, item, actor=None)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="lot.create",
        entity_type="lot",
        entity_id=lot.id,
        establishment_id=lot.establishment_id,
        data={
            **snapshot(lot),
            "inputs": [str(source.id) for source, _ in inputs],
            "sources": len(data.get("sources") or []),
        },
    )
    return lot


def update(
    session: Session,
    *,
    actor: Principal,
    lot: Lot,
    data: Mapping[str, Any],
    expected_version: int | None,
) -> Lot:
    scope.require_manages(session, actor, lot.establishment_id)
    check_version(lot.version, expected_version)
    before = snapshot(lot)
    # Everything this edit reads is read before it changes the lot: a query after the first
    # change would flush it on its own, and the lot's version would go up twice.
    product = lot.product
    if "code" in data:
        code = nfc(data["code"] or "")
        if not code:
            raise InvalidInput.field("code", "Cần số lô.", "The lot code is required.")
        _code_free(session, lot.product_id, code, lot.id)
        lot.code = code
    for name in ("production_date", "expiry_date", "quantity"):
        if name in data:
            setattr(lot, name, data[name])
    if "unit" in data:
        lot.unit = _text(data["unit"])
    if lot.production_date and lot.expiry_date and lot.expiry_date < lot.production_date:
        raise InvalidInput.field(
            "expiry_date",
            "Hạn sử dụng phải sau ngày sản xuất.",
            "The expiry date must follow the production date.",
        )
    lot.retain_until = retain_until(lot, product)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="lot.update",
        entity_type="lot",
        entity_id=lot.id,
        establishment_id=lot.establishment_id,
        data={"before": before, "after": snapshot(lot)},
    )
    return lot


_TRANSITIONS = {
    ("active", "on_hold"),
    ("on_hold", "active"),
    ("active", "destroyed"),
    ("on_hold", "destroyed"),
    ("recalled", "destroyed"),
}


def set_status(session: Session, *, actor: Principal, lot: Lot, status: str, reason: str) -> Lot:
    """Hold, release or record destroyed. `recalled` is set and lifted by recalls only."""
    scope.require_manages(session, actor, lot.establishment_id)
    cleaned = audit.reason_text(reason)
    if lot.status == status:
        return lot
    if (lot.status, status) not in _TRANSITIONS:
        raise Conflict(
            "Không thể chuyển lô sang trạng thái này"
            + (" (lô đang bị thu hồi)." if lot.status == "recalled" else "."),
            "The lot cannot move to this status"
            + (" (it is under recall)." if lot.status == "recalled" else "."),
            code="invalid_lot_transition",
        )
    before = lot.status
    lot.status = status
    lot.status_note = cleaned
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"lot.status.{status}",
        entity_type="lot",
        entity_id=lot.id,
        establishment_id=lot.establishment_id,
        reason=cleaned,
        data={"from": before, "to": status},
    )
    return lot


def split(
    session: Session,
    *,
    actor: Principal,
    lot: Lot,
    parts: Sequence[Mapping[str, Any]],
    occurred_at: datetime | None,
) -> list[Lot]:
    """Split a lot into new lots of the same product (each coded after the stage)."""
    scope.require_manages(session, actor, lot.establishment_id)
    if lot.status in {"recalled", "destroyed"}:
        raise Conflict(
            "Lô đang bị thu hồi hoặc đã tiêu huỷ.",
            "The lot is recalled or destroyed.",
            code="lot_unusable",
        )
    codes = [nfc(p["code"]) for p in parts]
    if len(set(codes)) != len(codes):
        raise InvalidInput.field("parts", "Các số lô bị trùng.", "The part codes repeat.")
    if lot.quantity is not None and all(p.get("quantity") is not None for p in parts):
        total = sum((Decimal(p["quantity"]) for p in parts), Decimal(0))
        if total > lot.quantity:
            raise InvalidInput.field(
                "parts",
                "Tổng khối lượng các phần lớn hơn khối lượng của lô.",
                "The parts add up to more than the lot.",
                code="split_exceeds_lot",
            )
    when = occurred_at or utcnow()
    created = []
    for position, part in enumerate(parts):
        code = codes[position]
        try:
            _code_free(session, lot.product_id, code, None)
        except Conflict as exc:
            exc.fields = {f"parts.{position}.code": [Message("Số lô đã dùng.", "Code used.")]}
            raise
        child = Lot(
            id=uuid.uuid4(),
            product_id=lot.product_id,
            establishment_id=lot.establishment_id,
            code=code,
            production_date=lot.production_date,
            expiry_date=lot.expiry_date,
            quantity=part.get("quantity"),
            unit=_text(part.get("unit")) or lot.unit,
            origin="split",
            status="active",
            created_at=utcnow(),
        )
        child.retain_until = retain_until(child, lot.product)
        session.add(child)
        session.flush()
        session.add(
            LotLink(
                source_lot_id=lot.id,
                target_lot_id=child.id,
                kind="split",
                quantity=child.quantity,
                unit=child.unit,
                occurred_at=when,
            )
        )
        created.append(child)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="lot.split",
        entity_type="lot",
        entity_id=lot.id,
        establishment_id=lot.establishment_id,
        data={"parts": [{"id": c.id, "code": c.code} for c in created]},
    )
    return created


# --- the production diary ---------------------------------------------------------------------


def add_stage(
    session: Session, *, actor: Principal, lot: Lot, data: Mapping[str, Any]
) -> StageEvent:
    scope.require_manages(session, actor, lot.establishment_id)
    if lot.status == "destroyed":
        raise Conflict("Lô đã tiêu huỷ.", "The lot has been destroyed.", code="lot_destroyed")
    event = StageEvent(
        id=uuid.uuid4(),
        lot_id=lot.id,
        establishment_id=lot.establishment_id,
        kind=data["kind"],
        occurred_at=data["occurred_at"],
        place=_text(data.get("place")),
        place_code=_text(data.get("place_code")),
        actor=_text(data.get("actor")),
        description=_text(data.get("description")),
        quantity=data.get("quantity"),
        unit=_text(data.get("unit")),
        attachments=[],
        recorded_by=actor.account_id,
        recorded_by_name=actor.username,
        created_at=utcnow(),
    )
    session.add(event)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="stage.add",
        entity_type="stage_event",
        entity_id=event.id,
        establishment_id=lot.establishment_id,
        data={"lot_id": lot.id, "kind": event.kind},
    )
    return event


def get_stage(session: Session, lot: Lot, stage_id: uuid.UUID) -> StageEvent:
    event = session.get(StageEvent, stage_id)
    if event is None or event.lot_id != lot.id:
        raise NotFound()
    return event


MAX_ATTACHMENTS = 10


def attach(
    session: Session,
    *,
    actor: Principal,
    event: StageEvent,
    key: str,
    name: str,
    content_type: str,
    size: int,
) -> StageEvent:
    scope.require_manages(session, actor, event.establishment_id)
    if event.voided_at is not None:
        raise Conflict("Mục nhật ký đã bị huỷ.", "This diary entry was voided.", code="voided")
    if len(event.attachments or []) >= MAX_ATTACHMENTS:
        raise Conflict(
            f"Mỗi mục nhật ký có tối đa {MAX_ATTACHMENTS} tệp đính kèm.",
            f"A diary entry holds at most {MAX_ATTACHMENTS} attachments.",
            code="too_many_attachments",
        )
    event.attachments = [
        *(event.attachments or []),
        {"key": key, "name": name, "content_type": content_type, "size": size},
    ]
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="stage.attach",
        entity_type="stage_event",
        entity_id=event.id,
        establishment_id=event.establishment_id,
        data={"name": name, "size": size},
    )
    return event


def void_stage(session: Session, *, actor: Principal, event: StageEvent, reason: str) -> StageEvent:
    """A wrong diary entry stays, marked void with who, when and why."""
    scope.require_manages(session, actor, event.establishment_id)
    if event.kind in {"shipping", "receiving"}:
        raise Conflict(
            "Mục giao/nhận hàng được huỷ bằng cách huỷ chuyến hàng.",
            "Shipping and receiving entries are undone by cancelling the shipment.",
            code="stage_from_shipment",
        )
    if event.voided_at is not None:
        return event
    event.voided_at = utcnow()
    event.voided_reason = audit.reason_text(reason)
    event.voided_by_name = actor.username
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="stage.void",
        entity_type="stage_event",
        entity_id=event.id,
        establishment_id=event.establishment_id,
        reason=event.voided_reason,
    )
    return event


def add_source(
    session: Session, lot: Lot, data: Mapping[str, Any], *, actor: Principal | None
) -> LotSource:
    """Record a supply from outside the system (one step back): supplier, time, place, amount."""
    if actor is not None:
        scope.require_manages(session, actor, lot.establishment_id)
    source = LotSource(
        id=uuid.uuid4(),
        lot_id=lot.id,
        supplier_name=nfc(data["supplier_name"]),
        supplier_address=_text(data.get("supplier_address")),
        supplier_code=_text(data.get("supplier_code")),
        supplier_lot_code=_text(data.get("supplier_lot_code")),
        product_name=_text(data.get("product_name")),
        quantity=data.get("quantity"),
        unit=_text(data.get("unit")),
        received_at=data.get("received_at"),
        place=_text(data.get("place")),
        created_at=utcnow(),
    )
    session.add(source)
    session.flush()
    if actor is not None:
        audit.record(
            session,
            actor=actor,
            action="lot.source",
            entity_type="lot",
            entity_id=lot.id,
            establishment_id=lot.establishment_id,
            data={"supplier": source.supplier_name},
        )
    return source


def snapshot(lot: Lot) -> dict[str, Any]:
    return audit.jsonable(
        {
            "code": lot.code,
            "production_date": lot.production_date,
            "expiry_date": lot.expiry_date,
            "quantity": lot.quantity,
            "unit": lot.unit,
            "status": lot.status,
        }
    )


def diary(session: Session, lot: Lot) -> list[StageEvent]:
    return list(
        session.scalars(
            select(StageEvent)
            .where(StageEvent.lot_id == lot.id)
            .order_by(StageEvent.occurred_at, StageEvent.created_at)
        )
    )
