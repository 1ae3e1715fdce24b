"""Request and response schemas of the reports API."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.schema import Text

KIND = fields.String(required=True, validate=validate.OneOf(("quarterly", "annual")))


class PeriodQuery(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(("quarterly", "annual")))
    year = fields.Integer(required=True, validate=validate.Range(2000, 2100))
    quarter = fields.Integer(load_default=None, validate=validate.Range(1, 4))
    unit_id = fields.UUID(load_default=None)

    @validates_schema
    def _quarter(self, data: dict[str, object], **_: object) -> None:
        if data.get("kind") == "quarterly" and not data.get("quarter"):
            raise ValidationError(
                {
                    "vi": "Báo cáo quý cần có quý (1–4).",
                    "en": "A quarterly report needs a quarter (1–4).",
                },
                "quarter",
            )
        if data.get("kind") == "annual" and data.get("quarter"):
            raise ValidationError(
                {"vi": "Báo cáo năm không có quý.", "en": "An annual report has no quarter."},
                "quarter",
            )


class IndicatorQuery(PeriodQuery):
    as_of = fields.Date(
        load_default=None,
        metadata={"description": "End of this local day; default today or the period's end"},
    )


class CompileIn(IndicatorQuery):
    pass


class ReportQuery(Schema):
    kind = fields.String(load_default=None, validate=validate.OneOf(("quarterly", "annual")))
    year = fields.Integer(load_default=None, validate=validate.Range(2000, 2100))
    quarter = fields.Integer(load_default=None, validate=validate.Range(0, 4))
    unit_id = fields.UUID(load_default=None)


class ReportOut(Schema):
    id = fields.UUID()
    kind = fields.String()
    year = fields.Integer()
    quarter = fields.Integer(allow_none=True)
    unit_id = fields.UUID()
    unit_name = fields.String(allow_none=True)
    title_vi = fields.String()
    title_en = fields.String()
    version = fields.Integer()
    trigger = fields.String()
    as_of = fields.Date()
    compiled_at = fields.AwareDateTime()
    compiled_by = fields.UUID(allow_none=True)
    xlsx_url = fields.String()
    pdf_url = fields.String()


class ReportDetailOut(ReportOut):
    figures = fields.Dict()


class JobOut(Schema):
    id = fields.UUID()
    kind = fields.String()
    status = fields.String(metadata={"description": "queued, running, done or failed"})
    progress_done = fields.Integer()
    progress_total = fields.Integer()
    result = fields.Dict(allow_none=True)
    error = fields.Dict(allow_none=True, metadata={"description": "code, vi, en"})
    attempts = fields.Integer()
    params = fields.Dict()
    created_at = fields.AwareDateTime()
    finished_at = fields.AwareDateTime(allow_none=True)


class TargetsIn(Schema):
    certificate_accounts = fields.Decimal(required=True, places=2, as_string=False)
    commitment_accounts = fields.Decimal(required=True, places=2, as_string=False)
    ocop_accounts = fields.Decimal(required=True, places=2, as_string=False)
    qr_key_products = fields.Decimal(required=True, places=2, as_string=False)
    traceable_packaged = fields.Decimal(required=True, places=2, as_string=False)


class TargetOut(Schema):
    key = fields.String()
    formula = fields.String()
    vi = fields.String()
    en = fields.String()
    value = fields.Float()


class TargetsOut(Schema):
    year = fields.Integer()
    certificate_accounts = fields.Float()
    commitment_accounts = fields.Float()
    ocop_accounts = fields.Float()
    qr_key_products = fields.Float()
    traceable_packaged = fields.Float()
    version = fields.Integer()
    is_default = fields.Boolean()
    targets = fields.List(fields.Nested(TargetOut))


class PlanQuery(Schema):
    unit_id = fields.UUID(load_default=None)


class PlanEntryIn(Schema):
    accounts = fields.Integer(required=True, validate=validate.Range(0, 1_000_000))


class PlanEntryOut(Schema):
    unit_id = fields.UUID()
    year = fields.Integer()
    month = fields.Integer()
    accounts = fields.Integer()


class PlanUnitOut(Schema):
    id = fields.String()
    code = fields.String()
    name = fields.String()
    parent_id = fields.String(allow_none=True)
    depth = fields.Integer()
    leaf = fields.Boolean()
    months = fields.Dict(keys=fields.String(), values=fields.Integer())
    total = fields.Integer()


class PlanOut(Schema):
    year = fields.Integer()
    units = fields.List(fields.Nested(PlanUnitOut))
    months = fields.Dict(keys=fields.String(), values=fields.Integer())
    total = fields.Integer()


class PlanImportForm(Schema):
    dry_run = fields.Boolean(load_default=False)


class PublishedForm(Schema):
    title = Text(required=True, validate=validate.Length(1, 255))
    as_of = fields.Date(required=True)


class PublishedTableOut(Schema):
    id = fields.UUID()
    title = fields.String()
    as_of = fields.Date()
    file_name = fields.String(allow_none=True)
    imported_at = fields.AwareDateTime()


class PublishedRowOut(Schema):
    row_number = fields.Integer()
    code = fields.String()
    parent_code = fields.String(allow_none=True)
    level = fields.String(allow_none=True)
    name = fields.String()
    unit_id = fields.UUID(allow_none=True)
    values = fields.Dict()


class PublishedDetailOut(PublishedTableOut):
    rows = fields.List(fields.Nested(PublishedRowOut))


class ComparisonQuery(Schema):
    report_id = fields.UUID(load_default=None)


class NarrativeIn(Schema):
    done = Text(load_default="")
    not_done = Text(load_default="")
    reasons = Text(load_default="")
    proposals = Text(load_default="")
    submit = fields.Boolean(load_default=False)


class NarrativeOut(Schema):
    id = fields.UUID()
    unit_id = fields.UUID()
    kind = fields.String()
    year = fields.Integer()
    quarter = fields.Integer()
    done = fields.String()
    not_done = fields.String()
    reasons = fields.String()
    proposals = fields.String()
    status = fields.String()
    submitted_at = fields.AwareDateTime(allow_none=True)
    submitted_by = fields.UUID(allow_none=True)
    version = fields.Integer()
    updated_at = fields.AwareDateTime()
    due_at = fields.AwareDateTime()
    late = fields.Boolean()


class NarrativeStatusOut(Schema):
    unit_id = fields.String()
    unit_code = fields.String()
    unit_name = fields.String()
    status = fields.String(metadata={"description": "missing, draft or submitted"})
    submitted_at = fields.AwareDateTime(allow_none=True)
    late = fields.Boolean()
    version = fields.Integer()


class DeadlineOut(Schema):
    period = fields.Dict()
    due_at = fields.AwareDateTime()
    overdue = fields.Boolean()
    units = fields.List(fields.Nested(NarrativeStatusOut))
    late_units = fields.List(fields.String())


class ReminderOut(Schema):
    id = fields.Integer()
    unit_id = fields.UUID()
    kind = fields.String()
    year = fields.Integer()
    quarter = fields.Integer()
    sent_on = fields.Date()
    due_at = fields.AwareDateTime()
