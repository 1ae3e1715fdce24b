"""Products (sản phẩm) of an establishment, and the parties of their chain."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from services.products.domain import audit, directory, scope
from services.products.models import Lot, Product, ProductParty
from shared.auth import Principal
from shared.clock import local_today
from shared.errors import Conflict, InvalidInput, NotFound, PreconditionFailed
from shared.text import fold, nfc

EXPIRING_WITHIN = timedelta(days=183)  # renewal is asked six months ahead


def gtin_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit of the digits before it."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def normalise_gtin(value: str | None) -> str | None:
    """GTIN-8/12/13/14 → GTIN-14 (zero-padded), after checking digits and check digit."""
    if value is None:
        return None
    digits = value.strip().replace(" ", "")
    if not digits:
        return None
    if not digits.isdigit() or len(digits) not in {8, 12, 13, 14}:
        raise InvalidInput.field(
            "gtin",
            "GTIN phải gồm 8, 12, 13 hoặc 14 chữ số.",
            "A GTIN has 8, 12, 13 or 14 digits.",
            code="invalid_gtin",
        )
    if gtin_check_digit(digits[:-1]) != int(digits[-1]):
        raise InvalidInput.field(
            "gtin",
            "Số kiểm tra của GTIN không đúng.",
            "The GTIN's check digit is wrong.",
            code="invalid_gtin",
        )
    return digits.zfill(14)


def validity_state(valid_to: date | None, today: date | None = None) -> str | None:
    if valid_to is None:
        return None
    today = today or local_today()
    if valid_to < today:
        return "expired"
    if valid_to <= today + EXPIRING_WITHIN:
        return "expiring"
    return "valid"


def get_product(session: Session, product_id: uuid.UUID) -> Product:
    product = session.get(Product, product_id)
    if product is None:
        raise NotFound()
    return product


def get_product_for(session: Session, principal: Principal, product_id: uuid.UUID) -> Product:
    """The product if the caller may read it (its establishment's data), else 404."""
    product = get_product(session, product_id)
    if not scope.can_read(session, principal, product.establishment_id):
        raise NotFound()
    return product


def product_query(session: Session, principal: Principal, args: Mapping[str, Any]) -> Select[Any]:
    stmt = select(Product).where(scope.scope_filter(session, principal, Product.establishment_id))
    if args.get("establishment_id"):
        stmt = stmt.where(Product.establishment_id == args["establishment_id"])
    if args.get("q"):
        stmt = stmt.where(Product.name_folded.contains(fold(args["q"]), autoescape=True))
    if args.get("category"):
        stmt = stmt.where(Product.category == nfc(args["category"]))
    if args.get("status"):
        stmt = stmt.where(Product.status == args["status"])
    if "key_product" in args:
        stmt = stmt.where(Product.is_key_product.is_(args["key_product"]))
    if "packaged_processed" in args:
        stmt = stmt.where(Product.is_packaged_processed.is_(args["packaged_processed"]))
    if "ocop" in args:
        has = Product.ocop_stars.is_not(None)
        stmt = stmt.where(has if args["ocop"] else ~has)
    return stmt.order_by(Product.name_folded, Product.id)


def _parties(session: Session, items: list[Mapping[str, Any]]) -> list[ProductParty]:
    parties = []
    for position, item in enumerate(items):
        establishment_id = item.get("establishment_id")
        name = nfc(item.get("name") or "") or None
        if establishment_id is not None:
            known = directory.get_establishment(
                session, establishment_id, settings=scope._settings()
            )
            if known is None:
                raise InvalidInput.field(
                    f"parties.{position}.establishment_id",
                    "Không có cơ sở này trong hệ thống.",
                    "No such establishment in the system.",
                )
            name = name or known.name
        elif not name:
            raise InvalidInput.field(
                f"parties.{position}.name",
                "Cần tên của bên ngoài hệ thống (hoặc chọn một cơ sở trong hệ thống).",
                "Give the outside party's name (or choose an establishment in the system).",
            )
        parties.append(
            ProductParty(
                position=position,
                role=item["role"],
                establishment_id=establishment_id,
                name=name,
                address=nfc(item.get("address") or "") or None,
            )
        )
    return parties


_SIMPLE = (
    "name",
    "code",
    "category",
    "description",
    "origin",
    "capacity",
    "packaging",
    "shelf_life_days",
    "preservation",
    "price",
    "price_unit",
    "ocop_stars",
    "ocop_decision_no",
    "ocop_decision_date",
    "ocop_expires_on",
    "is_key_product",
    "is_packaged_processed",
    "status",
)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return nfc(value) or None
    return value


def _apply(session: Session, product: Product, data: Mapping[str, Any]) -> None:
    for name in _SIMPLE:
        if name in data:
            setattr(product, name, _clean(data[name]))
    if "standards" in data:
        product.standards = sorted({nfc(s) for s in data["standards"] if nfc(s)})
    if "gtin" in data:
        product.gtin = normalise_gtin(data["gtin"])
    if "parties" in data:
        product.parties = _parties(session, list(data["parties"]))
    if not product.name or not product.code:
        raise InvalidInput.field("name", "Cần tên và mã sản phẩm.", "Name and code are required.")
    product.name_folded = fold(product.name)
    if product.ocop_stars is None and (product.ocop_decision_no or product.ocop_expires_on):
        raise InvalidInput.field(
            "ocop_stars",
            "Cần số sao OCOP khi có quyết định công nhận.",
            "Give the OCOP star rating along with its decision.",
        )
    if (
        product.ocop_decision_date
        and product.ocop_expires_on
        and product.ocop_expires_on <= product.ocop_decision_date
    ):
        raise InvalidInput.field(
            "ocop_expires_on",
            "Ngày hết hạn OCOP phải sau ngày quyết định.",
            "The OCOP expiry must be after the decision date.",
        )


def _unique(session: Session, product: Product) -> None:
    clash = session.scalar(
        select(Product.id).where(
            Product.establishment_id == product.establishment_id,
            Product.code == product.code,
            Product.id != product.id,
        )
    )
    if clash:
        raise Conflict(
            "Cơ sở đã có sản phẩm với mã này.",
            "The establishment already has a product with this code.",
            code="duplicate_product_code",
            fields={"code": [audit_message("Mã đã dùng.", "Code already used.")]},
        )
    if product.gtin:
        owner = session.scalar(
            select(Product.id).where(Product.gtin == product.gtin, Product.id != product.id)
        )
        if owner:
            raise Conflict(
                "GTIN này đã được gán cho một sản phẩm khác.",
                "This GTIN is already assigned to another product.",
                code="duplicate_gtin",
                fields={"gtin": [audit_message("GTIN đã dùng.", "GTIN already used.")]},
            )


def audit_message(vi: str, en: str) -> Any:
    from shared.errors import Message

    return Message(vi, en)


def create(session: Session, *, actor: Principal, data: Mapping[str, Any]) -> Product:
    establishment_id = scope.target_establishment(session, actor, data.get("establishment_id"))
    product = Product(id=uuid.uuid4(), establishment_id=establishment_id, standards=[])
    _apply(session, product, data)
    _unique(session, product)
    session.add(product)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="product.create",
        entity_type="product",
        entity_id=product.id,
        establishment_id=establishment_id,
        data=snapshot(product),
    )
    return product


