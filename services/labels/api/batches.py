"""Label batches: order N serialised labels, follow the PDF, download it, void a batch."""

from __future__ import annotations

import importlib
import uuid
from typing import Any

from flask import Response, current_app, url_for
from flask_smorest import Blueprint

from services.labels.domain import batches, codes
from services.labels.models import Job, LabelBatch
from services.labels.schemas.batches import BatchIn, BatchOut, BatchQuery, VoidIn
from shared.auth import authenticated
from shared.db import request_session
from shared.errors import Conflict
from shared.pagination import paginate

PREFIX = "batches"
blp = Blueprint("batches", __name__, description="Label batches (đợt in tem) and their PDFs")


def _settings() -> Any:
    return current_app.config["SETTINGS"]


def _printing() -> Any:
    """The print pipeline (domain/printing.py), when present."""
    try:
        return importlib.import_module("services.labels.domain.printing")
    except ModuleNotFoundError as exc:
        if exc.name != "services.labels.domain.printing":
            raise
        return None


def present(batch: LabelBatch) -> LabelBatch:
    key = _settings().serial_signing_key
    batch.first_code = codes.serial_code(key, batch.serial_start)  # type: ignore[attr-defined]
    batch.last_code = codes.serial_code(key, batch.serial_end)  # type: ignore[attr-defined]
    job = request_session().get(Job, batch.job_id) if batch.job_id else None
    job_status = {"running": "rendering"}.get(job.status, job.status) if job else "queued"
    status = "void" if batch.voided_at else job_status
    batch.status = status  # type: ignore[attr-defined]
    batch.progress = (  # type: ignore[attr-defined]
        {"done": job.progress_done, "total": job.progress_total} if job else None
    )
    batch.pdf_url = (  # type: ignore[attr-defined]
        url_for("batches.batch_pdf", batch_id=batch.id)
        if job is not None and job.status == "done" and not batch.voided_at
        else None
    )
    return batch


@blp.get("/")
@blp.arguments(BatchQuery, location="query")
@blp.response(200, BatchOut(many=True))
@blp.paginate()
def list_batches(args: dict[str, Any], pagination_parameters: Any) -> list[LabelBatch]:
    """Label batches in the caller's scope, newest first."""
    principal = authenticated()
    session = request_session()
    stmt = batches.query(session, principal, _settings(), args)
    return [present(b) for b in paginate(session, stmt, pagination_parameters)]


@blp.post("/")
@blp.arguments(BatchIn)
@blp.response(201, BatchOut)
def order_batch(body: dict[str, Any]) -> LabelBatch:
    """Order `quantity` serialised labels for a product or a lot, with a print template
    (sticker preset and the fields that print). Serials are allocated as a range, never
    shared with another batch; the PDF is rendered by the `labels` workers (follow `status`
    and `progress`, then download `pdf_url`). A recalled or destroyed lot gets no labels."""
    principal = authenticated()
    session = request_session()
    template = dict(body["template"])
    template["fields"] = template.pop("fields_")
    batch = batches.order(
        session,
        actor=principal,
        settings=_settings(),
        product_id=body["product_id"],
        lot_id=body["lot_id"],
        quantity=body["quantity"],
        template=template,
    )
    printing = _printing()
    if printing is not None:
        printing.start(session, batch, actor=principal)
    return present(batch)


@blp.get("/<uuid:batch_id>")
@blp.response(200, BatchOut)
def get_batch(batch_id: uuid.UUID) -> LabelBatch:
    principal = authenticated()
    return present(batches.get_for(request_session(), principal, _settings(), batch_id))


@blp.post("/<uuid:batch_id>/void")
@blp.arguments(VoidIn)
@blp.response(200, BatchOut)
def void_batch(body: dict[str, Any], batch_id: uuid.UUID) -> LabelBatch:
    """Void a batch (lost, stolen, misprinted): its codes resolve as void on the trace page."""
    principal = authenticated()
    session = request_session()
    batch = batches.get_for(session, principal, _settings(), batch_id)
    return present(batches.void(session, actor=principal, batch=batch, reason=body["reason"]))


@blp.get("/<uuid:batch_id>/pdf")
@blp.response(200, content_type="application/pdf")
def batch_pdf(batch_id: uuid.UUID) -> Response:
    """The finished PDF of the batch (409 while it is being rendered or after a void)."""
    from flask import send_file

    principal = authenticated()
    session = request_session()
    batch = batches.get_for(session, principal, _settings(), batch_id)
    job = session.get(Job, batch.job_id) if batch.job_id else None
    if batch.voided_at or job is None or job.status != "done" or not job.result_file:
        raise Conflict(
            "Tệp PDF chưa sẵn sàng (hoặc đợt tem đã bị huỷ).",
            "The PDF is not ready (or the batch was voided).",
            code="pdf_not_ready",
        )
    handle = current_app.extensions["trace_files"].open(job.result_file)
    return send_file(
        handle,
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"{batch.number}.pdf",
    )
