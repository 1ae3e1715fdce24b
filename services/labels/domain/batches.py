"""Label batches (đợt in tem): N serialised labels ordered for a product or a lot.

Serials are allocated as ranges from one counter with a single atomic
`UPDATE … SET next_value = next_value + n RETURNING next_value`, inside the order's own
transaction: concurrent orders queue on the counter row (PostgreSQL row lock; SQLite's
`BEGIN IMMEDIATE`), so ranges never overlap. Gap policy: an order that fails before its
commit rolls the counter back with it (no gap); a committed batch keeps its range for ever —
a voided batch's serials resolve as void, never re-issued.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from services.labels.domain import codes
from services.labels.domain.directory import COPY
from services.labels.models import AuditEvent, LabelBatch, SerialCounter
from shared import audit
from shared.auth import Principal
from shared.db import utcnow
from shared.errors import Conflict, InvalidInput, NotFound
from shared.http import ServiceCallFailed, ServiceClient
from shared.text import nfc

ITEMS = "items"
MAX_PER_ORDER = 100_000


def allocate(session: Session, quantity: int) -> int:
    """The first of `quantity` consecutive fresh serials (the counter starts at 1)."""
    if session.get_bind().dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
    session.execute(insert(SerialCounter).values(name=ITEMS, next_value=1).on_conflict_do_nothing())
    next_value = session.execute(
        update(SerialCounter)
        .where(SerialCounter.name == ITEMS)
        .values(next_value=SerialCounter.next_value + quantity)
        .returning(SerialCounter.next_value)
    ).scalar_one()
    return int(next_value) - quantity


def fetch_card(settings: Any, product_id: uuid.UUID, lot_id: uuid.UUID | None) -> dict[str, Any]:
    """The product's (or lot's) current public card from the products service: an order is
    rare and must see the lot as it is now (a recalled lot gets no new labels)."""
    client = ServiceClient.for_service("products", settings, calling_service="labels")
    try:
        path = (
            f"/api/v1/public/lots/{lot_id}" if lot_id else f"/api/v1/public/products/{product_id}"
        )
        response = client.get(path)
    finally:
        client.close()
    if response.status_code == 404:
        field = "lot_id" if lot_id else "product_id"
        raise InvalidInput.field(field, "Không tìm thấy.", "Not found.", code="not_found")
    if response.status_code != 200:
        raise ServiceCallFailed(extra={"dependency": "products"})
    card: dict[str, Any] = response.json()
    if lot_id and card["product"]["id"] != str(product_id):
        raise InvalidInput.field(
            "lot_id",
            "Lô không thuộc sản phẩm này.",
            "The lot belongs to another product.",
        )
    return card


def _content(card: Mapping[str, Any]) -> dict[str, Any]:
    """What prints on every label of the batch (a snapshot at order time)."""
    product = card["product"]
    establishment = product.get("establishment") or {}
    lot = card.get("lot") or {}
    kinds = sorted(
        {c["kind"] for c in product.get("certifications", []) if c["state"] != "expired"}
    )
    return {
        "product_name": product["name"],
        "product_code": product.get("gtin") or product.get("code"),
        "establishment_name": establishment.get("name"),
        "establishment_address": establishment.get("address"),
        "establishment_phone": establishment.get("phone"),
        "lot_code": lot.get("code"),
        "production_date": lot.get("production_date"),
        "expiry_date": lot.get("expiry_date"),
        "certifications": kinds,
        "ocop_stars": product.get("ocop_stars"),
    }


def _number(session: Session, now: datetime) -> str:
    prefix = f"TEM-{now:%Y}-"
    count = session.scalar(
        select(func.count()).select_from(LabelBatch).where(LabelBatch.number.startswith(prefix))
    )
    return f"{prefix}{(count or 0) + 1:06d}"


def order(
    session: Session,
    *,
    actor: Principal,
    settings: Any,
    product_id: uuid.UUID,
    lot_id: uuid.UUID | None,
    quantity: int,
    template: Mapping[str, Any],
) -> LabelBatch:
    if not 1 <= quantity <= MAX_PER_ORDER:
        raise InvalidInput.field(
            "quantity",
            f"Số tem mỗi lần đặt từ 1 đến {MAX_PER_ORDER:,}.".replace(",", "."),
            f"Order between 1 and {MAX_PER_ORDER:,} labels at a time.",
        )
    from services.labels.domain.render import Template

    checked = Template.from_json(template)  # 422 with field errors before anything else
    card = fetch_card(settings, product_id, lot_id)
    establishment_id = uuid.UUID(card["product"]["establishment"]["id"])
    if not COPY.manages(session, actor, establishment_id, settings):
        raise InvalidInput.field(
            "product_id",
            "Không có sản phẩm này trong phạm vi của bạn.",
            "No such product in your scope.",
            code="product_not_in_scope",
        )
    if card["product"]["status"] != "active":
        raise Conflict("Sản phẩm đã ngừng sản xuất.", "The product is discontinued.")
    lot = card.get("lot")
    if lot and lot["status"] in {"recalled", "destroyed"}:
        raise Conflict(
            "Lô đang bị thu hồi hoặc đã tiêu huỷ: không in tem.",
            "The lot is recalled or destroyed: no labels are printed for it.",
            code="lot_not_printable",
        )
    establishment = COPY.get_establishment(session, establishment_id, settings=settings)
    now = utcnow()
    start = allocate(session, quantity)
    probe = LabelBatch(gtin=card["product"].get("gtin"), lot_code=lot["code"] if lot else None)
    # The longest code of the batch must fit the sticker as a readable QR (else 422).
    checked.check_payload(
        codes.item_payload(
            settings.serial_signing_key, settings.public_url, probe, start + quantity - 1
        )[0]
    )
    batch = LabelBatch(
        id=uuid.uuid4(),
        number=_number(session, now),
        establishment_id=establishment_id,
        unit_path=establishment.unit_path if establishment else None,
        product_id=product_id,
        lot_id=lot_id,
        gtin=card["product"].get("gtin"),
        lot_code=lot["code"] if lot else None,
        quantity=quantity,
        serial_start=start,
        serial_end=start + quantity - 1,
        template=checked.to_json(),
        content=_content(card),
        created_by=actor.account_id,
        created_by_name=actor.username,
        created_at=now,
    )
    session.add(batch)
    session.flush()
    audit.record(
        session,
        AuditEvent,
        actor=actor,
        action="batch.order",
        entity_type="label_batch",
        entity_id=batch.id,
        establishment_id=establishment_id,
        data={
            "number": batch.number,
            "quantity": quantity,
            "serials": [batch.serial_start, batch.serial_end],
            "lot_id": lot_id,
        },
    )
    return batch


def query(
    session: Session, principal: Principal, settings: Any, args: Mapping[str, Any]
) -> Select[Any]:
    stmt = select(LabelBatch).where(
        COPY.scope_filter(session, principal, LabelBatch.establishment_id, settings)
    )
    for name in ("product_id", "lot_id", "establishment_id"):
        if args.get(name):
            stmt = stmt.where(getattr(LabelBatch, name) == args[name])
    if "voided" in args:
        voided = LabelBatch.voided_at.is_not(None)
        stmt = stmt.where(voided if args["voided"] else ~voided)
    return stmt.order_by(LabelBatch.created_at.desc(), LabelBatch.id)


def get_for(
    session: Session, principal: Principal, settings: Any, batch_id: uuid.UUID
) -> LabelBatch:
    batch = session.get(LabelBatch, batch_id)
    if batch is None or not COPY.manages(session, principal, batch.establishment_id, settings):
        raise NotFound()
    return batch


def void(session: Session, *, actor: Principal, batch: LabelBatch, reason: str) -> LabelBatch:
    """Void a batch (lost, stolen, misprinted): its codes then resolve as void."""
    cleaned = nfc(reason or "")
    if not cleaned:
        raise InvalidInput.field("reason", "Cần nêu lý do.", "A reason is required.")
    if batch.voided_at is not None:
        return batch
    batch.voided_at = utcnow()
    batch.voided_reason = cleaned
    batch.voided_by = actor.account_id
    session.flush()
    audit.record(
        session,
        AuditEvent,
        actor=actor,
        action="batch.void",
        entity_type="label_batch",
        entity_id=batch.id,
        establishment_id=batch.establishment_id,
        reason=cleaned,
    )
    return batch


def find_by_serial(session: Session, serial: int) -> LabelBatch | None:
    """The batch whose range holds `serial` (one index probe)."""
    batch = session.scalar(
        select(LabelBatch)
        .where(LabelBatch.serial_start <= serial)
        .order_by(LabelBatch.serial_start.desc())
        .limit(1)
    )
    if batch is None or batch.serial_end < serial:
        return None
    return batch
