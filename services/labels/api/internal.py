"""Calls from the platform's other services (service tokens only; closed at the gateway)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from services.labels.domain import indicators
from services.labels.schemas.indicators import LabelIndicatorsOut
from shared.auth import authenticated
from shared.clock import local_today
from shared.db import request_session
from shared.errors import Forbidden
from shared.indicators import IndicatorsQuery, check_period

PREFIX = "internal"
blp = Blueprint("internal", __name__, description="Service-to-service calls (internal)")


def _require_service() -> None:
    if not authenticated().is_service:
        raise Forbidden()


@blp.get("/indicators")
@blp.arguments(IndicatorsQuery, location="query")
@blp.response(200, LabelIndicatorsOut)
def get_indicators(args: dict[str, Any]) -> dict[str, Any]:
    """Labels issued, scans and counterfeit alerts per unit that directly manages
    establishments (no roll-up) over the local days `from`..`to`, and the products with a QR
    code by the end of local day `as_of` (default today). Service tokens only."""
    _require_service()
    start, end = args["start"], args["end"]
    check_period(start, end)
    as_of = args["as_of"] or local_today()
    found = indicators.compute(request_session(), as_of=as_of, start=start, end=end)
    return {
        "as_of": as_of,
        "start": start,
        "end": end,
        "units": [row.as_dict() for row in found.units],
        "products_with_codes": found.products_with_codes,
    }
