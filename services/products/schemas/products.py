"""Products and certifications: the API contract."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.products.models import (
    CERTIFICATION_KINDS,
    PARTY_ROLES,
    PRESERVATIONS,
    PRODUCT_STATUSES,
)
from services.products.schemas.common import DecimalNumber, FileRef, decimal, optional_text, text
from shared.schema import Text


class PartyIn(Schema):
    role = fields.String(required=True, validate=validate.OneOf(PARTY_ROLES))
    establishment_id = fields.UUID(
        load_default=None,
        allow_none=True,
        metadata={"description": "An establishment in the system; else give name and address"},
    )
    name = optional_text(255)
    address = optional_text(500)


class PartyOut(Schema):
    role = fields.String()
    establishment_id = fields.UUID(allow_none=True)
    name = fields.String(allow_none=True)
    address = fields.String(allow_none=True)


class ProductIn(Schema):
    establishment_id = fields.UUID(
        load_default=None,
        metadata={
            "description": "Required for agencies and the administrator; an "
            "establishment's own products are always its own"
        },
    )
    name = text(255, required=True)
    code = text(64, required=True, metadata={"description": "Internal product code"})
    gtin = Text(
        allow_none=True,
        validate=validate.Length(min=8, max=14),
        metadata={"description": "GTIN-8/12/13/14 with a valid check digit (stored as GTIN-14)"},
    )
    category = optional_text(100)
    description = optional_text(5000, multiline=True)
    origin = optional_text(255)
    capacity = optional_text(255)
    packaging = optional_text(255)
    shelf_life_days = fields.Integer(allow_none=True, validate=validate.Range(0, 36500))
    preservation = fields.String(
        load_default="fresh",
        validate=validate.OneOf(PRESERVATIONS),
        metadata={"description": "fresh / frozen / processed: sets the records' retention"},
    )
    price = decimal(2, 0, 10**11, allow_none=True)
    price_unit = optional_text(32)
    standards = fields.List(text(100), load_default=list, validate=validate.Length(max=30))
    ocop_stars = fields.Integer(allow_none=True, validate=validate.Range(3, 5))
    ocop_decision_no = optional_text(64)
    ocop_decision_date = fields.Date(allow_none=True)
    ocop_expires_on = fields.Date(allow_none=True)
    is_key_product = fields.Boolean(load_default=False)
    is_packaged_processed = fields.Boolean(load_default=False)
    parties = fields.List(
        fields.Nested(PartyIn), load_default=list, validate=validate.Length(max=20)
    )


class ProductPatch(ProductIn):
    """Loaded with partial=True: only the fields sent change."""

    class Meta:
        exclude = ("establishment_id",)

    status = fields.String(validate=validate.OneOf(PRODUCT_STATUSES))


class ProductQuery(Schema):
    establishment_id = fields.UUID()
    q = Text(
        validate=validate.Length(max=200), metadata={"description": "Name, without diacritics"}
    )
    category = Text(validate=validate.Length(max=100))
    status = fields.String(validate=validate.OneOf(PRODUCT_STATUSES))
    key_product = fields.Boolean()
    packaged_processed = fields.Boolean()
    ocop = fields.Boolean()


class ProductOut(Schema):
    id = fields.UUID()
    establishment_id = fields.UUID()
    establishment_name = fields.String(allow_none=True)
    name = fields.String()
    code = fields.String()
    gtin = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    origin = fields.String(allow_none=True)
    capacity = fields.String(allow_none=True)
    packaging = fields.String(allow_none=True)
    shelf_life_days = fields.Integer(allow_none=True)
    preservation = fields.String()
    price = DecimalNumber(allow_none=True)
    price_unit = fields.String(allow_none=True)
    standards = fields.List(fields.String())
    ocop_stars = fields.Integer(allow_none=True)
    ocop_decision_no = fields.String(allow_none=True)
    ocop_decision_date = fields.Date(allow_none=True)
    ocop_expires_on = fields.Date(allow_none=True)
    ocop_status = fields.String(
        allow_none=True, metadata={"description": "valid / expiring / expired (OCOP rating)"}
    )
    is_key_product = fields.Boolean()
    is_packaged_processed = fields.Boolean()
    status = fields.String()
    image = fields.Nested(FileRef, allow_none=True)
    parties = fields.List(fields.Nested(PartyOut))
    version = fields.Integer()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class CertificationIn(Schema):
    establishment_id = fields.UUID(load_default=None)
    product_id = fields.UUID(
        load_default=None,
        allow_none=True,
        metadata={"description": "For a product's certificate; omit for the establishment's"},
    )
    kind = fields.String(required=True, validate=validate.OneOf(CERTIFICATION_KINDS))
    kind_other = optional_text(100)
    number = text(64, required=True)
    issuer = text(255, required=True)
    valid_from = fields.Date(allow_none=True)
    valid_to = fields.Date(allow_none=True)
    scope_note = optional_text(2000, multiline=True)


class CertificationPatch(Schema):
    kind = fields.String(validate=validate.OneOf(CERTIFICATION_KINDS))
    kind_other = optional_text(100)
    number = text(64)
    issuer = text(255)
    valid_from = fields.Date(allow_none=True)
    valid_to = fields.Date(allow_none=True)
    scope_note = optional_text(2000, multiline=True)


class CertificationQuery(Schema):
    establishment_id = fields.UUID()
    product_id = fields.UUID()
    kind = fields.String(validate=validate.OneOf(CERTIFICATION_KINDS))
    state = fields.String(validate=validate.OneOf(("valid", "expiring", "expired")))


class CertificationOut(Schema):
    id = fields.UUID()
    establishment_id = fields.UUID()
    product_id = fields.UUID(allow_none=True)
    kind = fields.String()
    kind_other = fields.String(allow_none=True)
    number = fields.String()
    issuer = fields.String()
    valid_from = fields.Date(allow_none=True)
    valid_to = fields.Date(allow_none=True)
    scope_note = fields.String(allow_none=True)
    state = fields.String(metadata={"description": "valid / expiring (within 6 months) / expired"})
    document = fields.Nested(FileRef, allow_none=True)
    version = fields.Integer()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
