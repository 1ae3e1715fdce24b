"""The accounts API's contract (marshmallow). Unknown fields are refused, not ignored."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.accounts.domain.establishments import certificate_state, code_list
from services.accounts.domain.search import CERTIFICATE_FILTERS
from services.accounts.models import (
    ACCOUNT_STATUSES,
    ACTIVITIES,
    ESTABLISHMENT_STATUSES,
    FOOD_SAFETY_STATUSES,
    REGISTRATION_KINDS,
    REGISTRATION_STATUSES,
    ROLES,
    SECTORS,
    UNIT_LEVELS,
    UNIT_STATUSES,
)
from shared.schema import Text

Reason = Text(
    multiline=True,
    load_default=None,
    allow_none=True,
    validate=validate.Length(max=2000),
    metadata={"description": "Why (lý do); recorded in the audit log"},
)


def _text(max_len: int, **kwargs: object) -> Text:
    return Text(validate=validate.Length(min=1, max=max_len), **kwargs)  # type: ignore[arg-type]


# --- auth -------------------------------------------------------------------------------------


class LoginIn(Schema):
    username = _text(256, required=True)
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))


class RefreshIn(Schema):
    refresh_token = Text(required=True, validate=validate.Length(min=1, max=512))


class PasswordChangeIn(Schema):
    current_password = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    new_password = fields.String(required=True, validate=validate.Length(min=1, max=1024))


class AccountOut(Schema):
    id = fields.UUID()
    username = fields.String()
    display_name = fields.String()
    role = fields.String()
    status = fields.String()
    unit_id = fields.UUID(allow_none=True)
    establishment_id = fields.UUID(allow_none=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    must_change_password = fields.Boolean()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    last_login_at = fields.DateTime(allow_none=True)
    password_changed_at = fields.DateTime(allow_none=True)


class TokenOut(Schema):
    access_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()
    refresh_token = fields.String()
    must_change_password = fields.Boolean()
    account = fields.Nested(AccountOut)


class JwksOut(Schema):
    keys = fields.List(fields.Dict())


# --- units ------------------------------------------------------------------------------------


class UnitIn(Schema):
    code = _text(32, required=True)
    name = _text(255, required=True)
    level = Text(required=True, validate=validate.OneOf(UNIT_LEVELS))
    parent_id = fields.UUID(load_default=None, allow_none=True)
    login_prefix = Text(load_default=None, allow_none=True, validate=validate.Length(min=1, max=32))


class UnitPatch(Schema):
    code = _text(32)
    name = _text(255)
    level = Text(validate=validate.OneOf(UNIT_LEVELS))
    parent_id = fields.UUID(allow_none=True)
    login_prefix = Text(validate=validate.Length(min=1, max=32))
    reason = Reason


class UnitOut(Schema):
    id = fields.UUID()
    code = fields.String()
    name = fields.String()
    level = fields.String()
    parent_id = fields.UUID(allow_none=True)
    status = fields.String()
    login_prefix = fields.String(allow_none=True)
    retired_at = fields.DateTime(allow_none=True)
    retired_reason = fields.String(allow_none=True)
    version = fields.Integer(metadata={"description": "Send as If-Match to update safely"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class UnitQuery(Schema):
    status = Text(validate=validate.OneOf(UNIT_STATUSES))
    parent_id = fields.UUID()
    q = Text(
        validate=validate.Length(max=255),
        metadata={"description": "Search in names, diacritics ignored"},
    )


class RetireIn(Schema):
    reason = Text(required=True, validate=validate.Length(min=1, max=2000))


# --- establishments ---------------------------------------------------------------------------


class _EstablishmentFields(Schema):
    name = _text(255)
    business_registration_no = Text(allow_none=True, validate=validate.Length(max=32))
    business_registration_date = fields.Date(allow_none=True)
    tax_code = Text(allow_none=True, validate=validate.Regexp(r"^[0-9]{10}(-[0-9]{3})?$"))
    address = Text(allow_none=True, validate=validate.Length(max=500))
    commune = Text(allow_none=True, validate=validate.Length(max=255))
    representative = Text(allow_none=True, validate=validate.Length(max=255))
    phone = Text(allow_none=True, validate=validate.Regexp(r"^\+?[0-9 .()-]{6,20}$"))
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    activities = fields.List(
        fields.String(validate=validate.OneOf(ACTIVITIES)),
        validate=validate.Length(max=len(ACTIVITIES)),
    )
    sectors = fields.List(
        fields.String(validate=validate.OneOf(SECTORS)), validate=validate.Length(max=len(SECTORS))
    )
    food_safety_status = fields.String(validate=validate.OneOf(FOOD_SAFETY_STATUSES))
    certificate_no = Text(allow_none=True, validate=validate.Length(max=64))
    certificate_issuer = Text(allow_none=True, validate=validate.Length(max=255))
    certificate_issued_on = fields.Date(allow_none=True)
    certificate_expires_on = fields.Date(allow_none=True)
    commitment_signed_on = fields.Date(allow_none=True)
    commitment_receiving_unit = Text(allow_none=True, validate=validate.Length(max=255))
    ocop = fields.Boolean()
    ocop_stars = fields.Integer(allow_none=True, validate=validate.Range(min=3, max=5))
    status = fields.String(validate=validate.OneOf(ESTABLISHMENT_STATUSES))


class EstablishmentIn(_EstablishmentFields):
    name = _text(255, required=True)
    unit_id = fields.UUID(required=True)


class EstablishmentPatch(_EstablishmentFields):
    reason = Reason


class MoveIn(Schema):
    unit_id = fields.UUID(required=True)
    reason = Text(required=True, multiline=True, validate=validate.Length(min=1, max=2000))


class EstablishmentOut(Schema):
    id = fields.UUID()
    name = fields.String()
    business_registration_no = fields.String(allow_none=True)
    business_registration_date = fields.Date(allow_none=True)
    tax_code = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    commune = fields.String(allow_none=True)
    unit_id = fields.UUID()
    representative = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    activities = fields.Function(lambda e: code_list(e.activities))
    sectors = fields.Function(lambda e: code_list(e.sectors))
    food_safety_status = fields.String()
    certificate_no = fields.String(allow_none=True)
    certificate_issuer = fields.String(allow_none=True)
    certificate_issued_on = fields.Date(allow_none=True)
    certificate_expires_on = fields.Date(allow_none=True)
    certificate_state = fields.Function(
        lambda e: certificate_state(e),
        allow_none=True,
        metadata={"description": "valid / expiring (within 6 months) / expired / unknown"},
    )
    commitment_signed_on = fields.Date(allow_none=True)
    commitment_receiving_unit = fields.String(allow_none=True)
    ocop = fields.Boolean()
    ocop_stars = fields.Integer(allow_none=True)
    status = fields.String()
    has_account = fields.Function(lambda e: bool(getattr(e, "has_account", False)))
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class EstablishmentQuery(Schema):
    q = Text(
        validate=validate.Length(max=255),
        metadata={"description": "Name, address or representative; diacritics ignored"},
    )
    unit_id = fields.UUID(metadata={"description": "This unit and its sub-units"})
    food_safety_status = fields.String(validate=validate.OneOf(FOOD_SAFETY_STATUSES))
    activity = fields.String(validate=validate.OneOf(ACTIVITIES))
    sector = fields.String(validate=validate.OneOf(SECTORS))
    ocop = fields.Boolean()
    has_account = fields.Boolean()
    certificate = fields.String(validate=validate.OneOf(CERTIFICATE_FILTERS))
    status = fields.String(validate=validate.OneOf(ESTABLISHMENT_STATUSES))


class AssignmentOut(Schema):
    unit_id = fields.UUID()
    valid_from = fields.DateTime()
    valid_to = fields.DateTime(allow_none=True)


class ImportChangeOut(Schema):
    job_id = fields.UUID()
    at = fields.DateTime(allow_none=True)
    by = fields.UUID(allow_none=True)
    row_number = fields.Integer()
    outcome = fields.String(metadata={"description": "created or updated"})
    changes = fields.Dict(allow_none=True, metadata={"description": "{field: [before, after]}"})


class EstablishmentHistoryOut(Schema):
    assignments = fields.List(fields.Nested(AssignmentOut))
    events = fields.List(fields.Nested(lambda: AuditOut()))
    imports = fields.List(
        fields.Nested(ImportChangeOut), metadata={"description": "Changes made by Excel imports"}
    )


# --- accounts ---------------------------------------------------------------------------------


class AccountGrantIn(Schema):
    role = Text(required=True, validate=validate.OneOf(ROLES))
    display_name = Text(load_default="", validate=validate.Length(max=255))
    username = Text(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=128),
        metadata={"description": "Omit to name it by the unit's rule"},
    )
    unit_id = fields.UUID(load_default=None, allow_none=True)
    establishment_id = fields.UUID(load_default=None, allow_none=True)
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=254))
    phone = Text(
        load_default=None, allow_none=True, validate=validate.Regexp(r"^\+?[0-9 .()-]{6,20}$")
    )
    reason = Reason


class GrantedOut(Schema):
    account = fields.Nested(AccountOut)
    one_time_password = fields.String(
        metadata={"description": "Shown once; the holder must change it at first login"}
    )


class ReasonIn(Schema):
    reason = Reason


class RequiredReasonIn(Schema):
    reason = Text(required=True, validate=validate.Length(min=1, max=2000))


class RenameIn(Schema):
    username = Text(required=True, validate=validate.Length(min=1, max=128))
    reason = Reason


class AccountQuery(Schema):
    role = Text(validate=validate.OneOf(ROLES))
    status = Text(validate=validate.OneOf(ACCOUNT_STATUSES))
    unit_id = fields.UUID(metadata={"description": "Accounts of this unit and its sub-units"})
    q = Text(validate=validate.Length(max=255))


class UsernameHistoryOut(Schema):
    username = fields.String()
    valid_from = fields.DateTime()
    valid_to = fields.DateTime(allow_none=True)


class AuditOut(Schema):
    id = fields.Integer()
    occurred_at = fields.DateTime()
    actor_id = fields.UUID(allow_none=True)
    actor_username = fields.String()
    actor_role = fields.String()
    action = fields.String()
    target_type = fields.String()
    target_id = fields.String()
    unit_id = fields.UUID(allow_none=True)
    reason = fields.String(allow_none=True)
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)
    request_id = fields.String(allow_none=True)


class AuditQuery(Schema):
    action = Text(validate=validate.Length(max=64))
    target_type = Text(validate=validate.Length(max=32))
    target_id = Text(validate=validate.Length(max=64))


# --- jobs: imports and bulk grants ------------------------------------------------------------


class UploadForm(Schema):
    dry_run = fields.Boolean(
        load_default=False, metadata={"description": "Show the outcome without writing"}
    )


class JobOut(Schema):
    id = fields.UUID()
    kind = fields.String()
    status = fields.String(metadata={"description": "queued, running, done or failed"})
    progress_done = fields.Integer()
    progress_total = fields.Integer()
    counts = fields.Dict()
    result = fields.Dict(allow_none=True)
    error = fields.Dict(allow_none=True, metadata={"description": "code, vi, en"})
    attempts = fields.Integer()
    params = fields.Function(
        lambda job: {k: v for k, v in (job.params or {}).items() if k in {"dry_run", "filename"}}
    )
    created_by = fields.UUID(allow_none=True)
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)


class ImportRowOut(Schema):
    row_number = fields.Integer()
    outcome = fields.String()
    business_registration_no = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    establishment_id = fields.UUID(allow_none=True)
    messages = fields.List(fields.Dict(), allow_none=True)
    changes = fields.Dict(allow_none=True)


class ImportRowQuery(Schema):
    outcome = fields.String(
        validate=validate.OneOf(("created", "updated", "unchanged", "rejected"))
    )


class BulkGrantIn(Schema):
    establishment_ids = fields.List(
        fields.UUID(), required=True, validate=validate.Length(min=1, max=5000)
    )


# --- registrations (Mẫu 03) ---------------------------------------------------------------------


class RegistrationIn(_EstablishmentFields):
    class Meta:
        exclude = ("status",)  # an applicant does not decide whether it is open or closed

    kind = fields.String(
        load_default="grant",
        validate=validate.OneOf(REGISTRATION_KINDS),
        metadata={"description": "grant (cấp mới) or regrant (cấp lại)"},
    )
    unit_id = fields.UUID(required=True, metadata={"description": "The managing unit"})
    name = _text(255, required=True)
    business_registration_no = Text(required=True, validate=validate.Length(min=1, max=32))
    representative = Text(required=True, validate=validate.Length(min=1, max=255))
    phone = Text(required=True, validate=validate.Regexp(r"^\+?[0-9 .()-]{6,20}$"))
    contact_name = Text(allow_none=True, validate=validate.Length(max=255))
    contact_phone = Text(allow_none=True, validate=validate.Regexp(r"^\+?[0-9 .()-]{6,20}$"))
    contact_email = fields.Email(allow_none=True)
    requested_username = Text(allow_none=True, validate=validate.Length(max=64))
    note = Text(allow_none=True, multiline=True, validate=validate.Length(max=2000))


class RegistrationOut(Schema):
    id = fields.UUID()
    kind = fields.String()
    status = fields.String()
    unit_id = fields.UUID()
    data = fields.Dict()
    business_registration_no = fields.String(allow_none=True)
    establishment_id = fields.UUID(allow_none=True)
    account_id = fields.UUID(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    decision_reason = fields.String(allow_none=True)
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class SubmittedOut(Schema):
    registration = fields.Nested(RegistrationOut)
    applicant_token = fields.String(
        metadata={"description": "Keep it: it opens the application to answer change requests"}
    )


class ApprovedOut(Schema):
    registration = fields.Nested(RegistrationOut)
    account = fields.Nested(AccountOut)
    one_time_password = fields.String()


class RegistrationQuery(Schema):
    status = fields.String(validate=validate.OneOf(REGISTRATION_STATUSES))
    unit_id = fields.UUID()


class ApplicantQuery(Schema):
    token = fields.String(required=True, validate=validate.Length(min=10, max=100))


class PublicUnitOut(Schema):
    id = fields.UUID()
    code = fields.String()
    name = fields.String()
    level = fields.String()
    parent_id = fields.UUID(allow_none=True)
