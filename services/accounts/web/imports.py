"""Excel import of establishments for agency officers and the administrator: the template, the
upload (with a dry run), the job page with live progress (htmx polls a fragment; without
JavaScript the page refreshes itself while the job runs), the per-row result table and the
error file. The same checks, job and report as the API."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, flash, make_response, redirect, render_template, request, url_for

from services.accounts.domain import queries, scope
from services.accounts.models import Job
from services.accounts.tasks import run_import
from services.accounts.web import blp
from services.accounts.web.common import labels, paged
from shared.db import request_session
from shared.errors import DomainError, InvalidInput
from shared.jobs import enqueue
from shared.web import _, form_errors, page, render_form, user

OUTCOMES = ("created", "updated", "unchanged", "rejected")


def _upload_page(
    errors: dict[str, list[str]] | None = None, values: dict[str, Any] | None = None
) -> Any:
    session = request_session()
    jobs = paged(session, queries.import_jobs_query(session, user()), size=20)
    context = {
        "jobs": jobs,
        "values": values or {},
        "template_url": f"{request.script_root}/api/v1/jobs/import-template.xlsx",
        **labels(),
    }
    if errors:
        return render_form("accounts/imports.html", errors=errors, **context)
    return render_template("accounts/imports.html", errors={}, **context)


@blp.get("/imports")
@page("admin", "agency")
def imports() -> Any:
    return _upload_page()


@blp.post("/imports")
@page("admin", "agency")
def start_import() -> Any:
    """Check the file at once (nothing is stored when it is refused), then start the job."""
    session = request_session()
    upload = request.files.get("file")
    dry_run = request.form.get("dry_run") == "1"
    try:
        if upload is None or not upload.filename:
            raise InvalidInput.field("file", "Hãy chọn tệp Excel (.xlsx).", "Choose an .xlsx file.")
        job = queries.new_import_job(
            session,
            user(),
            data=upload.read(),
            filename=upload.filename,
            dry_run=dry_run,
            files=current_app.extensions["trace_files"],
        )
    except DomainError as exc:
        if exc.status not in (400, 413, 422):
            raise
        errors = form_errors(exc)
        # A refused file is about the file field, whatever the check that refused it.
        if "file" not in errors:
            errors["file"] = errors.pop("_form", [])
        errors.setdefault("_form", [])
        return _upload_page(errors, {"dry_run": dry_run})
    enqueue(session, job, run_import, queue="imports")
    flash(
        _("Đã nhận tệp; đang kiểm tra thử (không ghi dữ liệu).")
        if dry_run
        else _("Đã nhận tệp; đang nhập.")
    )
    return redirect(url_for("accounts_web.import_job", job_id=job.id), 303)


def _job(job_id: uuid.UUID) -> Job:
    return scope.get_job_for(request_session(), user(), job_id, "import")


@blp.get("/imports/<uuid:job_id>")
@page("admin", "agency")
def import_job(job_id: uuid.UUID) -> Any:
    """The job: live progress while it runs, then the counts, the rows and the error file."""
    session = request_session()
    job = _job(job_id)
    outcome = request.args.get("outcome", "")
    if outcome not in OUTCOMES:
        outcome = ""
    finished = job.status in ("done", "failed")
    rows = paged(session, queries.import_rows_query(job, outcome or None)) if finished else None
    response = make_response(
        render_template(
            "accounts/import_job.html",
            job=job,
            finished=finished,
            rows=rows,
            outcome=outcome,
            outcomes=OUTCOMES,
            report_url=f"{request.script_root}/api/v1/jobs/{job.id}/report.xlsx",
            **labels(),
        )
    )
    return response


@blp.get("/imports/<uuid:job_id>/progress")
@page("admin", "agency")
def import_progress(job_id: uuid.UUID) -> Any:
    """The progress fragment htmx polls; once the job is over, htmx reloads the whole page."""
    job = _job(job_id)
    finished = job.status in ("done", "failed")
    response = make_response(
        render_template("accounts/_import_progress.html", job=job, finished=finished)
    )
    if finished and request.headers.get("HX-Request"):
        response.headers["HX-Refresh"] = "true"
    response.headers["Cache-Control"] = "no-store"
    return response
