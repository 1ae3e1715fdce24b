"""Certifications (chứng nhận) of an establishment or of one of its products: food-safety
certificate or commitment, VietGAP, GlobalGAP, organic, GMP, HACCP, ISO 22000, OCOP, other —
each with number, issuer, validity and a scanned document."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from services.products.domain import audit, scope
from services.products.domain.products import EXPIRING_WITHIN, check_version, validity_state
from services.products.models import Certification, Product
from shared.auth import Principal
from shared.clock import local_today
from shared.errors import InvalidInput, NotFound
from shared.text import nfc

_FIELDS = ("kind", "kind_other", "number", "issuer", "valid_from", "valid_to", "scope_note")


def state(certification: Certification, today: date | None = None) -> str:
    return validity_state(certification.valid_to, today) or "valid"


def get_for(session: Session, principal: Principal, certification_id: uuid.UUID) -> Certification:
    certification = session.get(Certification, certification_id)
    if certification is None or not scope.can_read(
        session, principal, certification.establishment_id
    ):
        raise NotFound()
    return certification


def query(session: Session, principal: Principal, args: Mapping[str, Any]) -> Select[Any]:
    stmt = select(Certification).where(
        scope.scope_filter(session, principal, Certification.establishment_id)
    )
    if args.get("establishment_id"):
        stmt = stmt.where(Certification.establishment_id == args["establishment_id"])
    if args.get("product_id"):
        stmt = stmt.where(Certification.product_id == args["product_id"])
    if args.get("kind"):
        stmt = stmt.where(Certification.kind == args["kind"])
    today = local_today()
    match args.get("state"):
        case "expired":
            stmt = stmt.where(Certification.valid_to < today)
        case "expiring":
            stmt = stmt.where(
                Certification.valid_to >= today, Certification.valid_to <= today + EXPIRING_WITHIN
            )
        case "valid":
            stmt = stmt.where(
                (Certification.valid_to.is_(None))
                | (Certification.valid_to > today + EXPIRING_WITHIN)
            )
    return stmt.order_by(Certification.valid_to.desc(), Certification.id)


def _apply(certification: Certification, data: Mapping[str, Any]) -> None:
    for name in _FIELDS:
        if name in data:
            value = data[name]
            setattr(certification, name, nfc(value) or None if isinstance(value, str) else value)
    if not certification.number or not certification.issuer:
        raise InvalidInput.field(
            "number", "Cần số và nơi cấp.", "The number and the issuer are required."
        )
    if certification.kind == "other" and not certification.kind_other:
        raise InvalidInput.field(
            "kind_other", "Cần nêu loại chứng nhận.", "Say which kind of certification this is."
        )
    if (
        certification.valid_from
        and certification.valid_to
        and certification.valid_to < certification.valid_from
    ):
        raise InvalidInput.field(
            "valid_to",
            "Ngày hết hiệu lực phải sau ngày bắt đầu hiệu lực.",
            "The end of validity must come after its start.",
        )


def create(session: Session, *, actor: Principal, data: Mapping[str, Any]) -> Certification:
    product_id = data.get("product_id")
    requested = data.get("establishment_id")
    if product_id is not None:
        product = session.get(Product, product_id)
        if product is None or not scope.manages(session, actor, product.establishment_id):
            raise InvalidInput.field(
                "product_id",
                "Không có sản phẩm này trong phạm vi của bạn.",
                "No such product in your scope.",
            )
        requested = requested or product.establishment_id
        if requested != product.establishment_id:
            raise InvalidInput.field(
                "product_id",
                "Sản phẩm không thuộc cơ sở này.",
                "The product belongs to another establishment.",
            )
    establishment_id = scope.target_establishment(session, actor, requested)
    certification = Certification(
        id=uuid.uuid4(), establishment_id=establishment_id, product_id=product_id
    )
    _apply(certification, data)
    session.add(certification)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="certification.create",
        entity_type="certification",
        entity_id=certification.id,
        establishment_id=establishment_id,
        data=snapshot(certification),
    )
    return certification


def update(
    session: Session,
    *,
    actor: Principal,
    certification: Certification,
    data: Mapping[str, Any],
    expected_version: int | None,
) -> Certification:
    scope.require_manages(session, actor, certification.establishment_id)
    check_version(certification.version, expected_version)
    before = snapshot(certification)
    _apply(certification, data)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="certification.update",
        entity_type="certification",
        entity_id=certification.id,
        establishment_id=certification.establishment_id,
        data={"before": before, "after": snapshot(certification)},
    )
    return certification


def delete(
    session: Session, *, actor: Principal, certification: Certification, reason: str
) -> None:
    scope.require_manages(session, actor, certification.establishment_id)
    audit.record(
        session,
        actor=actor,
        action="certification.delete",
        entity_type="certification",
        entity_id=certification.id,
        establishment_id=certification.establishment_id,
        reason=audit.reason_text(reason),
        data=snapshot(certification),
    )
    session.delete(certification)
    session.flush()


def set_document(
    session: Session,
    *,
    actor: Principal,
    certification: Certification,
    key: str,
    content_type: str,
    name: str,
    size: int,
) -> str | None:
    scope.require_manages(session, actor, certification.establishment_id)
    old = certification.document_key
    certification.document_key = key
    certification.document_type = content_type
    certification.document_name = name
    certification.document_size = size
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="certification.document",
        entity_type="certification",
        entity_id=certification.id,
        establishment_id=certification.establishment_id,
        data={"name": name, "size": size, "content_type": content_type},
    )
    return old


def snapshot(certification: Certification) -> dict[str, Any]:
    return audit.jsonable({name: getattr(certification, name) for name in _FIELDS})
