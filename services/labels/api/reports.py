"""Consumers' problem reports (the trace page's form), for the managing agency.

Scope as for alerts (api/alerts.py): administrator all, agency its establishments', an
establishment those about its own products. The reporter's contact is shown to the
administrator and agencies only. Managers move a report through new → in_review → closed.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask_smorest import Blueprint
from sqlalchemy import select

from services.labels.api.alerts import in_scope, may_manage, with_names
from services.labels.domain import oversight
from services.labels.models import ProblemReport
from services.labels.schemas.oversight import ReportOut, ReportQuery, ReportStatusIn
from shared.auth import Principal, authenticated
from shared.db import request_session
from shared.errors import Forbidden, NotFound
from shared.pagination import paginate

PREFIX = "problem-reports"
blp = Blueprint(
    "problem_reports", __name__, description="Consumers' problem reports (phản ánh của người dân)"
)


def _present(principal: Principal, rows: list[ProblemReport]) -> list[Any]:
    with_names(rows)
    if principal.role == "establishment":
        session = request_session()
        for row in rows:
            # The reporter's contact is for the authority, not for the reported business.
            session.expunge(row)
            row.contact = None
    return rows


def _get(principal: Principal, report_id: uuid.UUID) -> ProblemReport:
    report = request_session().scalar(
        select(ProblemReport).where(
            ProblemReport.id == report_id, in_scope(principal, ProblemReport)
        )
    )
    if report is None:
        raise NotFound()
    return report


@blp.get("/")
@blp.arguments(ReportQuery, location="query")
@blp.response(200, ReportOut(many=True))
@blp.paginate()
def list_reports(args: dict[str, Any], pagination_parameters: Any) -> list[Any]:
    """Problem reports in the caller's scope, newest first."""
    principal = authenticated()
    stmt = select(ProblemReport).where(in_scope(principal, ProblemReport))
    for name in ("status", "kind", "establishment_id", "product_id"):
        if args.get(name) is not None:
            stmt = stmt.where(getattr(ProblemReport, name) == args[name])
    stmt = stmt.order_by(ProblemReport.created_at.desc(), ProblemReport.id)
    return _present(principal, paginate(request_session(), stmt, pagination_parameters))


@blp.get("/<uuid:report_id>")
@blp.response(200, ReportOut)
def get_report(report_id: uuid.UUID) -> Any:
    principal = authenticated()
    return _present(principal, [_get(principal, report_id)])[0]


@blp.post("/<uuid:report_id>/status")
@blp.arguments(ReportStatusIn)
@blp.response(200, ReportOut)
def set_report_status(body: dict[str, Any], report_id: uuid.UUID) -> Any:
    """Take a report into review or close it, with a note. Managers only."""
    principal = authenticated()
    report = _get(principal, report_id)
    if not may_manage(principal, report.establishment_id):
        raise Forbidden()
    oversight.set_status(
        request_session(), actor=principal, row=report, status=body["status"], note=body.get("note")
    )
    return _present(principal, [report])[0]
