"""Shipments (giao hàng): one step forward. Part of a lot goes to a recipient — an
establishment in the system, which receives it into a lot of its own (linking both sides of
the graph), or a named customer outside it (a leaf of the trace; retailers need not record
consumers)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from services.products.domain import audit, directory, lots, scope
from services.products.models import Lot, LotLink, Product, Recall, RecallLot, Shipment, StageEvent
from shared.auth import Principal
from shared.db import utcnow
from shared.errors import Conflict, InvalidInput, NotFound
from shared.text import nfc


def _text(value: Any) -> Any:
    return (nfc(value) or None) if isinstance(value, str) else value


def can_see(session: Session, principal: Principal, shipment: Shipment) -> bool:
    """The shipper's side and the recipient's side both see a shipment."""
    if scope.can_read(session, principal, shipment.establishment_id):
        return True
    recipient = shipment.recipient_establishment_id
    return recipient is not None and scope.can_read(session, principal, recipient)


def get_for(session: Session, principal: Principal, shipment_id: uuid.UUID) -> Shipment:
    shipment = session.get(Shipment, shipment_id)
    if shipment is None or not can_see(session, principal, shipment):
        raise NotFound()
    return shipment


def query(session: Session, principal: Principal, args: Mapping[str, Any]) -> Select[Any]:
    outgoing = scope.scope_filter(session, principal, Shipment.establishment_id)
    incoming = scope.scope_filter(session, principal, Shipment.recipient_establishment_id)
    direction = args.get("direction")
    if direction == "outgoing":
        stmt = select(Shipment).where(outgoing)
    elif direction == "incoming":
        stmt = select(Shipment).where(incoming, Shipment.recipient_establishment_id.is_not(None))
    else:
        stmt = select(Shipment).where(or_(outgoing, incoming))
    if args.get("establishment_id"):
        est = args["establishment_id"]
        stmt = stmt.where(
            or_(Shipment.establishment_id == est, Shipment.recipient_establishment_id == est)
        )
    if args.get("lot_id"):
        stmt = stmt.where(Shipment.lot_id == args["lot_id"])
    if args.get("status"):
        stmt = stmt.where(Shipment.status == args["status"])
    return stmt.order_by(Shipment.shipped_at.desc(), Shipment.id)


def send(session: Session, *, actor: Principal, data: Mapping[str, Any]) -> Shipment:
    lot = session.get(Lot, data["lot_id"])
    if lot is None or not scope.manages(session, actor, lot.establishment_id):
        raise InvalidInput.field(
            "lot_id", "Không có lô này trong phạm vi của bạn.", "No such lot in your scope."
        )
    if lot.status != "active":
        raise Conflict(
            "Chỉ giao được lô đang lưu hành (lô này đang bị giữ, thu hồi hoặc đã tiêu huỷ).",
            "Only an active lot can be shipped (this one is held, recalled or destroyed).",
            code="lot_not_active",
        )
    recipient_id = data.get("recipient_establishment_id")
    name = _text(data.get("recipient_name"))
    address = _text(data.get("recipient_address"))
    code = _text(data.get("recipient_code"))
    if recipient_id is not None:
        if recipient_id == lot.establishment_id:
            raise InvalidInput.field(
                "recipient_establishment_id",
                "Không giao cho chính cơ sở mình (hãy tách lô).",
                "A lot is not shipped to its own establishment (split it instead).",
            )
        recipient = directory.get_establishment(session, recipient_id, settings=scope._settings())
        if recipient is None:
            raise InvalidInput.field(
                "recipient_establishment_id",
                "Không có cơ sở nhận này trong hệ thống.",
                "No such recipient establishment in the system.",
            )
        name = name or recipient.name
        address = address or recipient.address
        code = code or recipient.business_registration_no
    elif not name:
        raise InvalidInput.field(
            "recipient_name",
            "Cần tên người nhận (hoặc chọn một cơ sở trong hệ thống).",
            "Give the recipient's name (or choose an establishment in the system).",
        )
    shipment = Shipment(
        id=uuid.uuid4(),
        lot_id=lot.id,
        establishment_id=lot.establishment_id,
        recipient_establishment_id=recipient_id,
        recipient_name=name,
        recipient_address=address,
        recipient_code=code,
        quantity=data.get("quantity"),
        unit=_text(data.get("unit")) or lot.unit,
        shipped_at=data["shipped_at"],
        place=_text(data.get("place")),
        note=_text(data.get("note")),
        status="sent",
        created_at=utcnow(),
    )
    session.add(shipment)
    session.flush()
    session.add(
        StageEvent(
            id=uuid.uuid4(),
            lot_id=lot.id,
            establishment_id=lot.establishment_id,
            kind="shipping",
            occurred_at=shipment.shipped_at,
            place=shipment.place,
            actor=actor.username,
            description=f"→ {name}",
            quantity=shipment.quantity,
            unit=shipment.unit,
            attachments=[],
            shipment_id=shipment.id,
            recorded_by=actor.account_id,
            recorded_by_name=actor.username,
            created_at=utcnow(),
        )
    )
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="shipment.send",
        entity_type="shipment",
        entity_id=shipment.id,
        establishment_id=lot.establishment_id,
        data={"lot_id": lot.id, "recipient": name, "recipient_id": recipient_id},
    )
    return shipment


def receive(
    session: Session, *, actor: Principal, shipment: Shipment, data: Mapping[str, Any]
) -> Lot:
    """The recipient takes the shipment into a new lot of one of its products (or an existing
    lot of its own): both sides of the graph are linked."""
    recipient = shipment.recipient_establishment_id
    if recipient is None or not scope.manages(session, actor, recipient):
        raise NotFound()
    if shipment.status != "sent":
        raise Conflict(
            "Chuyến hàng đã được nhận hoặc đã huỷ.",
            "The shipment was already received or cancelled.",
            code="shipment_not_open",
        )
    if data.get("lot_id"):
        lot = session.get(Lot, data["lot_id"])
        if lot is None or lot.establishment_id != recipient:
            raise InvalidInput.field(
                "lot_id", "Lô nhận phải là lô của cơ sở nhận.", "Receive into a lot of your own."
            )
    else:
        if not data.get("product_id") or not data.get("lot_code"):
            raise InvalidInput(
                fields={
                    name: [
                        lots_message(
                            "Cần chọn sản phẩm và số lô mới (hoặc một lô có sẵn).",
                            "Choose a product and a new lot code (or an existing lot).",
                        )
                    ]
                    for name in ("product_id", "lot_code")
                    if not data.get(name)
                }
            )
        product = session.get(Product, data["product_id"])
        if product is None or product.establishment_id != recipient:
            raise InvalidInput.field(
                "product_id",
                "Sản phẩm phải là sản phẩm của cơ sở nhận.",
                "Choose one of the recipient's products.",
            )
        source = session.get(Lot, shipment.lot_id)
        lot = lots.create(
            session,
            actor=actor,
            data={
                "product_id": product.id,
                "code": data["lot_code"],
                "production_date": data.get("production_date")
                or (source.production_date if source else None),
                "expiry_date": data.get("expiry_date") or (source.expiry_date if source else None),
                "quantity": data.get("quantity", shipment.quantity),
                "unit": data.get("unit") or shipment.unit,
            },
        )
        lot.origin = "received"
    quantity = data.get("quantity", shipment.quantity)
    shipment.status = "received"
    shipment.received_lot_id = lot.id
    shipment.received_at = data["received_at"]
    shipment.received_quantity = quantity
    shipment.received_place = _text(data.get("place"))
    session.add(
        LotLink(
            source_lot_id=shipment.lot_id,
            target_lot_id=lot.id,
            kind="shipment",
            quantity=quantity,
            unit=_text(data.get("unit")) or shipment.unit,
            occurred_at=shipment.received_at,
            place=shipment.received_place,
            shipment_id=shipment.id,
        )
    )
    session.add(
        StageEvent(
            id=uuid.uuid4(),
            lot_id=lot.id,
            establishment_id=lot.establishment_id,
            kind="receiving",
            occurred_at=shipment.received_at,
            place=shipment.received_place,
            actor=actor.username,
            description=f"← {shipment_source_name(session, shipment)}",
            quantity=quantity,
            unit=_text(data.get("unit")) or shipment.unit,
            attachments=[],
            shipment_id=shipment.id,
            recorded_by=actor.account_id,
            recorded_by_name=actor.username,
            created_at=utcnow(),
        )
    )
    session.flush()
    _follow_open_recalls(session, shipment.lot_id, actor)
    audit.record(
        session,
        actor=actor,
        action="shipment.receive",
        entity_type="shipment",
        entity_id=shipment.id,
        establishment_id=recipient,
        data={"lot_id": lot.id, "from_lot_id": shipment.lot_id},
    )
    return lot


def _follow_open_recalls(session: Session, source_lot_id: uuid.UUID, actor: Principal) -> None:
    """A lot received from a recalled lot joins the recall: marked recalled, its establishment
    and unit told, the recall's counts updated (the recall's own refresh, run for the system)."""
    from services.products.domain import recalls

    open_ids = session.scalars(
        select(Recall.id)
        .join(RecallLot, RecallLot.recall_id == Recall.id)
        .where(RecallLot.lot_id == source_lot_id, Recall.status.in_(lots.OPEN_RECALL))
    ).all()
    system = Principal(role="admin", username=f"system ({actor.username})")
    for recall_id in open_ids:
        recall = session.get(Recall, recall_id)
        if recall is not None:
            recalls.refresh_impact(session, actor=system, recall=recall)


def cancel(session: Session, *, actor: Principal, shipment: Shipment, reason: str) -> Shipment:
    """The shipper withdraws a shipment not yet received (entered by mistake)."""
    if not scope.manages(session, actor, shipment.establishment_id):
        raise NotFound()
    if shipment.status != "sent":
        raise Conflict(
            "Chỉ huỷ được chuyến hàng chưa được nhận.",
            "Only a shipment not yet received can be cancelled.",
            code="shipment_not_open",
        )
    cleaned = audit.reason_text(reason)
    shipment.status = "cancelled"
    shipment.note = ((shipment.note or "") + f"\n[Huỷ / cancelled] {cleaned}").strip()
    stage = session.scalar(
        select(StageEvent).where(
            StageEvent.shipment_id == shipment.id, StageEvent.kind == "shipping"
        )
    )
    if stage is not None:
        stage.voided_at = utcnow()
        stage.voided_reason = cleaned
        stage.voided_by_name = actor.username
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="shipment.cancel",
        entity_type="shipment",
        entity_id=shipment.id,
        establishment_id=shipment.establishment_id,
        reason=cleaned,
    )
    return shipment


def shipment_source_name(session: Session, shipment: Shipment) -> str:
    found = directory.get_establishment(session, shipment.establishment_id)
    return found.name if found else str(shipment.establishment_id)


def lots_message(vi: str, en: str) -> Any:
    from shared.errors import Message

    return Message(vi, en)
