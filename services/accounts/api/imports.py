"""Excel import of establishments (an `imports` job) and bulk account grants (a job too)."""

from __future__ import annotations

import io
import uuid
from typing import Any

from flask import Response, current_app, request, send_file
from flask_smorest import Blueprint

from services.accounts.domain import exports, queries, scope
from services.accounts.domain.imports import report_rows_xlsx
from services.accounts.models import ImportRow, Job
from services.accounts.schemas import (
    BulkGrantIn,
    ImportRowOut,
    ImportRowQuery,
    JobOut,
    UploadForm,
)
from services.accounts.tasks import run_bulk_grant, run_import
from shared.auth import Principal, authenticated
from shared.db import request_session
from shared.errors import InvalidInput, NotFound
from shared.files import FileStore
from shared.jobs import enqueue
from shared.pagination import paginate

PREFIX = "jobs"
blp = Blueprint("jobs", __name__, description="Excel import and bulk grants (jobs)")


def _files() -> FileStore:
    store: FileStore = current_app.extensions["trace_files"]
    return store


def _job_for(principal: Principal, job_id: uuid.UUID, kind: str | None = None) -> Job:
    return scope.get_job_for(request_session(), principal, job_id, kind)


@blp.get("/import-template.xlsx")
@blp.response(200, content_type=exports.XLSX)
def import_template() -> Response:
    """The Excel template agencies fill in (Vietnamese headers, one example row)."""
    scope.require_manager(authenticated())
    buffer = io.BytesIO()
    exports.write_template(buffer)
    buffer.seek(0)
    return send_file(
        buffer, mimetype=exports.XLSX, as_attachment=True, download_name="mau-danh-sach-co-so.xlsx"
    )


@blp.post("/imports")
@blp.arguments(UploadForm, location="form")
@blp.response(202, JobOut)
@blp.doc(
    requestBody={
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "dry_run": {"type": "boolean"},
                    },
                }
            }
        }
    }
)
def start_import(form: dict[str, Any]) -> Job:
    """Upload an .xlsx list of establishments. The file is checked at once (type, size, zip
    bomb, XML entities, password, empty sheet, required columns — 413/422 and nothing
    imported); then a job validates every row and upserts by business registration number.
    `dry_run=true` shows the outcome without writing. Poll the job for progress."""
    principal = authenticated()
    scope.require_manager(principal)
    upload = request.files.get("file")
    if upload is None:
        raise InvalidInput.field("file", "Hãy chọn tệp Excel (.xlsx).", "Choose an .xlsx file.")
    session = request_session()
    job = queries.new_import_job(
        session,
        principal,
        data=upload.read(),
        filename=upload.filename,
        dry_run=form["dry_run"],
        files=_files(),
    )
    enqueue(session, job, run_import, queue="imports")
    return job


@blp.get("/<uuid:job_id>")
@blp.response(200, JobOut)
def get_job(job_id: uuid.UUID) -> Job:
    """Status, progress and counts of an import or a bulk grant."""
    return _job_for(authenticated(), job_id)


@blp.get("/<uuid:job_id>/rows")
@blp.arguments(ImportRowQuery, location="query")
@blp.response(200, ImportRowOut(many=True))
@blp.paginate()
def import_rows(
    args: dict[str, Any], job_id: uuid.UUID, pagination_parameters: Any
) -> list[ImportRow]:
    """Per-row outcome of an import (created, updated, unchanged, rejected and why)."""
    job = _job_for(authenticated(), job_id, "import")
    stmt = queries.import_rows_query(job, args.get("outcome"))
    return paginate(request_session(), stmt, pagination_parameters)


@blp.get("/<uuid:job_id>/report.xlsx")
@blp.response(200, content_type=exports.XLSX)
def import_report(job_id: uuid.UUID) -> Response:
    """The import's report: every row with its outcome and an error column."""
    job = _job_for(authenticated(), job_id, "import")
    if job.status != "done":
        raise NotFound(
            "Báo cáo chưa sẵn sàng.", "The report is not ready yet.", code="report_not_ready"
        )
    buffer = io.BytesIO()
    report_rows_xlsx(request_session(), job, buffer)
    buffer.seek(0)
    return send_file(
        buffer,
        mimetype=exports.XLSX,
        as_attachment=True,
        download_name=f"ket-qua-nhap-{job.id}.xlsx",
    )


@blp.post("/bulk-grants")
@blp.arguments(BulkGrantIn)
@blp.response(202, JobOut)
def start_bulk_grant(body: dict[str, Any]) -> Job:
    """Grant accounts to many establishments at once; the one-time passwords come in the
    job's result file, for the officer who started it."""
    principal = authenticated()
    scope.require_manager(principal)
    session = request_session()
    job = Job(
        id=uuid.uuid4(),
        kind="bulk_grant",
        status="queued",
        created_by=principal.account_id,
        unit_id=principal.unit_id,
        params={"establishment_ids": [str(i) for i in dict.fromkeys(body["establishment_ids"])]},
    )
    session.add(job)
    session.flush()
    enqueue(session, job, run_bulk_grant, queue="default")
    return job


@blp.get("/<uuid:job_id>/result.xlsx")
@blp.response(200, content_type=exports.XLSX)
def bulk_grant_result(job_id: uuid.UUID) -> Response:
    """The granted logins and one-time passwords — only for the officer who started the job."""
    principal = authenticated()
    job = scope.get_job_for(request_session(), principal, job_id, "bulk_grant", starter_only=True)
    key = (job.result or {}).get("file")
    if job.status != "done" or not key or not _files().exists(key):
        raise NotFound(
            "Kết quả chưa sẵn sàng.", "The result is not ready yet.", code="report_not_ready"
        )
    return send_file(
        _files().path(key),
        mimetype=exports.XLSX,
        as_attachment=True,
        download_name=f"tai-khoan-{job.id}.xlsx",
    )
