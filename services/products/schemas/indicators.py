"""The answer of the internal indicators call the reports service makes (its query is
`shared.indicators.IndicatorsQuery`)."""

from __future__ import annotations

from marshmallow import Schema, fields


class ProductUnitCountsOut(Schema):
    unit_id = fields.UUID()
    products = fields.Integer(metadata={"description": "Active products existing at as_of"})
    ocop_products = fields.Integer(metadata={"description": "Of those, with a valid OCOP rating"})
    key_products = fields.Integer()
    packaged_processed = fields.Integer()
    packaged_processed_traceable = fields.Integer(
        metadata={"description": "Packaged processed with a lot with a diary entry by as_of"}
    )
    lots_created = fields.Integer(metadata={"description": "In the period"})
    recalls_opened = fields.Integer(metadata={"description": "In the period"})
    recalls_closed = fields.Integer(metadata={"description": "In the period"})
    recalls_open = fields.Integer(metadata={"description": "At the end of as_of"})


class TargetProductOut(Schema):
    id = fields.UUID()
    unit_id = fields.UUID()


class ProductIndicatorsOut(Schema):
    as_of = fields.Date()
    start = fields.Date(data_key="from")
    end = fields.Date(data_key="to")
    units = fields.List(fields.Nested(ProductUnitCountsOut))
    target_products = fields.List(
        fields.Nested(TargetProductOut),
        metadata={"description": "Every OCOP or key product counted, with its unit"},
    )
