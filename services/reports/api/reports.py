"""Compiled reports: ask for one (a job on the `reports` queue), follow the job, list and read
the versions, download the XLSX and the PDF."""

from __future__ import annotations

import io
import uuid
from typing import Any

from flask import Response, send_file, url_for
from flask_smorest import Blueprint
from sqlalchemy import select

from services.reports.api.common import as_of_for, files, period_of, settings
from services.reports.domain import compile as compiling
from services.reports.domain import scope
from services.reports.domain.periods import Period
from services.reports.models import DirectoryUnit, Job, Report
from services.reports.schemas import (
    CompileIn,
    JobOut,
    ReportDetailOut,
    ReportOut,
    ReportQuery,
)
from services.reports.tasks import compile_report
from shared.auth import authenticated
from shared.db import request_session
from shared.errors import NotFound
from shared.jobs import enqueue
from shared.pagination import paginate

PREFIX = "reports"
blp = Blueprint("reports", __name__, description="Quarterly and annual reports (báo cáo)")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def present(report: Report) -> Report:
    session = request_session()
    name = session.scalar(select(DirectoryUnit.name).where(DirectoryUnit.id == report.unit_id))
    period = Period.of(report.kind, report.year, report.quarter or None)
    title_vi, title_en = compiling.title(period, name if report.figures.get("unit_id") else None)
    report.unit_name = name  # type: ignore[attr-defined]
    report.title_vi = title_vi  # type: ignore[attr-defined]
    report.title_en = title_en  # type: ignore[attr-defined]
    report.xlsx_url = url_for("reports.report_xlsx", report_id=report.id)  # type: ignore[attr-defined]
    report.pdf_url = url_for("reports.report_pdf", report_id=report.id)  # type: ignore[attr-defined]
    return report


def _report(report_id: uuid.UUID) -> Report:
    principal = authenticated()
    session = request_session()
    report = session.get(Report, report_id)
    if report is None:
        scope.require_officer(principal)
        raise NotFound()
    scope.require_unit(session, principal, report.unit_id, settings())
    return report


@blp.post("/")
@blp.arguments(CompileIn)
@blp.response(202, JobOut)
def compile_now(body: dict[str, Any]) -> Job:
    """Compile a report now for a period and a unit (default: the officer's own unit; the
    province for the administrator). Answers the job at once; follow it at
    `/reports/jobs/{id}`. Each compilation is a new version; earlier ones stay."""
    principal = authenticated()
    session = request_session()
    unit_id = body["unit_id"] or scope.default_unit(session, principal)
    if unit_id is not None:
        scope.require_unit(session, principal, unit_id, settings())
    period = period_of(body)
    as_of_for(period, body["as_of"])  # refuses a period not started, an as-of day outside it
    job = compiling.request(
        session,
        period,
        unit_id,
        trigger="on_demand",
        actor=principal.account_id,
        as_of=body["as_of"],
    )
    enqueue(session, job, compile_report, queue="reports")
    return job


@blp.get("/jobs/<uuid:job_id>")
@blp.response(200, JobOut)
def get_job(job_id: uuid.UUID) -> Job:
    """A compile job's status and progress; when done, `result.report_id`."""
    principal = authenticated()
    session = request_session()
    scope.require_officer(principal)
    job = session.get(Job, job_id)
    if job is None or job.kind != compiling.JOB_KIND:
        raise NotFound()
    if not principal.is_admin and (job.unit_id is None or job.created_by != principal.account_id):
        if job.unit_id is None:
            raise NotFound()
        scope.require_unit(session, principal, job.unit_id, settings())
    return job


@blp.get("/")
@blp.arguments(ReportQuery, location="query")
@blp.response(200, ReportOut(many=True))
@blp.paginate()
def list_reports(args: dict[str, Any], pagination_parameters: Any) -> list[Report]:
    """Compiled reports in the caller's scope, newest first; every version is listed."""
    principal = authenticated()
    session = request_session()
    allowed = scope.unit_ids(session, principal, settings())
    stmt = select(Report).order_by(Report.compiled_at.desc(), Report.version.desc())
    if allowed is not None:
        stmt = stmt.where(Report.unit_id.in_([uuid.UUID(u) for u in allowed]))
    for name in ("kind", "year", "quarter", "unit_id"):
        if args.get(name) is not None:
            stmt = stmt.where(getattr(Report, name) == args[name])
    return [present(r) for r in paginate(session, stmt, pagination_parameters)]


@blp.get("/<uuid:report_id>")
@blp.response(200, ReportDetailOut)
def get_report(report_id: uuid.UUID) -> Report:
    """A compiled report with its figures (immutable)."""
    return present(_report(report_id))


def _download(key: str | None, mimetype: str, name: str) -> Response:
    if not key:
        raise NotFound()
    # Reports are small (kilobytes to a few megabytes): read whole, the file closed at once.
    with files().open(key) as handle:
        data = handle.read()
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=name)


@blp.get("/<uuid:report_id>/report.xlsx")
@blp.response(200, content_type=XLSX)
def report_xlsx(report_id: uuid.UUID) -> Response:
    """The report's tables in the appendices' layout."""
    report = _report(report_id)
    return _download(report.xlsx_key, XLSX, _file_name(report, "xlsx"))


@blp.get("/<uuid:report_id>/report.pdf")
@blp.response(200, content_type="application/pdf")
def report_pdf(report_id: uuid.UUID) -> Response:
    """The report as a PDF (Vietnamese, with charts)."""
    report = _report(report_id)
    return _download(report.pdf_key, "application/pdf", _file_name(report, "pdf"))


def _file_name(report: Report, extension: str) -> str:
    period = f"{report.year}" if report.kind == "annual" else f"{report.year}-q{report.quarter}"
    return f"bao-cao-{period}-v{report.version}.{extension}"
