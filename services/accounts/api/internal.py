"""Calls from the platform's other services (service tokens only; closed at the gateway)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from services.accounts.domain import directory
from shared.auth import authenticated
from shared.db import request_session, utcnow
from shared.errors import Forbidden

PREFIX = "internal"
blp = Blueprint("internal", __name__, description="Service-to-service calls (internal)")


class DirectoryQuery(Schema):
    since = fields.AwareDateTime(
        load_default=None, metadata={"description": "Only what changed at or after this time"}
    )
    after = fields.UUID(load_default=None, metadata={"description": "Keyset: ids after this"})
    limit = fields.Integer(load_default=2000, validate=validate.Range(1, 5000))
    establishment_id = fields.List(fields.UUID(), load_default=None)


class DirectoryUnitOut(Schema):
    id = fields.UUID()
    parent_id = fields.UUID(allow_none=True)
    path = fields.String()
    code = fields.String()
    name = fields.String()
    status = fields.String()


class DirectoryEstablishmentOut(Schema):
    id = fields.UUID()
    unit_id = fields.UUID()
    unit_path = fields.String()
    name = fields.String()
    address = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    representative = fields.String(allow_none=True)
    business_registration_no = fields.String(allow_none=True)
    food_safety_status = fields.String()
    certificate_no = fields.String(allow_none=True)
    certificate_issuer = fields.String(allow_none=True)
    certificate_expires_on = fields.Date(allow_none=True)
    commitment_signed_on = fields.Date(allow_none=True)
    ocop = fields.Boolean()
    ocop_stars = fields.Integer(allow_none=True)
    status = fields.String()
    account_status = fields.String()
    updated_at = fields.AwareDateTime()


class DirectoryOut(Schema):
    as_of = fields.AwareDateTime(
        metadata={"description": "Server time before reading: the next call's `since`"}
    )
    units = fields.List(fields.Nested(DirectoryUnitOut), allow_none=True)
    establishments = fields.List(fields.Nested(DirectoryEstablishmentOut))
    next_after = fields.UUID(allow_none=True)


def _require_service() -> None:
    if not authenticated().is_service:
        raise Forbidden()


@blp.get("/directory")
@blp.arguments(DirectoryQuery, location="query")
@blp.response(200, DirectoryOut)
def get_directory(args: dict[str, Any]) -> dict[str, Any]:
    """Units (on the first page) and establishments changed since `since`, for the read-only
    copies other services keep. Service tokens only."""
    _require_service()
    session = request_session()
    as_of: datetime = utcnow()
    rows = directory.establishments(
        session,
        since=args["since"],
        after=args["after"],
        limit=args["limit"],
        ids=args["establishment_id"],
    )
    return {
        "as_of": as_of,
        "units": directory.units(session) if args["after"] is None else None,
        "establishments": rows,
        "next_after": rows[-1]["id"] if len(rows) == args["limit"] else None,
    }
