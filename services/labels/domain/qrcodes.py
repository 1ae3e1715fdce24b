"""Product-level and lot-level QR codes (one per product or lot, issued on request)."""

from __future__ import annotations

import io
import uuid
from typing import Any

import segno
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.labels.domain import batches, codes
from services.labels.domain.directory import COPY
from services.labels.models import AuditEvent, QrCode
from shared import audit
from shared.auth import Principal
from shared.errors import InvalidInput, NotFound


def issue(
    session: Session,
    *,
    actor: Principal,
    settings: Any,
    product_id: uuid.UUID,
    lot_id: uuid.UUID | None,
) -> tuple[QrCode, bool]:
    """The code of this product (or lot), created on first request. Returns (code, created)."""
    card = batches.fetch_card(settings, product_id, lot_id)
    establishment_id = uuid.UUID(card["product"]["establishment"]["id"])
    if not COPY.manages(session, actor, establishment_id, settings):
        raise InvalidInput.field(
            "product_id",
            "Không có sản phẩm này trong phạm vi của bạn.",
            "No such product in your scope.",
            code="product_not_in_scope",
        )
    level = "lot" if lot_id else "product"
    found = session.scalar(
        select(QrCode).where(
            QrCode.level == level,
            QrCode.product_id == product_id,
            QrCode.lot_id.is_(None) if lot_id is None else QrCode.lot_id == lot_id,
        )
    )
    if found is not None:
        return found, False
    code = QrCode(
        id=uuid.uuid4(),
        code=codes.new_short_code(),
        level=level,
        establishment_id=establishment_id,
        product_id=product_id,
        lot_id=lot_id,
        gtin=card["product"].get("gtin"),
        lot_code=(card.get("lot") or {}).get("code"),
        created_by=actor.account_id,
    )
    session.add(code)
    session.flush()
    audit.record(
        session,
        AuditEvent,
        actor=actor,
        action="code.issue",
        entity_type="qr_code",
        entity_id=code.id,
        establishment_id=establishment_id,
        data={"level": level, "product_id": product_id, "lot_id": lot_id},
    )
    return code, True


def get_for(session: Session, principal: Principal, settings: Any, code_id: uuid.UUID) -> QrCode:
    code = session.get(QrCode, code_id)
    if code is None or not COPY.manages(session, principal, code.establishment_id, settings):
        raise NotFound()
    return code


def url(settings: Any, code: QrCode) -> str:
    return f"{settings.public_url}{codes.code_path(code)}"


def image(payload: str, kind: str, scale: int = 8) -> bytes:
    """The QR image (SVG or PNG) with a quiet zone of four modules."""
    qr = segno.make(payload, error="m", micro=False)
    buffer = io.BytesIO()
    qr.save(buffer, kind=kind, scale=scale, border=4)
    return buffer.getvalue()
