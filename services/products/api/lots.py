"""Lots and their production diary: list, create (from inputs and outside supplies), read,
edit, hold/release/destroy, split; stage events with attachments; outside suppliers."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, request, url_for
from flask_smorest import Blueprint
from sqlalchemy import select

from services.products.api.common import (
    etag,
    expected_version,
    files,
    max_upload_bytes,
    send_stored,
)
from services.products.domain import lots as lot_ops
from services.products.domain import scope
from services.products.models import DirectoryEstablishment, Lot, LotSource, Product, StageEvent
from services.products.schemas.lots import (
    LotIn,
    LotOut,
    LotPatch,
    LotQuery,
    LotStatusIn,
    SourceIn,
    SourceOut,
    SplitIn,
    StageIn,
    StageOut,
    VoidIn,
)
from shared.auth import authenticated
from shared.db import request_session
from shared.errors import NotFound
from shared.pagination import paginate
from shared.uploads import DOCUMENT_KINDS, accept_upload

PREFIX = "lots"
blp = Blueprint("lots", __name__, description="Lots (lô) and the production diary")


def present(rows: list[Lot]) -> list[Lot]:
    """Attach product, establishment and open-recall facts, in three queries for the page."""
    if not rows:
        return rows
    session = request_session()
    product_ids = {lot.product_id for lot in rows}
    est_ids = {lot.establishment_id for lot in rows}
    products = {
        p.id: p for p in session.scalars(select(Product).where(Product.id.in_(product_ids)))
    }
    names = dict(
        session.execute(
            select(DirectoryEstablishment.id, DirectoryEstablishment.name).where(
                DirectoryEstablishment.id.in_(est_ids)
            )
        ).all()
    )
    recalls = lot_ops.open_recalls(session, [lot.id for lot in rows])
    for lot in rows:
        product = products[lot.product_id]
        lot.product_name = product.name  # type: ignore[attr-defined]
        lot.product_code = product.code  # type: ignore[attr-defined]
        lot.gtin = product.gtin  # type: ignore[attr-defined]
        lot.establishment_name = names.get(lot.establishment_id)  # type: ignore[attr-defined]
        lot.open_recalls = [  # type: ignore[attr-defined]
            {"id": str(r.id), "number": r.number, "status": r.status, "kind": r.kind}
            for r in recalls.get(lot.id, [])
        ]
    return rows


def present_one(lot: Lot, status: int = 200) -> Any:
    return etag(present([lot])[0], status)


def present_stage(event: StageEvent) -> StageEvent:
    # A plain attribute, never the mapped column: the stored keys must not change.
    event.attachment_refs = [  # type: ignore[attr-defined]
        {
            **item,
            "key": item["key"].rsplit("/", 1)[-1],
            "url": url_for(
                "lots.get_attachment",
                lot_id=event.lot_id,
                stage_id=event.id,
                name=item["key"].rsplit("/", 1)[-1],
            ),
        }
        for item in (event.attachments or [])
    ]
    return event


@blp.get("/")
@blp.arguments(LotQuery, location="query")
@blp.response(200, LotOut(many=True))
@blp.paginate()
def list_lots(args: dict[str, Any], pagination_parameters: Any) -> list[Lot]:
    """Lots in the caller's scope (an establishment: its own; lots shipped to it are under
    /shipments?direction=incoming), newest first."""
    principal = authenticated()
    session = request_session()
    return present(
        paginate(session, lot_ops.lot_query(session, principal, args), pagination_parameters)
    )


@blp.post("/")
@blp.arguments(LotIn)
@blp.response(201, LotOut)
def create_lot(body: dict[str, Any]) -> Any:
    """Record a lot of a product. `inputs` are the establishment's own lots it was made from
    (several lots of the same product: a merge; other products: processing); `sources` are
    supplies from outside the system. Lot codes are unique within the product."""
    principal = authenticated()
    return present_one(lot_ops.create(request_session(), actor=principal, data=body), 201)


@blp.get("/<uuid:lot_id>")
@blp.response(200, LotOut)
def get_lot(lot_id: uuid.UUID) -> Any:
    """One lot, with its open recalls. The recipient of a shipment may read the shipped lot."""
    principal = authenticated()
    return present_one(lot_ops.get_lot_for(request_session(), principal, lot_id))


def _managed_lot(lot_id: uuid.UUID) -> Lot:
    principal = authenticated()
    session = request_session()
    lot = lot_ops.get_lot_for(session, principal, lot_id)
    scope.require_manages(session, principal, lot.establishment_id)
    return lot


@blp.patch("/<uuid:lot_id>")
@blp.arguments(LotPatch)
@blp.response(200, LotOut)
def update_lot(body: dict[str, Any], lot_id: uuid.UUID) -> Any:
    """Correct a lot's code, dates or quantity. `If-Match` is required (412 when stale)."""
    lot = _managed_lot(lot_id)
    lot_ops.update(
        request_session(),
        actor=authenticated(),
        lot=lot,
        data=body,
        expected_version=expected_version(),
    )
    return present_one(lot)


