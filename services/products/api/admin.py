"""Public holidays (ngày nghỉ lễ), which the 3-working-day recall deadline skips. Everyone
logged in reads them; the administrator keeps them."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask_smorest import Blueprint
from sqlalchemy import extract, select

from services.products.domain import workdays
from services.products.models import Holiday
from services.products.schemas.recalls import HolidayIn, HolidayOut, HolidayQuery
from shared.auth import authenticated
from shared.db import request_session
from shared.errors import Forbidden, InvalidInput

PREFIX = "holidays"
blp = Blueprint("holidays", __name__, description="Public holidays (ngày nghỉ lễ)")

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _day(value: str) -> date:
    try:
        if _DAY.match(value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise InvalidInput.field(
        "day",
        "Ngày phải có dạng YYYY-MM-DD.",
        "The day must be written YYYY-MM-DD.",
    )


@blp.get("/")
@blp.arguments(HolidayQuery, location="query")
@blp.response(200, HolidayOut(many=True))
def list_holidays(args: dict[str, Any]) -> list[Holiday]:
    """The public holidays, in date order (of one `year` when given)."""
    authenticated()
    stmt = select(Holiday).order_by(Holiday.day)
    if args.get("year"):
        stmt = stmt.where(extract("year", Holiday.day) == args["year"])
    return list(request_session().scalars(stmt))


@blp.put("/<string:day>")
@blp.arguments(HolidayIn)
@blp.response(200, HolidayOut)
def put_holiday(body: dict[str, Any], day: str) -> Any:
    """Add (201) or rename (200) a public holiday. Administrator only."""
    principal = authenticated()
    if not principal.is_admin:
        raise Forbidden()
    holiday, created = workdays.set_holiday(
        request_session(), actor=principal, day=_day(day), name=body["name"]
    )
    return holiday, 201 if created else 200


@blp.delete("/<string:day>")
@blp.response(204)
def delete_holiday(day: str) -> None:
    """Remove a public holiday. Administrator only."""
    principal = authenticated()
    if not principal.is_admin:
        raise Forbidden()
    workdays.remove_holiday(request_session(), actor=principal, day=_day(day))
