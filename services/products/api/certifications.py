"""Certifications of establishments and products, with their scanned documents."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, request, url_for
from flask_smorest import Blueprint
from marshmallow import Schema

from services.products.api.common import (
    etag,
    expected_version,
    file_ref,
    files,
    max_upload_bytes,
    send_stored,
)
from services.products.domain import certifications as ops
from services.products.models import Certification
from services.products.schemas.common import Reason
from services.products.schemas.products import (
    CertificationIn,
    CertificationOut,
    CertificationPatch,
    CertificationQuery,
)
from shared.auth import authenticated
from shared.db import on_commit, request_session
from shared.errors import NotFound
from shared.pagination import paginate
from shared.uploads import DOCUMENT_KINDS, accept_upload

PREFIX = "certifications"
blp = Blueprint("certifications", __name__, description="Certifications (chứng nhận)")


class DeleteIn(Schema):
    reason = Reason


def present(certification: Certification) -> Certification:
    certification.state = ops.state(certification)  # type: ignore[attr-defined]
    certification.document = file_ref(  # type: ignore[attr-defined]
        certification.document_key,
        url_for("certifications.get_document", certification_id=certification.id),
        name=certification.document_name,
        content_type=certification.document_type,
        size=certification.document_size,
    )
    return certification


@blp.get("/")
@blp.arguments(CertificationQuery, location="query")
@blp.response(200, CertificationOut(many=True))
@blp.paginate()
def list_certifications(args: dict[str, Any], pagination_parameters: Any) -> list[Any]:
    """Certifications in scope; `state=expiring` lists those ending within six months."""
    principal = authenticated()
    session = request_session()
    rows = paginate(session, ops.query(session, principal, args), pagination_parameters)
    return [present(c) for c in rows]


@blp.post("/")
@blp.arguments(CertificationIn)
@blp.response(201, CertificationOut)
def create_certification(body: dict[str, Any]) -> Any:
    """Record a certification of an establishment, or of one of its products (`product_id`)."""
    principal = authenticated()
    return etag(present(ops.create(request_session(), actor=principal, data=body)), 201)


@blp.get("/<uuid:certification_id>")
@blp.response(200, CertificationOut)
def get_certification(certification_id: uuid.UUID) -> Any:
    principal = authenticated()
    return etag(present(ops.get_for(request_session(), principal, certification_id)))


@blp.patch("/<uuid:certification_id>")
@blp.arguments(CertificationPatch)
@blp.response(200, CertificationOut)
def update_certification(body: dict[str, Any], certification_id: uuid.UUID) -> Any:
    """Edit a certification (e.g. after renewal). `If-Match` is required."""
    principal = authenticated()
    session = request_session()
    certification = ops.get_for(session, principal, certification_id)
    ops.update(
        session,
        actor=principal,
        certification=certification,
        data=body,
        expected_version=expected_version(),
    )
    return etag(present(certification))


@blp.delete("/<uuid:certification_id>")
@blp.arguments(DeleteIn, location="query")
@blp.response(204)
def delete_certification(args: dict[str, Any], certification_id: uuid.UUID) -> None:
    """Delete a certification recorded by mistake (`reason` required; audited)."""
    principal = authenticated()
    session = request_session()
    certification = ops.get_for(session, principal, certification_id)
    document = certification.document_key
    ops.delete(session, actor=principal, certification=certification, reason=args["reason"])
    if document:
        on_commit(session, lambda: files().delete(document))


@blp.put("/<uuid:certification_id>/document")
@blp.response(200, CertificationOut)
def put_document(certification_id: uuid.UUID) -> Any:
    """Upload the scanned document (multipart field `file`: PDF, PNG, JPEG or WebP, checked
    by content, at most `UPLOAD_MAX_MB`); stored under a generated name."""
    principal = authenticated()
    session = request_session()
    certification = ops.get_for(session, principal, certification_id)
    upload = accept_upload(
        request.files.get("file"), kinds=DOCUMENT_KINDS, max_bytes=max_upload_bytes()
    )
    key = upload.key("products", "certifications")
    old = ops.set_document(
        session,
        actor=principal,
        certification=certification,
        key=key,
        content_type=upload.content_type,
        name=upload.original_name,
        size=upload.size,
    )
    files().save(key, upload.data)
    if old:
        on_commit(session, lambda: files().delete(old))
    return etag(present(certification))


@blp.get("/<uuid:certification_id>/document")
@blp.response(200, content_type="application/octet-stream")
def get_document(certification_id: uuid.UUID) -> Response:
    """Download the scanned document (same scope as the certification)."""
    principal = authenticated()
    certification = ops.get_for(request_session(), principal, certification_id)
    if not certification.document_key or not certification.document_type:
        raise NotFound("Chưa có bản scan.", "No document has been uploaded.")
    return send_stored(
        certification.document_key,
        certification.document_type,
        certification.document_name or f"chung-nhan.{certification.document_key[-3:]}",
        inline=False,
    )
