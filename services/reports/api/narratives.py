"""Units' narratives for a period, deadlines and late units, reminders."""

from __future__ import annotations

import uuid
from typing import Any

from flask import request
from flask_smorest import Blueprint

from services.reports.api.common import period_of, settings
from services.reports.domain import narratives, scope
from services.reports.domain.periods import Period
from services.reports.schemas import (
    DeadlineOut,
    NarrativeIn,
    NarrativeOut,
    PeriodQuery,
    ReminderOut,
)
from shared.auth import authenticated
from shared.db import request_session, utcnow
from shared.pagination import if_match_version

PREFIX = "narratives"
blp = Blueprint("narratives", __name__, description="Units' narratives (thuyết minh báo cáo)")


def _present(narrative: Any, period: Period) -> Any:
    narrative.due_at = period.due_at
    narrative.late = narratives.is_late(narrative, period, utcnow())
    return narrative


@blp.get("/")
@blp.arguments(PeriodQuery, location="query")
@blp.response(200, DeadlineOut)
def deadline(args: dict[str, Any]) -> dict[str, Any]:
    """The period's deadline and, for every active unit in the scope (default: the caller's
    unit and its sub-units; the province for the administrator), whether its narrative is
    missing, a draft or submitted, and whether it is late."""
    principal = authenticated()
    session = request_session()
    unit_id = args["unit_id"] or scope.default_unit(session, principal)
    if unit_id is not None:
        scope.require_unit(session, principal, unit_id, settings())
    period = period_of(args)
    now = utcnow()
    units = narratives.status(session, unit_id, period, now)
    return {
        "period": period.as_dict(),
        "due_at": period.due_at,
        "overdue": now > period.due_at,
        "units": units,
        "late_units": [u["unit_code"] for u in units if u["late"]],
    }


def _period(kind: str, year: int, quarter: int) -> Period:
    return Period.of(kind, year, quarter or None)


@blp.get("/<uuid:unit_id>/<string:kind>/<int:year>/<int:quarter>")
@blp.response(200, NarrativeOut)
def get_narrative(unit_id: uuid.UUID, kind: str, year: int, quarter: int) -> Any:
    """One unit's narrative (quarter 0 for the annual report)."""
    principal = authenticated()
    session = request_session()
    scope.require_unit(session, principal, unit_id, settings())
    period = _period(kind, year, quarter)
    return _present(narratives.get(session, unit_id, period), period)


@blp.put("/<uuid:unit_id>/<string:kind>/<int:year>/<int:quarter>")
@blp.arguments(NarrativeIn)
@blp.response(200, NarrativeOut)
def put_narrative(
    body: dict[str, Any], unit_id: uuid.UUID, kind: str, year: int, quarter: int
) -> Any:
    """Write the unit's narrative — what was done, what was not, why, what it proposes — as
    a draft, or with `submit: true` submit it. Only the unit's own officers (and the
    administrator). `If-Match` with the version read guards against overwriting a
    colleague's save (412). After the deadline a submitted narrative is locked (409); an
    unsubmitted one can still be submitted and is marked late."""
    principal = authenticated()
    session = request_session()
    scope.require_unit(session, principal, unit_id, settings())
    scope.require_own_unit(principal, unit_id)
    period = _period(kind, year, quarter)
    expected = if_match_version(request.headers.get("If-Match"))
    narrative = narratives.save(
        session,
        principal,
        unit_id,
        period,
        {k: body[k] for k in narratives.TEXT_FIELDS},
        submit=body["submit"],
        expected_version=expected,
    )
    return _present(narrative, period)


@blp.get("/reminders")
@blp.response(200, ReminderOut(many=True))
def reminders() -> list[Any]:
    """Reminders sent to the units in the caller's scope, newest first."""
    principal = authenticated()
    session = request_session()
    return narratives.reminders_for(session, scope.unit_ids(session, principal, settings()))
