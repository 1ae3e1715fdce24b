"""`/reports` — compiled reports in scope, the deadlines of the current periods and the units
late with their narratives; compiling on demand (a confirmation step, then a job page with
live progress); a report's page with its XLSX and PDF.

The compile job is the API's (domain/compile.py, the `reports` queue); the job page polls a
fragment with htmx and refreshes itself without JavaScript.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import select

from services.reports.api.common import as_of_for, period_of, settings
from services.reports.api.reports import present
from services.reports.domain import compile as compiling
from services.reports.domain import narratives, scope
from services.reports.domain.periods import Period, current
from services.reports.models import Job, Report
from services.reports.schemas import CompileIn, ReportQuery
from services.reports.tasks import compile_report
from services.reports.web import blp
from services.reports.web.common import (
    OFFICERS,
    period_label,
    unit_name,
    unit_options,
    units_in_scope,
)
from shared.clock import local_today
from shared.db import request_session, utcnow
from shared.errors import DomainError, NotFound
from shared.jobs import enqueue
from shared.pagination import count
from shared.web import _, form_errors, page, render_form, user

PAGE_SIZE = 25
COMPILE_FIELDS = ("kind", "year", "quarter", "unit_id")


def _page_number() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


def _deadlines(unit_id: uuid.UUID | None) -> list[dict[str, Any]]:
    """The current quarter's and year's deadlines with the units that owe a narrative and
    have not submitted it in time (late), or not yet (pending)."""
    session = request_session()
    now = utcnow()
    lang = g.get("lang", "vi")
    out = []
    for kind in ("quarterly", "annual"):
        period = current(kind, now)
        rows = narratives.status(session, unit_id, period, now)
        out.append(
            {
                "period": period,
                "label": period_label(period, lang),
                "due_at": period.due_at,
                "overdue": now > period.due_at,
                "late": [r for r in rows if r["late"]],
                "pending": [r for r in rows if r["status"] != "submitted" and not r["late"]],
                "submitted": sum(1 for r in rows if r["status"] == "submitted"),
                "owing": len(rows),
            }
        )
    return out


def _compile_defaults(unit_id: uuid.UUID | None) -> dict[str, Any]:
    today = local_today()
    return {
        "kind": "quarterly",
        "year": today.year,
        "quarter": (today.month - 1) // 3 + 1,
        "unit_id": str(unit_id) if unit_id else "",
    }


def _list_context(values: dict[str, Any] | None = None) -> dict[str, Any]:
    session = request_session()
    principal = user()
    units = units_in_scope(session, principal)
    own = scope.default_unit(session, principal)
    try:
        filters = ReportQuery().load(
            {k: v for k, v in request.args.items() if k in ("kind", "year", "quarter") and v}
        )
    except ValidationError:
        filters = {}
    allowed = scope.unit_ids(session, principal, settings())
    stmt = select(Report).order_by(Report.compiled_at.desc(), Report.version.desc())
    if allowed is not None:
        stmt = stmt.where(Report.unit_id.in_([uuid.UUID(u) for u in allowed]))
    for name in ("kind", "year", "quarter"):
        if filters.get(name) is not None:
            stmt = stmt.where(getattr(Report, name) == filters[name])
    total = count(session, stmt)
    pages = max(1, -(-total // PAGE_SIZE))
    page_no = min(_page_number(), pages)
    reports = [
        present(r) for r in session.scalars(stmt.offset((page_no - 1) * PAGE_SIZE).limit(PAGE_SIZE))
    ]
    shown: dict[str, Any] = {
        k: request.args[k] for k in ("kind", "year", "quarter") if request.args.get(k)
    }
    return {
        "reports": reports,
        "page_url": lambda n: url_for("reports_web.report_list", **shown, page=n),
        "total": total,
        "page_no": page_no,
        "pages": pages,
        "filters": {k: request.args.get(k, "") for k in ("kind", "year", "quarter")},
        "deadlines": _deadlines(own),
        "units": unit_options(units),
        "is_admin": principal.is_admin,
        "values": values or _compile_defaults(own),
        "errors": {},
    }


@blp.route("/reports")
@page(*OFFICERS)
def report_list() -> Any:
    return render_template("reports/reports.html", **_list_context())


def _compile_body(values: dict[str, Any]) -> dict[str, Any]:
    data = {k: v for k, v in values.items() if k in COMPILE_FIELDS and v not in ("", None)}
    if data.get("kind") == "annual":
        data.pop("quarter", None)
    return dict(CompileIn().load(data))


@blp.route("/reports/compile", methods=["POST"])
@page(*OFFICERS)
def compile_report_page() -> Any:
    """Two steps without JavaScript: the form's values come back as a confirmation; only the
    confirmed form creates the job."""
    session = request_session()
    principal = user()
    values = {k: request.form.get(k, "").strip() for k in COMPILE_FIELDS}
    try:
        body = _compile_body(values)
        unit_id = body["unit_id"] or scope.default_unit(session, principal)
        if unit_id is not None:
            scope.require_unit(session, principal, unit_id, settings())
        period = period_of(body)
        as_of_for(period, None)  # a period not started has no figures
    except (ValidationError, DomainError) as exc:
        return render_form(
            "reports/reports.html", **{**_list_context(values), "errors": form_errors(exc)}
        )
    if request.form.get("confirm") != "yes":
        units = units_in_scope(session, principal)
        return render_template(
            "reports/compile_confirm.html",
            values=values,
            period_text=period_label(period, g.get("lang", "vi")),
            unit_text=unit_name(units, unit_id),
        )
    job = compiling.request(
        session, period, unit_id, trigger="on_demand", actor=principal.account_id
    )
    enqueue(session, job, compile_report, queue="reports")
    flash(_("Đã yêu cầu lập báo cáo."))
    return redirect(url_for("reports_web.job", job_id=job.id), 303)


def _job(job_id: uuid.UUID) -> Job:
    """The same rule as the API's job: the administrator every job; an officer the jobs of
    the units in scope."""
    session = request_session()
    principal = user()
    job = session.get(Job, job_id)
    if job is None or job.kind != compiling.JOB_KIND:
        abort(404)
    if not principal.is_admin and (job.unit_id is None or job.created_by != principal.account_id):
        if job.unit_id is None:
            abort(404)
        scope.require_unit(session, principal, job.unit_id, settings())
    return job


def _job_context(job: Job) -> dict[str, Any]:
    finished = job.status in ("done", "failed")
    report_id = (job.result or {}).get("report_id") if job.status == "done" else None
    return {
        "job": job,
        "finished": finished,
        "report_url": url_for("reports_web.report", report_id=report_id) if report_id else None,
        "poll_url": url_for("reports_web.job_progress", job_id=job.id),
    }


@blp.route("/reports/jobs/<uuid:job_id>")
@page(*OFFICERS)
def job(job_id: uuid.UUID) -> Any:
    return render_template("reports/job.html", **_job_context(_job(job_id)))


@blp.route("/reports/jobs/<uuid:job_id>/progress")
@page(*OFFICERS)
def job_progress(job_id: uuid.UUID) -> Any:
    """The fragment htmx polls; when the report is ready it sends the browser there."""
    context = _job_context(_job(job_id))
    response = render_template("reports/_job_progress.html", **context)
    headers = {"HX-Redirect": context["report_url"]} if context["report_url"] else {}
    return response, 200, headers


@blp.route("/reports/<uuid:report_id>")
@page(*OFFICERS)
def report(report_id: uuid.UUID) -> Any:
    session = request_session()
    principal = user()
    found = session.get(Report, report_id)
    if found is None:
        raise NotFound()
    scope.require_unit(session, principal, found.unit_id, settings())
    shown = present(found)
    period = Period.of(found.kind, found.year, found.quarter or None)
    return render_template(
        "reports/report_page.html",
        report=shown,
        figures=found.figures,
        period_text=period_label(period, g.get("lang", "vi")),
        title=shown.title_en if g.get("lang") == "en" else shown.title_vi,  # type: ignore[attr-defined]
        other_versions=session.scalars(
            select(Report)
            .where(
                Report.kind == found.kind,
                Report.year == found.year,
                Report.quarter == found.quarter,
                Report.unit_id == found.unit_id,
            )
            .order_by(Report.version.desc())
            .limit(50)
        ).all(),
    )
