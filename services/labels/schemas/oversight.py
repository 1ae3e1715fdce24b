"""What agencies and owners read: counterfeit alerts, consumers' problem reports, scan
statistics."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.labels.models import (
    ALERT_REASONS,
    ALERT_STATUSES,
    REPORT_KINDS,
    REPORT_STATUSES,
    RESOLUTIONS,
    UA_CLASSES,
)
from shared.schema import Text


class AlertQuery(Schema):
    status = fields.String(validate=validate.OneOf(ALERT_STATUSES))
    reason = fields.String(validate=validate.OneOf(ALERT_REASONS))
    establishment_id = fields.UUID()
    product_id = fields.UUID()


class AlertOut(Schema):
    id = fields.UUID()
    code = fields.String(metadata={"description": "The code as scanned (canonical for ours)"})
    reason = fields.String(
        metadata={"description": "too_many_scans, too_many_places, forged, void or unknown"}
    )
    serial = fields.Integer(allow_none=True)
    batch_id = fields.UUID(allow_none=True)
    product_id = fields.UUID(allow_none=True)
    establishment_id = fields.UUID(allow_none=True)
    establishment_name = fields.String(allow_none=True)
    scans = fields.Integer(metadata={"description": "Scans seen (client visits for a serial)"})
    places = fields.List(fields.String(), metadata={"description": "~11 km grid cells"})
    first_seen = fields.AwareDateTime()
    last_seen = fields.AwareDateTime()
    status = fields.String(metadata={"description": "open, dismissed or confirmed"})
    note = fields.String(allow_none=True)
    updated_at = fields.AwareDateTime()


class AlertStatusIn(Schema):
    status = fields.String(required=True, validate=validate.OneOf(ALERT_STATUSES))
    note = Text(
        load_default=None, allow_none=True, multiline=True, validate=validate.Length(max=2000)
    )


class ReportQuery(Schema):
    status = fields.String(validate=validate.OneOf(REPORT_STATUSES))
    kind = fields.String(validate=validate.OneOf(REPORT_KINDS))
    establishment_id = fields.UUID()
    product_id = fields.UUID()


class ReportOut(Schema):
    id = fields.UUID()
    code = fields.String()
    kind = fields.String(
        metadata={"description": "suspected_fake, quality, wrong_information or other"}
    )
    message = fields.String()
    contact = fields.String(
        allow_none=True,
        metadata={"description": "The reporter's contact: shown to agencies only"},
    )
    place_text = fields.String(allow_none=True)
    product_id = fields.UUID(allow_none=True)
    lot_id = fields.UUID(allow_none=True)
    establishment_id = fields.UUID(allow_none=True)
    establishment_name = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "new, in_review or closed"})
    handled_note = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class ReportStatusIn(Schema):
    status = fields.String(required=True, validate=validate.OneOf(REPORT_STATUSES))
    note = Text(
        load_default=None, allow_none=True, multiline=True, validate=validate.Length(max=2000)
    )


class StatsQuery(Schema):
    from_ = fields.Date(
        data_key="from",
        metadata={"description": "First day (Asia/Ho_Chi_Minh), default 30 days ago"},
    )
    to = fields.Date(metadata={"description": "Last day, inclusive; default today"})


class SummaryQuery(StatsQuery):
    group = fields.String(
        load_default="establishment", validate=validate.OneOf(("establishment", "product"))
    )


class _Count(Schema):
    key = fields.String()
    scans = fields.Integer()


class _Day(Schema):
    day = fields.Date()
    scans = fields.Integer()
    suspicious = fields.Integer(metadata={"description": "Scans not ok: suspicious, void, …"})


class ScanStatsOut(Schema):
    subject = fields.String(metadata={"description": "establishment or product"})
    id = fields.UUID()
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    total = fields.Integer()
    by_outcome = fields.Dict(
        keys=fields.String(validate=validate.OneOf(RESOLUTIONS)), values=fields.Integer()
    )
    by_ua_class = fields.Dict(
        keys=fields.String(validate=validate.OneOf(UA_CLASSES)), values=fields.Integer()
    )
    by_level = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_day = fields.List(fields.Nested(_Day))
    top_places = fields.List(fields.Nested(_Count))
    top_products = fields.List(fields.Nested(_Count))
    open_alerts = fields.Integer()


class SummaryRowOut(Schema):
    id = fields.UUID()
    name = fields.String(allow_none=True)
    total = fields.Integer()
    suspicious = fields.Integer()
    last_scan = fields.AwareDateTime(allow_none=True)
