"""The contract of recalls (thu hồi), notifications and public holidays. Unknown fields are
refused, not ignored; text is NFC without control characters."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from marshmallow import Schema, fields, validate

from services.products.domain.recalls import STEP_NAMES
from services.products.models import HANDLING_METHODS, RECALL_KINDS, RECALL_STATUSES, RECALL_STEPS
from shared.schema import Text

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOTIFICATION_KINDS = ("recall_opened", "recall_extended", "recall_cancelled", "recall_closed")


class RecallTextOut(Schema):
    """A text in Vietnamese and English."""

    vi = fields.String()
    en = fields.String()


def _moment(**kwargs: object) -> fields.AwareDateTime:
    return fields.AwareDateTime(
        default_timezone=LOCAL_TZ,
        error_messages={
            "invalid": {
                "vi": "Không phải là thời điểm hợp lệ (ISO 8601).",
                "en": "Not a valid datetime (ISO 8601).",
            }
        },
        **kwargs,  # type: ignore[arg-type]
    )


# --- input ------------------------------------------------------------------------------------


class RecallOpenIn(Schema):
    lot_id = fields.UUID(required=True, metadata={"description": "The lot found unsafe"})
    kind = Text(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(RECALL_KINDS),
        metadata={
            "description": "voluntary (an establishment recalls its own lot; the default for "
            "establishments) or compulsory (imposed by an authority; the default for agencies)"
        },
    )
    reason = Text(
        required=True,
        multiline=True,
        validate=validate.Length(min=1, max=2000),
        metadata={"description": "Why the lot must be recalled (lý do thu hồi)"},
    )
    hazard = Text(
        load_default=None,
        allow_none=True,
        multiline=True,
        validate=validate.Length(max=2000),
        metadata={"description": "The hazard found (mối nguy), e.g. a lab result"},
    )
    found_at = _moment(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "When the food was found to need recalling (not in the future; "
            "default now; without a zone, Vietnam time). The 24-hour decision deadline runs "
            "from it."
        },
    )


class RecallStepIn(Schema):
    step = Text(
        required=True,
        validate=validate.OneOf(RECALL_STEPS[1:]),
        metadata={"description": "The next step, in the Circular's order"},
    )
    note = Text(
        load_default=None,
        allow_none=True,
        multiline=True,
        validate=validate.Length(max=2000),
        metadata={"description": "What was done; for `closed`, the authority's decision"},
    )
    handling = Text(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(HANDLING_METHODS),
        metadata={"description": "With `handled` only (required there)"},
    )


class RecallCancelIn(Schema):
    reason = Text(required=True, multiline=True, validate=validate.Length(min=1, max=2000))


class RecallQuery(Schema):
    status = Text(validate=validate.OneOf(RECALL_STATUSES))
    kind = Text(validate=validate.OneOf(RECALL_KINDS))
    open = fields.Boolean(metadata={"description": "true: not closed or cancelled yet"})
    establishment_id = fields.UUID(metadata={"description": "Recalls of this establishment's lots"})
    lot_id = fields.UUID(metadata={"description": "Recalls reaching this lot"})


class NotificationQuery(Schema):
    unread = fields.Boolean()
    mine = fields.Boolean(
        metadata={
            "description": "true: only those addressed to you (your establishment, or your own "
            "unit rather than the units below it) — the ones you can mark read"
        }
    )
    kind = Text(validate=validate.OneOf(NOTIFICATION_KINDS))
    recall_id = fields.UUID()


class HolidayIn(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=255))


class HolidayQuery(Schema):
    year = fields.Integer(validate=validate.Range(min=2000, max=2100))


# --- output -----------------------------------------------------------------------------------


class DeadlineOut(Schema):
    name = fields.String(metadata={"description": "decision | handling_decision"})
    label = fields.Nested(RecallTextOut)
    starts_at = fields.DateTime(allow_none=True)
    due_at = fields.DateTime(allow_none=True)
    done_at = fields.DateTime(allow_none=True)
    state = fields.String(
        metadata={"description": "met | overdue | pending | not_started | cancelled"}
    )


class RecallStepOut(Schema):
    step = fields.String()
    label = fields.Method("_label")
    at = fields.DateTime()
    by_name = fields.String(allow_none=True)
    by_role = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    handling = fields.Function(lambda s: (s.data or {}).get("handling"))

    def _label(self, step: object) -> dict[str, str] | None:
        return STEP_NAMES.get(getattr(step, "step", ""))


class RecallOut(Schema):
    id = fields.UUID()
    number = fields.String(metadata={"description": "TH-<year>-<sequence>"})
    lot_id = fields.UUID()
    lot_code = fields.String(allow_none=True)
    product_id = fields.UUID(allow_none=True)
    product_name = fields.String(allow_none=True)
    establishment_id = fields.UUID()
    establishment_name = fields.String(allow_none=True)
    unit_id = fields.UUID(allow_none=True)
    kind = fields.String()
    reason = fields.String()
    hazard = fields.String(allow_none=True)
    found_at = fields.DateTime()
    opened_at = fields.DateTime()
    opened_by_name = fields.String(allow_none=True)
    opened_by_role = fields.String(allow_none=True)
    status = fields.String()
    status_label = fields.Nested(RecallTextOut)
    is_open = fields.Boolean()
    next_step = fields.String(allow_none=True)
    handling = fields.String(allow_none=True)
    handling_label = fields.Nested(RecallTextOut, allow_none=True)
    decision_due_at = fields.DateTime()
    reported_at = fields.DateTime(allow_none=True)
    handling_decision_due_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    affected_lots = fields.Integer()
    affected_establishments = fields.Integer()
    deadlines = fields.List(fields.Nested(DeadlineOut))
    version = fields.Integer(metadata={"description": "Send as If-Match when recording a step"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class RecallLotOut(Schema):
    lot_id = fields.UUID()
    lot_code = fields.String()
    status = fields.String(metadata={"description": "The lot's status now"})
    status_before = fields.String(metadata={"description": "Its status before the recall"})
    depth = fields.Integer(metadata={"description": "Steps forward from the recalled lot"})
    product_id = fields.UUID()
    product_name = fields.String()
    establishment_id = fields.UUID()
    establishment_name = fields.String(allow_none=True)


class RecallRecipientOut(Schema):
    id = fields.UUID()
    shipment_id = fields.UUID()
    name = fields.String()
    address = fields.String(allow_none=True)
    code = fields.String(allow_none=True)
    in_system_establishment_id = fields.UUID(
        allow_none=True,
        metadata={"description": "Set for goods still on their way to an establishment"},
    )
    lot_id = fields.UUID()
    lot_code = fields.String()
    from_establishment_id = fields.UUID()
    quantity = fields.Decimal(as_string=True, allow_none=True)
    unit = fields.String(allow_none=True)
    shipped_at = fields.DateTime()
    shipment_status = fields.String()


class RecallDetailOut(RecallOut):
    steps = fields.List(fields.Nested(RecallStepOut))
    lots = fields.List(
        fields.Nested(RecallLotOut),
        metadata={"description": "The first lots reached (all of them: GET …/impact)"},
    )
    lots_total = fields.Integer(metadata={"description": "Lots reached that you may see"})
    recipients = fields.List(fields.Nested(RecallRecipientOut))
    sees_everything = fields.Boolean(
        metadata={"description": "false: only the lots and recipients in your scope are listed"}
    )


class RefreshOut(Schema):
    added_lots = fields.Integer()
    added_recipients = fields.Integer()
    notified_establishments = fields.Integer()
    recall = fields.Nested(RecallOut)


class NotificationOut(Schema):
    id = fields.UUID()
    kind = fields.String()
    establishment_id = fields.UUID(allow_none=True)
    unit_id = fields.UUID(allow_none=True)
    recall_id = fields.UUID(allow_none=True)
    lot_id = fields.UUID(allow_none=True)
    title_vi = fields.String()
    title_en = fields.String()
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)
    read = fields.Function(lambda n: n.read_at is not None)


class ReadAllOut(Schema):
    marked = fields.Integer()


class HolidayOut(Schema):
    day = fields.Date()
    name = fields.String()
