"""Scan statistics for owners and agencies: per establishment, per product, and a summary of
everything in scope. Days are Asia/Ho_Chi_Minh days; the default range is the last 30."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import current_app
from flask_smorest import Blueprint
from sqlalchemy import select

from services.labels.domain import scans
from services.labels.domain.directory import COPY
from services.labels.models import DirectoryEstablishment, Scan
from services.labels.schemas.oversight import (
    ScanStatsOut,
    StatsQuery,
    SummaryQuery,
    SummaryRowOut,
)
from shared.auth import Principal, authenticated
from shared.clock import LOCAL_TZ, local_today
from shared.db import request_session
from shared.errors import InvalidInput, NotFound
from shared.pagination import paginate_rows

PREFIX = "scans"
blp = Blueprint("scans", __name__, description="Scan statistics (thống kê lượt quét)")

DEFAULT_DAYS = 30
MAX_DAYS = 366


def _settings() -> Any:
    return current_app.config["SETTINGS"]


def _range(args: dict[str, Any]) -> tuple[date, date, datetime, datetime]:
    last = args.get("to") or local_today()
    first = args.get("from_") or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last or (last - first).days >= MAX_DAYS:
        raise InvalidInput.field(
            "from",
            f"Khoảng thời gian phải từ 1 đến {MAX_DAYS} ngày.",
            f"The range must be 1 to {MAX_DAYS} days.",
        )
    start = datetime.combine(first, time.min, LOCAL_TZ)
    end = datetime.combine(last + timedelta(days=1), time.min, LOCAL_TZ)
    return first, last, start, end


def _managed(principal: Principal, establishment_id: uuid.UUID | None) -> None:
    if establishment_id is None or not COPY.manages(
        request_session(), principal, establishment_id, _settings()
    ):
        raise NotFound()


def _answer(
    subject: str, subject_id: uuid.UUID, column: Any, args: dict[str, Any]
) -> dict[str, Any]:
    first, last, start, end = _range(args)
    found = scans.statistics(
        request_session(), column=column, value=subject_id, start=start, end=end
    )
    return {"subject": subject, "id": subject_id, "from_": first, "to": last, **found}


@blp.get("/establishments/<uuid:establishment_id>")
@blp.arguments(StatsQuery, location="query")
@blp.response(200, ScanStatsOut)
def establishment_stats(args: dict[str, Any], establishment_id: uuid.UUID) -> dict[str, Any]:
    """Scans of an establishment's codes and labels: by outcome, kind of client, level and
    day, the busiest places and products, and its open counterfeit alerts."""
    principal = authenticated()
    _managed(principal, establishment_id)
    return _answer("establishment", establishment_id, Scan.establishment_id, args)


@blp.get("/products/<uuid:product_id>")
@blp.arguments(StatsQuery, location="query")
@blp.response(200, ScanStatsOut)
def product_stats(args: dict[str, Any], product_id: uuid.UUID) -> dict[str, Any]:
    """Scans of a product's codes and labels (404 for a product with none, or outside the
    caller's scope)."""
    principal = authenticated()
    _managed(principal, scans.product_owner(request_session(), product_id))
    return _answer("product", product_id, Scan.product_id, args)


@blp.get("/summary")
@blp.arguments(SummaryQuery, location="query")
@blp.response(200, SummaryRowOut(many=True))
@blp.paginate()
def summary(args: dict[str, Any], pagination_parameters: Any) -> list[dict[str, Any]]:
    """Scans per establishment (or `group=product`) in the caller's scope, busiest first."""
    principal = authenticated()
    session = request_session()
    _, _, start, end = _range(args)
    column = Scan.establishment_id if args["group"] == "establishment" else Scan.product_id
    scope = COPY.scope_filter(session, principal, Scan.establishment_id, _settings())
    stmt = scans.summary(session, column=column, scope=scope, start=start, end=end)
    rows = paginate_rows(session, stmt, pagination_parameters)
    names: dict[Any, str] = {}
    if args["group"] == "establishment" and rows:
        names = dict(
            session.execute(
                select(DirectoryEstablishment.id, DirectoryEstablishment.name).where(
                    DirectoryEstablishment.id.in_([r.id for r in rows])
                )
            ).all()
        )
    return [
        {
            "id": r.id,
            "name": names.get(r.id),
            "total": int(r.total),
            "suspicious": int(r.suspicious or 0),
            "last_scan": r.last_scan,
        }
        for r in rows
    ]
