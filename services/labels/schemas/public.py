"""The public side's contract: a resolved code (the trace page's JSON twin) and the report
form. Only public fields: nothing here names an account, a registration number or a
shipment's quantity."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.labels.models import REPORT_KINDS
from shared.schema import Text


class TraceText(Schema):
    vi = fields.String()
    en = fields.String()


class TraceWarning(Schema):
    code = fields.String(
        metadata={
            "description": "recalled, code_unknown, code_forged, code_void, too_many_scans, "
            "too_many_places, account_suspended, certificate_expired, lot_expired, stale"
        }
    )
    message = fields.Nested(TraceText)
    detail = fields.Dict(allow_none=True)


class TraceParty(Schema):
    role = fields.String()
    role_name = fields.Nested(TraceText)
    name = fields.String(allow_none=True)
    address = fields.String(allow_none=True)


class TraceProduct(Schema):
    id = fields.String()
    name = fields.String()
    code = fields.String(allow_none=True)
    gtin = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    origin = fields.String(allow_none=True)
    capacity = fields.String(allow_none=True)
    packaging = fields.String(allow_none=True)
    shelf_life_days = fields.Integer(allow_none=True)
    price = fields.String(allow_none=True)
    price_unit = fields.String(allow_none=True)
    standards = fields.List(fields.String())
    ocop_stars = fields.Integer(allow_none=True)
    ocop_state = fields.String(allow_none=True)
    image_path = fields.String(
        allow_none=True, metadata={"description": "Path of the photo below the public base URL"}
    )
    parties = fields.List(fields.Nested(TraceParty))


class TraceEstablishment(Schema):
    name = fields.String()
    address = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    representative = fields.String(allow_none=True)
    food_safety_status = fields.String(allow_none=True)
    certificate_no = fields.String(allow_none=True)
    certificate_issuer = fields.String(allow_none=True)
    certificate_expires_on = fields.Date(allow_none=True)
    certificate_state = fields.String(
        allow_none=True, metadata={"description": "valid / expiring / expired"}
    )
    ocop_stars = fields.Integer(allow_none=True)
    active = fields.Boolean()
    account_suspended = fields.Boolean()


class TraceCertification(Schema):
    kind = fields.String()
    kind_name = fields.Nested(TraceText)
    number = fields.String(allow_none=True)
    issuer = fields.String(allow_none=True)
    valid_from = fields.Date(allow_none=True)
    valid_to = fields.Date(allow_none=True)
    state = fields.String(metadata={"description": "valid / expiring / expired"})
    product_level = fields.Boolean()


class TraceLot(Schema):
    id = fields.String(allow_none=True)
    code = fields.String()
    production_date = fields.Date(allow_none=True)
    expiry_date = fields.Date(allow_none=True)
    quantity = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    status = fields.String(allow_none=True)
    expired = fields.Boolean()


class TraceStage(Schema):
    kind = fields.String()
    kind_name = fields.Nested(TraceText)
    occurred_at = fields.AwareDateTime(allow_none=True)
    place = fields.String(allow_none=True)
    place_code = fields.String(allow_none=True)
    actor = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    lot_code = fields.String(allow_none=True)
    product_name = fields.String(allow_none=True)
    product_code = fields.String(allow_none=True)
    establishment_name = fields.String(allow_none=True)
    establishment_address = fields.String(allow_none=True)


class TraceRecall(Schema):
    number = fields.String(allow_none=True)
    kind = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    opened_at = fields.AwareDateTime(allow_none=True)
    status = fields.String(allow_none=True)


class ResolveOut(Schema):
    outcome = fields.String(
        metadata={"description": "ok, recalled, suspicious, void, unknown or forged"}
    )
    verified = fields.Boolean(
        metadata={"description": "A valid code of a product with nothing to warn about"}
    )
    level = fields.String(allow_none=True, metadata={"description": "product, lot or item"})
    code = fields.String(metadata={"description": "The traceability code as read"})
    path = fields.String(metadata={"description": "The trace page's path"})
    serial = fields.String(allow_none=True, metadata={"description": "Item serial code"})
    scans = fields.Integer(allow_none=True, metadata={"description": "Scans of this serial"})
    warnings = fields.List(
        fields.Nested(TraceWarning), metadata={"description": "Most serious first"}
    )
    product = fields.Nested(TraceProduct, allow_none=True)
    establishment = fields.Nested(TraceEstablishment, allow_none=True)
    certifications = fields.List(fields.Nested(TraceCertification))
    lot = fields.Nested(TraceLot, allow_none=True)
    chain = fields.List(fields.Nested(TraceStage))
    recall = fields.Nested(TraceRecall, allow_none=True)
    report_path = fields.String(metadata={"description": "The report form's path"})


class ResolveQuery(Schema):
    path = Text(
        required=True,
        validate=validate.Length(min=1, max=300),
        metadata={"description": "`/q/{code}` or `/01/{gtin}/…`, as in the QR code"},
    )
    lat = fields.Float(
        validate=validate.Range(-90, 90),
        allow_nan=False,
        metadata={"description": "Optional position (kept only as a ~11 km grid cell)"},
    )
    lon = fields.Float(validate=validate.Range(-180, 180), allow_nan=False)


class TracePlaceQuery(Schema):
    lat = fields.Float(validate=validate.Range(-90, 90), allow_nan=False)
    lon = fields.Float(validate=validate.Range(-180, 180), allow_nan=False)


class TraceReportIn(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(REPORT_KINDS))
    message = Text(required=True, multiline=True, validate=validate.Length(min=1, max=2000))
    contact = Text(
        validate=validate.Length(max=255),
        metadata={"description": "Phone or e-mail, optional; only the agency sees it"},
    )
    place_text = Text(validate=validate.Length(max=255))
