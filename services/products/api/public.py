"""The public card of a product or lot (no login): what the trace page shows, nothing more."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from services.products.api.common import send_stored
from services.products.domain import public
from services.products.domain.products import get_product
from services.products.schemas.common import DecimalNumber
from shared.db import request_session
from shared.errors import NotFound
from shared.schema import Text

PREFIX = "public"
blp = Blueprint("public", __name__, description="Public trace cards (no login)")


class _Establishment(Schema):
    id = fields.UUID()
    name = fields.String()
    address = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    representative = fields.String(allow_none=True)
    food_safety_status = fields.String()
    certificate_no = fields.String(allow_none=True)
    certificate_issuer = fields.String(allow_none=True)
    certificate_expires_on = fields.Date(allow_none=True)
    certificate_state = fields.String(allow_none=True)
    ocop_stars = fields.Integer(allow_none=True)
    active = fields.Boolean()
    account_suspended = fields.Boolean()


class _Certification(Schema):
    kind = fields.String()
    kind_other = fields.String(allow_none=True)
    number = fields.String()
    issuer = fields.String()
    valid_from = fields.Date(allow_none=True)
    valid_to = fields.Date(allow_none=True)
    state = fields.String()
    product_level = fields.Boolean()


class _Party(Schema):
    role = fields.String()
    name = fields.String(allow_none=True)
    address = fields.String(allow_none=True)


class _Product(Schema):
    id = fields.UUID()
    name = fields.String()
    code = fields.String()
    gtin = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    origin = fields.String(allow_none=True)
    capacity = fields.String(allow_none=True)
    packaging = fields.String(allow_none=True)
    shelf_life_days = fields.Integer(allow_none=True)
    price = DecimalNumber(allow_none=True)
    price_unit = fields.String(allow_none=True)
    standards = fields.List(fields.String())
    ocop_stars = fields.Integer(allow_none=True)
    ocop_expires_on = fields.Date(allow_none=True)
    ocop_state = fields.String(allow_none=True)
    is_key_product = fields.Boolean()
    has_image = fields.Boolean()
    status = fields.String()
    establishment = fields.Nested(_Establishment, allow_none=True)
    parties = fields.List(fields.Nested(_Party))
    certifications = fields.List(fields.Nested(_Certification))


class _Lot(Schema):
    id = fields.UUID()
    code = fields.String()
    production_date = fields.Date(allow_none=True)
    expiry_date = fields.Date(allow_none=True)
    quantity = DecimalNumber(allow_none=True)
    unit = fields.String(allow_none=True)
    status = fields.String()


class _Stage(Schema):
    kind = fields.String()
    occurred_at = fields.AwareDateTime()
    place = fields.String(allow_none=True)
    place_code = fields.String(allow_none=True)
    actor = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    lot_code = fields.String()
    product_name = fields.String()
    product_code = fields.String()
    establishment_name = fields.String(allow_none=True)
    establishment_address = fields.String(allow_none=True)


class _Recall(Schema):
    number = fields.String()
    kind = fields.String()
    reason = fields.String()
    opened_at = fields.AwareDateTime()
    status = fields.String()


class PublicCardOut(Schema):
    product = fields.Nested(_Product)
    lot = fields.Nested(_Lot, allow_none=True)
    chain = fields.List(fields.Nested(_Stage))
    recall = fields.Nested(_Recall, allow_none=True)


class ByCodeQuery(Schema):
    code = Text(required=True, validate=validate.Length(min=1, max=64))


@blp.get("/products/<uuid:product_id>")
@blp.response(200, PublicCardOut)
@blp.doc(security=[])
def product_card(product_id: uuid.UUID) -> dict[str, Any]:
    """A product's public card (no lot): for a product-level QR code."""
    return public.product_view(request_session(), product_id)


@blp.get("/lots/<uuid:lot_id>")
@blp.response(200, PublicCardOut)
@blp.doc(security=[])
def lot_card(lot_id: uuid.UUID) -> dict[str, Any]:
    """A lot's public card: product, establishment, certifications with their validity, the
    lot, the stages of its chain with times and places, and the recall notice if recalled."""
    return public.lot_view(request_session(), lot_id)


@blp.get("/products/<uuid:product_id>/lots")
@blp.arguments(ByCodeQuery, location="query")
@blp.response(200, PublicCardOut)
@blp.doc(security=[])
def lot_card_by_code(args: dict[str, Any], product_id: uuid.UUID) -> dict[str, Any]:
    """A lot's public card found by product and lot code (GS1 Digital Link `/01/…/10/…`)."""
    return public.lot_view_by_code(request_session(), product_id, args["code"])


@blp.get("/products/<uuid:product_id>/image")
@blp.response(200, content_type="image/*")
@blp.doc(security=[])
def product_image(product_id: uuid.UUID) -> Response:
    """The product's photo."""
    product = get_product(request_session(), product_id)
    if not product.image_key or not product.image_type:
        raise NotFound("Sản phẩm chưa có ảnh.", "The product has no photo.")
    return send_stored(product.image_key, product.image_type, "image", inline=True)
