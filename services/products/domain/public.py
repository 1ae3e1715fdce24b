"""What anyone may see about a product or a lot: the public trace card (Circular 02/2024's
minimum data: name, image, producer and address, the stages with product code, place and time,
the traceability code, serial where any, shelf life, standards applied) — and nothing else.

The labels service shows this on the page a shopper reaches by scanning a QR label.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from services.products.domain import directory
from services.products.domain.graph import walk
from services.products.domain.lots import OPEN_RECALL
from services.products.domain.products import validity_state
from services.products.models import (
    Certification,
    DirectoryEstablishment,
    Lot,
    Product,
    Recall,
    RecallLot,
    StageEvent,
)
from shared.clock import local_today
from shared.errors import NotFound

# The chain shown to the public goes this many steps back (farm → processor → packer …).
CHAIN_DEPTH = 6
MAX_CHAIN_LOTS = 50


def establishment_card(found: DirectoryEstablishment | None) -> dict[str, Any] | None:
    if found is None:
        return None
    certificate_state = validity_state(found.certificate_expires_on)
    return {
        "id": found.id,
        "name": found.name,
        "address": found.address,
        "phone": found.phone,
        "representative": found.representative,
        "food_safety_status": found.food_safety_status,
        "certificate_no": found.certificate_no,
        "certificate_issuer": found.certificate_issuer,
        "certificate_expires_on": found.certificate_expires_on,
        "certificate_state": certificate_state,
        "ocop_stars": found.ocop_stars if found.ocop else None,
        "active": found.status == "active",
        "account_suspended": found.account_status in {"suspended", "revoked"},
    }


def product_card(session: Session, product: Product) -> dict[str, Any]:
    today = local_today()
    certifications = session.scalars(
        select(Certification)
        .where(
            Certification.establishment_id == product.establishment_id,
            or_(Certification.product_id.is_(None), Certification.product_id == product.id),
        )
        .order_by(Certification.kind, Certification.valid_to.desc())
    )
    establishment = directory.get_establishment(session, product.establishment_id)
    return {
        "id": product.id,
        "name": product.name,
        "code": product.code,
        "gtin": product.gtin,
        "category": product.category,
        "description": product.description,
        "origin": product.origin,
        "capacity": product.capacity,
        "packaging": product.packaging,
        "shelf_life_days": product.shelf_life_days,
        "price": product.price,
        "price_unit": product.price_unit,
        "standards": list(product.standards or []),
        "ocop_stars": product.ocop_stars,
        "ocop_expires_on": product.ocop_expires_on,
        "ocop_state": validity_state(product.ocop_expires_on, today)
        if product.ocop_stars
        else None,
        "is_key_product": product.is_key_product,
        "has_image": product.image_key is not None,
        "status": product.status,
        "establishment": establishment_card(establishment),
        "parties": [
            {"role": p.role, "name": p.name, "address": p.address} for p in product.parties
        ],
        "certifications": [
            {
                "kind": c.kind,
                "kind_other": c.kind_other,
                "number": c.number,
                "issuer": c.issuer,
                "valid_from": c.valid_from,
                "valid_to": c.valid_to,
                "state": validity_state(c.valid_to, today) or "valid",
                "product_level": c.product_id is not None,
            }
            for c in certifications
        ],
    }


def product_view(session: Session, product_id: uuid.UUID) -> dict[str, Any]:
    product = session.get(Product, product_id)
    if product is None:
        raise NotFound()
    return {"product": product_card(session, product), "lot": None, "chain": [], "recall": None}


def lot_view(session: Session, lot_id: uuid.UUID) -> dict[str, Any]:
    lot = session.get(Lot, lot_id)
    if lot is None:
        raise NotFound()
    return _lot_view(session, lot)


def lot_view_by_code(session: Session, product_id: uuid.UUID, code: str) -> dict[str, Any]:
    lot = session.scalar(select(Lot).where(Lot.product_id == product_id, Lot.code == code))
    if lot is None:
        raise NotFound()
    return _lot_view(session, lot)


def _lot_view(session: Session, lot: Lot) -> dict[str, Any]:
    product = lot.product
    back = walk(session, lot.id, "backward", max_depth=CHAIN_DEPTH)
    chain_ids = sorted(back.depth, key=lambda i: back.depth[i])[:MAX_CHAIN_LOTS]
    chain_lots = {
        row.id: (row, p)
        for row, p in session.execute(
            select(Lot, Product)
            .join(Product, Product.id == Lot.product_id)
            .where(Lot.id.in_(chain_ids))
        ).all()
    }
    names = {
        e.id: e
        for e in session.scalars(
            select(DirectoryEstablishment).where(
                DirectoryEstablishment.id.in_(
                    {lt.establishment_id for lt, _ in chain_lots.values()}
                )
            )
        )
    }
    # In time order; at the same time, the lot further upstream first, then as recorded.
    stages = sorted(
        session.scalars(
            select(StageEvent).where(
                StageEvent.lot_id.in_(chain_ids), StageEvent.voided_at.is_(None)
            )
        ),
        key=lambda e: (e.occurred_at, -back.depth[e.lot_id], e.created_at, str(e.id)),
    )
    chain = []
    for event in stages:
        event_lot, event_product = chain_lots[event.lot_id]
        owner = names.get(event_lot.establishment_id)
        chain.append(
            {
                "kind": event.kind,
                "occurred_at": event.occurred_at,
                "place": event.place,
                "place_code": event.place_code,
                "actor": event.actor if event.kind not in {"shipping", "receiving"} else None,
                "description": event.description
                if event.kind not in {"shipping", "receiving"}
                else None,
                "lot_code": event_lot.code,
                "product_name": event_product.name,
                "product_code": event_product.gtin or event_product.code,
                "establishment_name": owner.name if owner else None,
                "establishment_address": owner.address if owner else None,
            }
        )
    recall = session.execute(
        select(Recall)
        .join(RecallLot, RecallLot.recall_id == Recall.id)
        .where(RecallLot.lot_id == lot.id, Recall.status.in_((*OPEN_RECALL, "closed")))
        .order_by(Recall.opened_at.desc())
        .limit(1)
    ).scalar()
    return {
        "product": product_card(session, product),
        "lot": {
            "id": lot.id,
            "code": lot.code,
            "production_date": lot.production_date,
            "expiry_date": lot.expiry_date,
            "quantity": lot.quantity,
            "unit": lot.unit,
            "status": lot.status,
        },
        "chain": chain,
        "recall": None
        if recall is None or lot.status not in {"recalled", "destroyed"}
        else {
            "number": recall.number,
            "kind": recall.kind,
            "reason": recall.reason,
            "opened_at": recall.opened_at,
            "status": recall.status,
        },
    }
