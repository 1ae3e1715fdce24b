"""Calls from the platform's other services (service tokens only; closed at the gateway)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from services.accounts.domain import directory, indicators
from shared.auth import authenticated
from shared.clock import local_today
from shared.db import request_session, utcnow
from shared.errors import Forbidden, InvalidInput

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


class AsOfQuery(Schema):
    as_of = fields.Date(
        load_default=None,
        metadata={"description": "End of this local day (Asia/Ho_Chi_Minh); default today"},
    )


class UnitCountsOut(Schema):
    unit_id = fields.UUID()
    establishments = fields.Integer()
    certificate_subject = fields.Integer()
    commitment_subject = fields.Integer()
    ocop = fields.Integer()
    with_account = fields.Integer()
    certificate_with_account = fields.Integer()
    commitment_with_account = fields.Integer()
    ocop_with_account = fields.Integer()


class EstablishmentIndicatorsOut(Schema):
    as_of = fields.Date()
    units = fields.List(fields.Nested(UnitCountsOut))


class PeriodQuery(Schema):
    start = fields.Date(required=True, data_key="from")
    end = fields.Date(required=True, data_key="to")


class GrantsOut(Schema):
    unit_id = fields.UUID()
    month = fields.String(metadata={"description": "YYYY-MM, local time"})
    granted = fields.Integer()


class GrantIndicatorsOut(Schema):
    start = fields.Date(data_key="from")
    end = fields.Date(data_key="to")
    months = fields.List(fields.Nested(GrantsOut))


@blp.get("/indicators/establishments")
@blp.arguments(AsOfQuery, location="query")
@blp.response(200, EstablishmentIndicatorsOut)
def get_establishment_indicators(args: dict[str, Any]) -> dict[str, Any]:
    """Appendix 01's counts per unit that directly manages establishments (no roll-up), as
    of the end of a local day. Service tokens only."""
    _require_service()
    today = local_today()
    as_of = args["as_of"] or today
    counts = indicators.establishment_counts(request_session(), as_of, today=today)
    return {"as_of": as_of, "units": [c.as_dict() for c in counts]}


@blp.get("/indicators/grants")
@blp.arguments(PeriodQuery, location="query")
@blp.response(200, GrantIndicatorsOut)
def get_grant_indicators(args: dict[str, Any]) -> dict[str, Any]:
    """Operating accounts granted per unit and local month (Appendix 02's actual). Service
    tokens only."""
    _require_service()
    start, end = args["start"], args["end"]
    if end < start or (end - start).days > 3660:
        raise InvalidInput.field(
            "to",
            "Khoảng thời gian không hợp lệ (tối đa 10 năm, 'to' không trước 'from').",
            "Invalid period (at most 10 years, 'to' not before 'from').",
        )
    months = indicators.grants_by_month(request_session(), start, end)
    return {"start": start, "end": end, "months": months}
