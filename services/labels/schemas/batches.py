"""Label batches and product/lot codes: the API contract."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.labels.models import STICKER_PRESETS
from shared.schema import Text

PRINTABLE_FIELDS = (
    "product_name",
    "establishment",
    "lot",
    "production_date",
    "expiry_date",
    "certifications",
    "code",
)


class TemplateIn(Schema):
    preset = fields.String(
        load_default="40x30",
        validate=validate.OneOf(STICKER_PRESETS),
        metadata={"description": "Sticker size in mm on A4 sheets, or `roll-…` for thermal rolls"},
    )
    fields_ = fields.List(
        fields.String(validate=validate.OneOf(PRINTABLE_FIELDS)),
        data_key="fields",
        load_default=lambda: ["product_name", "establishment", "lot", "expiry_date", "code"],
        validate=validate.Length(max=len(PRINTABLE_FIELDS)),
    )
    margin_mm = fields.Float(
        load_default=None, allow_none=True, validate=validate.Range(0, 40), allow_nan=False
    )
    gap_mm = fields.Float(
        load_default=None, allow_none=True, validate=validate.Range(0, 20), allow_nan=False
    )


class BatchIn(Schema):
    product_id = fields.UUID(required=True)
    lot_id = fields.UUID(load_default=None, allow_none=True)
    quantity = fields.Integer(required=True, validate=validate.Range(1, 100_000))
    template = fields.Nested(TemplateIn, load_default=lambda: TemplateIn().load({}))


class BatchQuery(Schema):
    product_id = fields.UUID()
    lot_id = fields.UUID()
    establishment_id = fields.UUID()
    voided = fields.Boolean()


class VoidIn(Schema):
    reason = Text(required=True, validate=validate.Length(min=1, max=2000))


class BatchOut(Schema):
    id = fields.UUID()
    number = fields.String()
    establishment_id = fields.UUID()
    product_id = fields.UUID()
    lot_id = fields.UUID(allow_none=True)
    gtin = fields.String(allow_none=True)
    lot_code = fields.String(allow_none=True)
    quantity = fields.Integer()
    serial_start = fields.Integer()
    serial_end = fields.Integer()
    first_code = fields.String(metadata={"description": "The first label's code"})
    last_code = fields.String()
    template = fields.Dict()
    content = fields.Dict()
    status = fields.String(metadata={"description": "queued / rendering / done / failed / void"})
    progress = fields.Dict(allow_none=True)
    pdf_url = fields.String(allow_none=True)
    voided_at = fields.AwareDateTime(allow_none=True)
    voided_reason = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    created_by_name = fields.String(allow_none=True)


class CodeIn(Schema):
    product_id = fields.UUID(required=True)
    lot_id = fields.UUID(load_default=None, allow_none=True)


class CodeOut(Schema):
    id = fields.UUID()
    code = fields.String()
    level = fields.String()
    establishment_id = fields.UUID()
    product_id = fields.UUID()
    lot_id = fields.UUID(allow_none=True)
    gtin = fields.String(allow_none=True)
    lot_code = fields.String(allow_none=True)
    status = fields.String()
    url = fields.String(metadata={"description": "What the QR code holds"})
    image_url = fields.String()
    created_at = fields.AwareDateTime()