@blp.post("/<uuid:lot_id>/status")
@blp.arguments(LotStatusIn)
@blp.response(200, LotOut)
def set_lot_status(body: dict[str, Any], lot_id: uuid.UUID) -> Any:
    """Hold a lot, release it, or record it destroyed, with a reason. A recalled lot is
    released only by its recall (cancelled), never here."""
    lot = _managed_lot(lot_id)
    lot_ops.set_status(
        request_session(),
        actor=authenticated(),
        lot=lot,
        status=body["status"],
        reason=body["reason"],
    )
    return present_one(lot)


@blp.post("/<uuid:lot_id>/split")
@blp.arguments(SplitIn)
@blp.response(201, LotOut(many=True))
def split_lot(body: dict[str, Any], lot_id: uuid.UUID) -> list[Lot]:
    """Split a lot into new lots of the same product (at least two parts)."""
    lot = _managed_lot(lot_id)
    created = lot_ops.split(
        request_session(),
        actor=authenticated(),
        lot=lot,
        parts=body["parts"],
        occurred_at=body["occurred_at"],
    )
    return present(created)


@blp.get("/<uuid:lot_id>/stages")
@blp.response(200, StageOut(many=True))
def list_stages(lot_id: uuid.UUID) -> list[StageEvent]:
    """The lot's production diary in time order (voided entries included, marked)."""
    principal = authenticated()
    session = request_session()
    lot = lot_ops.get_lot_for(session, principal, lot_id)
    return [present_stage(e) for e in lot_ops.diary(session, lot)]


@blp.post("/<uuid:lot_id>/stages")
@blp.arguments(StageIn)
@blp.response(201, StageOut)
def add_stage(body: dict[str, Any], lot_id: uuid.UUID) -> StageEvent:
    """Add a diary entry: production, pre-processing, processing, packing or storage, with
    time, place and actor. (Shipping and receiving are recorded by shipments.)"""
    lot = _managed_lot(lot_id)
    event = lot_ops.add_stage(request_session(), actor=authenticated(), lot=lot, data=body)
    return present_stage(event)


@blp.post("/<uuid:lot_id>/stages/<uuid:stage_id>/void")
@blp.arguments(VoidIn)
@blp.response(200, StageOut)
def void_stage(body: dict[str, Any], lot_id: uuid.UUID, stage_id: uuid.UUID) -> StageEvent:
    """Void a wrong diary entry (it stays in the record, marked, with the reason)."""
    lot = _managed_lot(lot_id)
    session = request_session()
    event = lot_ops.get_stage(session, lot, stage_id)
    return present_stage(
        lot_ops.void_stage(session, actor=authenticated(), event=event, reason=body["reason"])
    )


@blp.post("/<uuid:lot_id>/stages/<uuid:stage_id>/attachments")
@blp.response(201, StageOut)
def add_attachment(lot_id: uuid.UUID, stage_id: uuid.UUID) -> StageEvent:
    """Attach a photo or document to a diary entry (multipart field `file`: PNG, JPEG, WebP
    or PDF, checked by content, at most `UPLOAD_MAX_MB`)."""
    lot = _managed_lot(lot_id)
    session = request_session()
    event = lot_ops.get_stage(session, lot, stage_id)
    upload = accept_upload(
        request.files.get("file"), kinds=DOCUMENT_KINDS, max_bytes=max_upload_bytes()
    )
    key = upload.key("products", "diary")
    lot_ops.attach(
        session,
        actor=authenticated(),
        event=event,
        key=key,
        name=upload.original_name,
        content_type=upload.content_type,
        size=upload.size,
    )
    files().save(key, upload.data)
    return present_stage(event)


@blp.get("/<uuid:lot_id>/stages/<uuid:stage_id>/attachments/<string:name>")
@blp.response(200, content_type="application/octet-stream")
def get_attachment(lot_id: uuid.UUID, stage_id: uuid.UUID, name: str) -> Response:
    """Download an attachment of a diary entry."""
    principal = authenticated()
    session = request_session()
    lot = lot_ops.get_lot_for(session, principal, lot_id)
    event = lot_ops.get_stage(session, lot, stage_id)
    for item in event.attachments or []:
        if item["key"].rsplit("/", 1)[-1] == name:
            return send_stored(item["key"], item["content_type"], item["name"], inline=False)
    raise NotFound()


@blp.get("/<uuid:lot_id>/sources")
@blp.response(200, SourceOut(many=True))
def list_sources(lot_id: uuid.UUID) -> list[LotSource]:
    """Supplies from outside the system that went into the lot (one step back)."""
    principal = authenticated()
    session = request_session()
    lot = lot_ops.get_lot_for(session, principal, lot_id)
    return list(
        session.scalars(
            select(LotSource).where(LotSource.lot_id == lot.id).order_by(LotSource.created_at)
        )
    )


@blp.post("/<uuid:lot_id>/sources")
@blp.arguments(SourceIn)
@blp.response(201, SourceOut)
def add_source(body: dict[str, Any], lot_id: uuid.UUID) -> LotSource:
    """Record a supply from a supplier outside the system: name, address, code, their lot,
    time and place of handover, quantity."""
    lot = _managed_lot(lot_id)
    return lot_ops.add_source(request_session(), lot, body, actor=authenticated())
