"""The answer of the internal indicators call the reports service makes (its query is
`shared.indicators.IndicatorsQuery`)."""

from __future__ import annotations

from marshmallow import Schema, fields


class LabelUnitCountsOut(Schema):
    unit_id = fields.UUID()
    labels_issued = fields.Integer(
        metadata={"description": "Serials of the batches ordered in the period (not voided)"}
    )
    batches = fields.Integer(metadata={"description": "Those batches"})
    scans = fields.Integer(metadata={"description": "Scans in the period"})
    counterfeit_alerts = fields.Integer(metadata={"description": "Alerts raised in the period"})


class LabelIndicatorsOut(Schema):
    as_of = fields.Date()
    start = fields.Date(data_key="from")
    end = fields.Date(data_key="to")
    units = fields.List(fields.Nested(LabelUnitCountsOut))
    products_with_codes = fields.List(
        fields.UUID(),
        metadata={"description": "Products with a product, lot or item-level code by as_of"},
    )
