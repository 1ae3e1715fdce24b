"""Lots, stage events (the production diary), outside suppliers and shipments: the contract."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.products.models import LOT_STATUSES, SHIPMENT_STATUSES, STAGE_KINDS
from services.products.schemas.common import (
    DecimalNumber,
    FileRef,
    Quantity,
    QuantityUnit,
    Reason,
    not_in_future,
    optional_text,
    text,
)
from shared.schema import Text


def lot_code(**kwargs: object) -> Text:
    return Text(
        validate=[
            validate.Length(min=1, max=64),
            validate.Regexp(
                r"^[0-9A-Za-z][0-9A-Za-z._/-]*$", error="Letters, digits and . _ / - only."
            ),
        ],
        metadata={"description": "Lot code (số lô), unique within the product"},
        **kwargs,  # type: ignore[arg-type]
    )


# Stage kinds an establishment records by hand; shipping and receiving come from shipments.
DIARY_KINDS = tuple(k for k in STAGE_KINDS if k not in {"shipping", "receiving"})


class InputIn(Schema):
    lot_id = fields.UUID(required=True)
    quantity = Quantity
    unit = QuantityUnit


class SourceIn(Schema):
    supplier_name = text(255, required=True)
    supplier_address = optional_text(500)
    supplier_code = optional_text(64)
    supplier_lot_code = optional_text(64)
    product_name = optional_text(255)
    quantity = Quantity
    unit = QuantityUnit
    received_at = fields.AwareDateTime(allow_none=True, validate=not_in_future)
    place = optional_text(255)


class LotIn(Schema):
    product_id = fields.UUID(required=True)
    code = lot_code(required=True)
    production_date = fields.Date(allow_none=True)
    expiry_date = fields.Date(allow_none=True)
    quantity = Quantity
    unit = QuantityUnit
    inputs = fields.List(
        fields.Nested(InputIn),
        load_default=list,
        validate=validate.Length(max=200),
        metadata={"description": "Lots this one was made from (one step back, in the system)"},
    )
    sources = fields.List(
        fields.Nested(SourceIn),
        load_default=list,
        validate=validate.Length(max=200),
        metadata={"description": "Suppliers outside the system (one step back)"},
    )

    @validates_schema
    def _dates(self, data: dict[str, object], **_: object) -> None:
        made, expires = data.get("production_date"), data.get("expiry_date")
        if made and expires and expires < made:  # type: ignore[operator]
            raise ValidationError(
                {
                    "vi": "Hạn sử dụng phải sau ngày sản xuất.",
                    "en": "Expiry must follow production.",
                },
                "expiry_date",
            )


class LotPatch(Schema):
    code = lot_code()
    production_date = fields.Date(allow_none=True)
    expiry_date = fields.Date(allow_none=True)
    quantity = Quantity
    unit = QuantityUnit


class LotStatusIn(Schema):
    status = fields.String(
        required=True,
        validate=validate.OneOf(("active", "on_hold", "destroyed")),
        metadata={
            "description": "Hold a lot, release it, or record it destroyed; recalls "
            "set `recalled` themselves"
        },
    )
    reason = Reason


class SplitPartIn(Schema):
    code = lot_code(required=True)
    quantity = Quantity
    unit = QuantityUnit


class SplitIn(Schema):
    parts = fields.List(
        fields.Nested(SplitPartIn), required=True, validate=validate.Length(min=2, max=100)
    )
    occurred_at = fields.AwareDateTime(load_default=None, validate=not_in_future)


class LotQuery(Schema):
    product_id = fields.UUID()
    establishment_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(LOT_STATUSES))
    code = text(64, metadata={"description": "Lot code starts with"})
    produced_from = fields.Date()
    produced_to = fields.Date()


class LotOut(Schema):
    id = fields.UUID()
    product_id = fields.UUID()
    product_name = fields.String()
    product_code = fields.String()
    gtin = fields.String(allow_none=True)
    establishment_id = fields.UUID()
    establishment_name = fields.String(allow_none=True)
    code = fields.String()
    production_date = fields.Date(allow_none=True)
    expiry_date = fields.Date(allow_none=True)
    quantity = DecimalNumber(allow_none=True)
    unit = fields.String(allow_none=True)
    origin = fields.String()
    status = fields.String()
    status_note = fields.String(allow_none=True)
    retain_until = fields.Date(allow_none=True)
    open_recalls = fields.List(fields.Dict(), dump_default=list)
    version = fields.Integer()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class StageIn(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(DIARY_KINDS))
    occurred_at = fields.AwareDateTime(required=True, validate=not_in_future)
    place = optional_text(255)
    place_code = optional_text(64)
    actor = optional_text(255)
    description = optional_text(5000, multiline=True)
    quantity = Quantity
    unit = QuantityUnit


class StageOut(Schema):
    id = fields.UUID()
    lot_id = fields.UUID()
    establishment_id = fields.UUID()
    kind = fields.String()
    occurred_at = fields.AwareDateTime()
    place = fields.String(allow_none=True)
    place_code = fields.String(allow_none=True)
    actor = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    quantity = DecimalNumber(allow_none=True)
    unit = fields.String(allow_none=True)
    attachments = fields.List(fields.Nested(FileRef), attribute="attachment_refs")
    shipment_id = fields.UUID(allow_none=True)
    recorded_by_name = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    voided_at = fields.AwareDateTime(allow_none=True)
    voided_reason = fields.String(allow_none=True)


class VoidIn(Schema):
    reason = Reason


class SourceOut(Schema):
    id = fields.UUID()
    supplier_name = fields.String()
    supplier_address = fields.String(allow_none=True)
    supplier_code = fields.String(allow_none=True)
    supplier_lot_code = fields.String(allow_none=True)
    product_name = fields.String(allow_none=True)
    quantity = DecimalNumber(allow_none=True)
    unit = fields.String(allow_none=True)
    received_at = fields.AwareDateTime(allow_none=True)
    place = fields.String(allow_none=True)


class ShipmentIn(Schema):
    lot_id = fields.UUID(required=True)
    recipient_establishment_id = fields.UUID(
        load_default=None,
        allow_none=True,
        metadata={"description": "An establishment in the system (it then receives the lot)"},
    )
    recipient_name = optional_text(255)
    recipient_address = optional_text(500)
    recipient_code = optional_text(64)
    quantity = Quantity
    unit = QuantityUnit
    shipped_at = fields.AwareDateTime(required=True, validate=not_in_future)
    place = optional_text(255)
    note = optional_text(2000, multiline=True)


class ReceiveIn(Schema):
    product_id = fields.UUID(
        load_default=None, metadata={"description": "Receive into a new lot of this product"}
    )
    lot_code = lot_code()
    lot_id = fields.UUID(
        load_default=None, metadata={"description": "…or into an existing lot of yours"}
    )
    received_at = fields.AwareDateTime(required=True, validate=not_in_future)
    quantity = Quantity
    unit = QuantityUnit
    place = optional_text(255)
    production_date = fields.Date(allow_none=True)
    expiry_date = fields.Date(allow_none=True)


class ShipmentQuery(Schema):
    direction = fields.String(
        validate=validate.OneOf(("incoming", "outgoing")),
        metadata={"description": "incoming: sent to the establishment; outgoing: sent by it"},
    )
    establishment_id = fields.UUID()
    lot_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(SHIPMENT_STATUSES))


class ShipmentOut(Schema):
    id = fields.UUID()
    lot_id = fields.UUID()
    lot_code = fields.String()
    product_name = fields.String()
    establishment_id = fields.UUID()
    establishment_name = fields.String(allow_none=True)
    recipient_establishment_id = fields.UUID(allow_none=True)
    recipient_name = fields.String()
    recipient_address = fields.String(allow_none=True)
    recipient_code = fields.String(allow_none=True)
    quantity = DecimalNumber(allow_none=True)
    unit = fields.String(allow_none=True)
    shipped_at = fields.AwareDateTime()
    place = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    status = fields.String()
    lot_status = fields.String(metadata={"description": "e.g. `recalled`: do not sell"})
    received_lot_id = fields.UUID(allow_none=True)
    received_at = fields.AwareDateTime(allow_none=True)
    received_quantity = DecimalNumber(allow_none=True)
    received_place = fields.String(allow_none=True)
    version = fields.Integer()


class CancelIn(Schema):
    reason = Reason
