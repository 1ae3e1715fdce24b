"""The accounts API's contract (marshmallow). Unknown fields are refused, not ignored."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.accounts.models import ACCOUNT_STATUSES, ROLES, UNIT_LEVELS, UNIT_STATUSES
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


# --- establishments (the registry grows in the establishments issue) -------------------------


class EstablishmentIn(Schema):
    name = _text(255, required=True)
    unit_id = fields.UUID(required=True)
    business_registration_no = Text(
        load_default=None, allow_none=True, validate=validate.Length(min=1, max=32)
    )
    address = Text(load_default=None, allow_none=True, validate=validate.Length(max=500))


class EstablishmentOut(Schema):
    id = fields.UUID()
    name = fields.String()
    unit_id = fields.UUID()
    business_registration_no = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


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
