"""Indicators computed now, from the other services, for a period and a unit's sub-tree:
the figures a report would hold, not stored."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from services.reports.api.common import as_of_for, period_of, settings
from services.reports.domain import indicators, scope, sources
from services.reports.domain.directory import COPY
from services.reports.schemas import IndicatorQuery
from shared.auth import authenticated
from shared.db import request_session

PREFIX = "indicators"
blp = Blueprint("indicators", __name__, description="Indicators (chỉ số) computed now")


@blp.get("/")
@blp.arguments(IndicatorQuery, location="query")
@blp.response(200)
def get_indicators(args: dict[str, Any]) -> dict[str, Any]:
    """Appendix 01's columns per unit with sub-unit roll-up, each rate named by its formula;
    plan against accounts granted per month; the year's five targets with progress; labels,
    scans and recalls — for the unit asked (default: the officer's own; the province for
    the administrator) as of the end of `as_of` (default today, or the period's end).
    A source service that does not answer gives 503 and no figures."""
    principal = authenticated()
    session = request_session()
    unit_id = args["unit_id"] or scope.default_unit(session, principal)
    if unit_id is not None:
        scope.require_unit(session, principal, unit_id, settings())
    period = period_of(args)
    as_of = as_of_for(period, args["as_of"])
    COPY.sync_units(session, settings())
    snapshot = sources.read(settings(), as_of, period.start, as_of)
    return indicators.compute(session, snapshot, period, unit_id)