def update(
    session: Session,
    *,
    actor: Principal,
    product: Product,
    data: Mapping[str, Any],
    expected_version: int | None,
) -> Product:
    scope.require_manages(session, actor, product.establishment_id)
    check_version(product.version, expected_version)
    before = snapshot(product)
    _apply(session, product, data)
    _unique(session, product)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="product.update",
        entity_type="product",
        entity_id=product.id,
        establishment_id=product.establishment_id,
        data={"before": before, "after": snapshot(product)},
    )
    return product


def delete(session: Session, *, actor: Principal, product: Product, reason: str) -> None:
    """Only a product entered by mistake (no lot yet) is deleted; a product with lots is
    discontinued instead — its records stay for the Circular's retention."""
    scope.require_manages(session, actor, product.establishment_id)
    if session.scalar(select(exists().where(Lot.product_id == product.id))):
        raise Conflict(
            "Sản phẩm đã có lô nên không xoá được; hãy chuyển sang ngừng sản xuất.",
            "The product has lots and cannot be deleted; mark it discontinued instead.",
            code="product_has_lots",
        )
    audit.record(
        session,
        actor=actor,
        action="product.delete",
        entity_type="product",
        entity_id=product.id,
        establishment_id=product.establishment_id,
        reason=audit.reason_text(reason),
        data=snapshot(product),
    )
    session.delete(product)
    session.flush()


def set_image(
    session: Session,
    *,
    actor: Principal,
    product: Product,
    key: str | None,
    content_type: str | None,
) -> str | None:
    """Point the product at a new image (or none); returns the old key to delete after commit."""
    scope.require_manages(session, actor, product.establishment_id)
    old = product.image_key
    product.image_key = key
    product.image_type = content_type
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="product.image" if key else "product.image_remove",
        entity_type="product",
        entity_id=product.id,
        establishment_id=product.establishment_id,
    )
    return old


def check_version(current: int, expected: int | None) -> None:
    if expected is None:
        raise PreconditionFailed(
            "Cần gửi phiên bản đang sửa (If-Match) để tránh ghi đè thay đổi của người khác.",
            "Send the version you are editing (If-Match) so nobody's change is overwritten.",
            code="version_required",
        )
    if expected != current:
        raise PreconditionFailed(extra={"current_version": current})


def snapshot(product: Product) -> dict[str, Any]:
    data = {name: getattr(product, name) for name in _SIMPLE}
    data.update(gtin=product.gtin, standards=list(product.standards or []))
    data["parties"] = [
        {"role": p.role, "establishment_id": p.establishment_id, "name": p.name}
        for p in product.parties
    ]
    return audit.jsonable(data)
