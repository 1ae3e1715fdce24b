"""Product-level and lot-level QR codes."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, current_app, url_for
from flask_smorest import Blueprint
from sqlalchemy import select

from services.labels.domain import qrcodes
from services.labels.domain.directory import COPY
from services.labels.models import QrCode
from services.labels.schemas.batches import CodeIn, CodeOut
from shared.auth import authenticated
from shared.db import request_session
from shared.pagination import paginate

PREFIX = "codes"
blp = Blueprint("codes", __name__, description="QR codes of products and lots")


def _settings() -> Any:
    return current_app.config["SETTINGS"]


def present(code: QrCode) -> QrCode:
    code.url = qrcodes.url(_settings(), code)  # type: ignore[attr-defined]
    code.image_url = url_for("codes.code_image", code_id=code.id, kind="svg")  # type: ignore[attr-defined]
    return code


@blp.get("/")
@blp.response(200, CodeOut(many=True))
@blp.paginate()
def list_codes(pagination_parameters: Any) -> list[QrCode]:
    """Product and lot codes in the caller's scope."""
    principal = authenticated()
    session = request_session()
    stmt = (
        select(QrCode)
        .where(COPY.scope_filter(session, principal, QrCode.establishment_id, _settings()))
        .order_by(QrCode.created_at.desc(), QrCode.id)
    )
    return [present(c) for c in paginate(session, stmt, pagination_parameters)]


@blp.post("/")
@blp.arguments(CodeIn)
@blp.response(201, CodeOut)
@blp.alt_response(200, schema=CodeOut, description="The code already existed")
def issue_code(body: dict[str, Any]) -> Any:
    """The QR code of a product (or of a lot, with `lot_id`): a GS1 Digital Link when the
    product has a GTIN, else a short code. Asking again returns the same code."""
    principal = authenticated()
    code, created = qrcodes.issue(
        request_session(),
        actor=principal,
        settings=_settings(),
        product_id=body["product_id"],
        lot_id=body["lot_id"],
    )
    return present(code), 201 if created else 200


@blp.get("/<uuid:code_id>")
@blp.response(200, CodeOut)
def get_code(code_id: uuid.UUID) -> QrCode:
    principal = authenticated()
    return present(qrcodes.get_for(request_session(), principal, _settings(), code_id))


@blp.get("/<uuid:code_id>/image.<any(svg, png):kind>")
@blp.response(200, content_type="image/svg+xml")
def code_image(code_id: uuid.UUID, kind: str) -> Response:
    """The code as an SVG (any size, for print) or PNG image."""
    principal = authenticated()
    code = qrcodes.get_for(request_session(), principal, _settings(), code_id)
    data = qrcodes.image(qrcodes.url(_settings(), code), kind)
    mimetype = "image/svg+xml" if kind == "svg" else "image/png"
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'inline; filename="qr-{code.code}.{kind}"'
    return response
